"""The weights that ship with synthdiff: they load by name, and on the bundled example pairs (a
hand-made scene the models never saw) they point at the feature that was changed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from synthdiff.change import detect, load_checkpoint, shipped_models

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FEATURES = ["illumination", "reflection", "texture", "transparency"]


def changed_fractions(example: str, model: str) -> dict[str, float]:
    pair = EXAMPLES / example
    summary = detect(pair / "reference.png", pair / "test.png", model).to_dict()["features"]
    return {name: values["changed_fraction"] for name, values in summary.items()}


def test_the_models_ship_with_thresholds_tuned_on_validation() -> None:
    assert shipped_models() == ["changestar", "fresunet", "fresunet-attention", "fresunet-wide"]
    for name in shipped_models():
        _, metadata = load_checkpoint(name)
        assert metadata["model"] == name and metadata["features"] == FEATURES
        assert all(0.0 < t < 1.0 for t in metadata["thresholds"].values())
        assert metadata["config"]["val_change_f1"] > 0.6  # selected on the validation split


@pytest.mark.parametrize("model", ["fresunet-wide", "fresunet-attention", "fresunet", "changestar"])
def test_a_shifted_floor_texture_is_found_as_a_texture_change(model: str) -> None:
    fractions = changed_fractions("shifted-texture", model)
    assert max(fractions, key=fractions.__getitem__) == "texture"
    assert fractions["texture"] > 0.1  # the floor covers about half of the picture


@pytest.mark.parametrize("model", ["fresunet-wide", "fresunet-attention", "fresunet"])
def test_fresunet_finds_a_glossy_sphere_as_a_reflection_change(model: str) -> None:
    fractions = changed_fractions("wrong-roughness", model)
    assert max(fractions, key=fractions.__getitem__) == "reflection"
    assert fractions["reflection"] > 0.02
    # At most a speck of texture beside the reflection change: 0.07 % of the picture against 12 %
    # with the weights of 2026-11-23, 0.58 % against 9.1 % with those of 2026-12-02.
    assert fractions["texture"] < 0.1 * fractions["reflection"]


@pytest.mark.parametrize(
    "model",
    [
        # A known failure, measured on the 24 illumination pairs of this hand-made scene too: it marks
        # reflection on 32 % of their pixels, stage 6b on 26 % (docs/models.md, stage 7c). On this pair
        # it marks reflection on 69 % of the picture and illumination on 58 %.
        # fresunet-wide (the default since 2026-12-04): reflection on 41 % of those pixels; on this pair
        # reflection 68 %, illumination 57 %, transparency 46 % (docs/models.md, stage 12).
        pytest.param(
            "fresunet-wide",
            marks=pytest.mark.xfail(strict=True, reason="marks more reflection than illumination here"),
        ),
        pytest.param(
            "fresunet-attention",
            marks=pytest.mark.xfail(strict=True, reason="marks more reflection than illumination here"),
        ),
        "fresunet",
        "changestar",
    ],
)
def test_a_moved_light_is_found_as_an_illumination_change(model: str) -> None:
    # FresUNet's weights of 2026-11-23 marked more of this picture as reflection (66 %) than as
    # illumination (61 %); those of 2026-12-02 mark illumination 65 % and reflection 48 %.
    fractions = changed_fractions("wrong-light", model)
    assert max(fractions, key=fractions.__getitem__) == "illumination"
    assert fractions["illumination"] > 0.2


@pytest.mark.parametrize("name", ["fresunet-wide", "fresunet-attention", "fresunet"])
def test_fresunet_ships_thresholds_for_each_view_set_and_runs_one_view_by_default(name: str) -> None:
    plain, metadata = load_checkpoint(name)
    # Flips did not earn the default (docs/models.md).
    assert type(plain).__name__ == "FresUNet" and metadata["views"] == "none"
    for views in ("flip", "flips", "dihedral"):
        model, tuned = load_checkpoint(name, views=views)
        assert type(model).__name__ == "ViewAverage" and tuned["views"] == views
        assert tuned["thresholds"] != metadata["thresholds"]  # tuned for the views on val


def test_fresunet_with_every_view_still_finds_the_moved_light_as_illumination() -> None:
    # (fresunet-attention marks reflection first on this pair with any views: the known failure above.)
    pair = EXAMPLES / "wrong-light"
    summary = detect(pair / "reference.png", pair / "test.png", "fresunet", views="dihedral").to_dict()
    fractions = {feature: values["changed_fraction"] for feature, values in summary["features"].items()}
    assert max(fractions, key=fractions.__getitem__) == "illumination"


def test_an_hdr_copy_of_the_reference_is_not_a_change(tmp_path: Path) -> None:
    # Before the pair was brought to one encoding, the linear copy was taken for a changed light
    # (illumination 72 % and reflection 84 % of the picture).
    from synthdiff.io import load_image, save_exr, srgb_to_linear

    reference = EXAMPLES / "wrong-light" / "reference.png"
    save_exr(tmp_path / "reference.exr", srgb_to_linear(load_image(reference).pixels))
    result = detect(tmp_path / "reference.exr", reference, "fresunet-wide")
    # Clipped and encoded again, the copy is the same picture: nothing changed, and detect says so.
    assert all(values["changed_fraction"] == 0.0 for values in result.to_dict()["features"].values())
    assert result.notes == [
        "the reference image is HDR and the other LDR: the HDR one was clipped and sRGB-encoded",
        "the two images are one picture (no value differs by half an 8-bit step): nothing changed",
    ]


def test_a_test_image_two_pixels_off_is_aligned_before_the_model_runs(tmp_path: Path) -> None:
    # Unaligned, the shift reads as changed texture and transparency along the edges
    # (scripts/change_shift_diagnosis.py: 15 % of unchanged pairs' pixels at 2 pixels).
    import cv2

    from synthdiff.io import load_image, save_png

    reference = EXAMPLES / "shifted-texture" / "reference.png"
    pixels = load_image(reference).pixels
    moved = cv2.warpAffine(
        pixels, np.float32([[1, 0, 2], [0, 1, 0]]), pixels.shape[1::-1], borderMode=cv2.BORDER_REPLICATE
    )
    save_png(tmp_path / "moved.png", moved)
    aligned = detect(reference, tmp_path / "moved.png", "fresunet-wide").to_dict()
    as_given = detect(reference, tmp_path / "moved.png", "fresunet-wide", align="none").to_dict()
    assert aligned["alignment"]["applied"] == "translation" and aligned["alignment"]["shift"] == [2.0, 0.0]
    assert sum(v["changed_fraction"] for v in aligned["features"].values()) < 0.002
    assert sum(v["changed_fraction"] for v in as_given["features"].values()) > 0.02


@pytest.mark.parametrize("model", ["fresunet-wide", "changestar"])
def test_a_render_compared_with_itself_has_nothing_changed(model: str) -> None:
    # fresunet-wide marked reflection on 0.05 % of this render compared with itself, until 2026-12-07.
    reference = EXAMPLES / "wrong-light" / "reference.png"
    detection = detect(reference, reference, model)
    summary = detection.to_dict()
    assert all(values["changed_fraction"] == 0.0 for values in summary["features"].values())
    assert summary["regions"] == []
    assert "the two images are one picture" in " ".join(detection.notes)
