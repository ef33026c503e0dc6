"""The shipped realness weights (docs/models.md): they load, and they separate a bundled render from
photos that ship with scikit-image. Both kinds of image were among the training sources, so this
checks the shipped files and the scoring path, not generalisation (that is the leave-one-source-out
table in docs/models.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from synthdiff.io import load_image
from synthdiff.realness import load_realness_model, score_image

from ..conftest import EXAMPLES, photo

SHIPPED = {
    # name: (cues, crop, largest file size in MiB)
    "realness-effnet": (("rgb",), 128, 0.1),
    "realness-cnn": (("fourier", "rgb", "residual"), 64, 5.0),
}


@pytest.fixture(scope="module", params=sorted(SHIPPED))
def shipped(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    return request.param, load_realness_model(request.param)


def test_shipped_weights_load_with_their_settings(shipped) -> None:  # type: ignore[no-untyped-def]
    name, model = shipped
    cues, crop, megabytes = SHIPPED[name]
    assert model.settings.cues == cues and model.settings.crop == crop
    assert model.calibration.scale > 0
    path = Path(__file__).resolve().parents[2] / "src" / "synthdiff" / "realness" / "weights" / f"{name}.pt"
    assert path.stat().st_size < megabytes * 2**20


def test_the_default_model_is_the_effnet_one() -> None:
    from synthdiff.realness._registry import DEFAULT_MODEL

    assert DEFAULT_MODEL == "realness-effnet"


@pytest.mark.parametrize("photo_name", ["astronaut", "coffee"])
def test_a_bundled_photo_scores_more_real_than_a_bundled_render(shipped, photo_name: str) -> None:  # type: ignore[no-untyped-def]
    _, model = shipped
    render = load_image(EXAMPLES / "wrong-light" / "test.png").pixels
    render_score = score_image(model, render, check_stability=False)
    photo_score = score_image(model, photo(photo_name), check_stability=False)
    assert photo_score.probability_synthetic < render_score.probability_synthetic
    assert render_score.verdict == "synthetic" and photo_score.verdict == "real"


def test_tiny_images_are_scored(shipped) -> None:  # type: ignore[no-untyped-def]
    _, model = shipped
    rng = np.random.default_rng(0)
    score = score_image(model, rng.random((40, 50, 3), dtype=np.float32))
    assert 0.0 <= score.probability_synthetic <= 1.0 and score.crops == 1


def test_an_image_far_smaller_than_a_crop_is_unsure(shipped) -> None:  # type: ignore[no-untyped-def]
    _, model = shipped
    smallest = model.settings.crop // 4
    rng = np.random.default_rng(1)
    below = score_image(model, rng.random((smallest - 1, 50, 3), dtype=np.float32), check_stability=False)
    assert below.verdict == "unsure" and any("too little to judge" in r for r in below.reasons)
    at = score_image(model, rng.random((smallest, 50, 3), dtype=np.float32), check_stability=False)
    assert not any("too little to judge" in r for r in at.reasons)


def test_an_image_of_one_flat_colour_is_unsure(shipped) -> None:  # type: ignore[no-untyped-def]
    # A black frame from a failed render was called "real" (0.32), a mid-grey 800x600 one too (0.25).
    _, model = shipped
    flat = "the image is one flat colour: no texture or noise to judge"
    for value in (0.0, 0.5, 1.0):
        score = score_image(model, np.full((600, 800, 3), value, np.float32), check_stability=False)
        assert score.verdict == "unsure" and flat in score.reasons, value
    # One 8-bit step of noise is already more than flat: such an image is judged as usual.
    rng = np.random.default_rng(2)
    noisy = 0.5 + rng.integers(-1, 2, (600, 800, 3)).astype(np.float32) / 255
    assert flat not in score_image(model, noisy, check_stability=False).reasons


def test_the_default_reads_efficientnet_lite2() -> None:
    """The shipped default is a realness-effnet-lite2 fit (docs/models.md, the Lite2 speed round), so its
    backbone's weights must be a core dependency."""
    model = load_realness_model("realness-effnet")
    assert model.net.backbone_variant == "lite2"  # type: ignore[union-attr]
