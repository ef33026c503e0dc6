"""``synthdiff detect`` with a (tiny, untrained) checkpoint on a bundled example pair."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from synthdiff.change import create_model, detect, save_checkpoint
from synthdiff.cli import app
from synthdiff.errors import InvalidArgumentError
from tests.conftest import EXAMPLES

FEATURES = ["illumination", "texture"]


def checkpoint(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.pt"
    save_checkpoint(path, create_model("fresunet-tiny", FEATURES), "fresunet-tiny", FEATURES)
    return path


def test_detect_writes_maps_overlays_and_summary(tmp_path: Path) -> None:
    pair = EXAMPLES / "wrong-light"
    result = detect(
        pair / "reference.png", pair / "test.png", checkpoint(tmp_path), tile=128, out=tmp_path / "out"
    )
    summary = json.loads((tmp_path / "out" / "detect.json").read_text())
    assert summary["schema_version"] == "1.6" and set(summary["features"]) == set(FEATURES)
    assert summary["scaled_to"] is None  # a checkpoint without a training size: the pair as it is
    # The page shows the same figures, with every panel embedded (it opens offline, alone).
    page = (tmp_path / "out" / "index.html").read_text()
    assert page.count("data:image/png;base64,") == 4 and 'src="change_' not in page
    for name, values in summary["features"].items():
        assert f"{100 * values['changed_fraction']:.2f} %" in page and f">{name}</td>" in page
    assert summary == json.loads(json.dumps(result.to_dict()))
    for name in (
        "change_illumination.png",
        "change_texture.png",
        "overlay_reference.png",
        "overlay_test.png",
    ):
        with Image.open(tmp_path / "out" / name) as image:
            assert image.size == (320, 240)
    assert result.maps.change["texture"].shape == (240, 320)


def test_detect_cli_and_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    model = checkpoint(tmp_path)
    pair = EXAMPLES / "shifted-texture"
    args = ["detect", str(pair / "reference.png"), str(pair / "test.png"), "-m", str(model)]
    result = runner.invoke(app, [*args, "-o", str(tmp_path / "cli"), "--features", "texture"])
    assert result.exit_code == 0, result.output
    assert "texture" in result.output and "illumination" not in result.output
    result = runner.invoke(app, [*args, "-o", str(tmp_path / "tta"), "--tta", "dihedral"])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "tta" / "detect.json").read_text())["model"]["views"] == "dihedral"

    small = tmp_path / "small.png"
    Image.fromarray(np.zeros((10, 12, 3), np.uint8)).save(small)
    on_small = ["detect", str(pair / "reference.png"), str(small), "-m", str(model)]
    result = runner.invoke(app, [*on_small, "-o", str(tmp_path / "x")])
    assert result.exit_code == 2 and "alignment failed" in result.output and "--resize" in result.output
    # The fix it names works: the test image is scaled to the reference, and the stretch is said.
    result = runner.invoke(app, [*on_small, "-o", str(tmp_path / "r"), "--resize"])
    assert result.exit_code == 0, result.output
    assert "test resized from 12x10 to 320x240; its aspect ratio changed" in result.output
    notes = json.loads((tmp_path / "r" / "detect.json").read_text())["notes"]
    assert any(note.startswith("test resized from 12x10") for note in notes)
    result = runner.invoke(app, [*on_small, "-o", str(tmp_path / "x"), "--align", "none"])
    assert result.exit_code == 2 and "one size with --align none" in result.output
    result = runner.invoke(app, [*args, "-o", str(tmp_path / "y"), "--features", "reflection"])
    assert result.exit_code == 2 and "features this model knows" in result.output
    # Repeated, --features adds up (a repeated option kept its last value: reflection was dropped silently).
    repeated = ["--features", "reflection", "--features", "texture"]
    result = runner.invoke(app, [*args, "-o", str(tmp_path / "y"), *repeated])
    assert result.exit_code == 2 and "knows (illumination, texture), got ['reflection']" in result.output
    result = runner.invoke(
        app, [*args, "-o", str(tmp_path / "y"), "--features", " texture,", "--features", "texture"]
    )
    assert result.exit_code == 0 and result.output.count("change thresholds texture 0.50\n") == 1, (
        result.output
    )
    result = runner.invoke(app, [*args, "-o", str(tmp_path / "t"), "--threshold", "1.5"])
    assert result.exit_code == 2 and "between 0 and 1, got 1.5" in result.output
    result = runner.invoke(app, [*args, "-o", str(tmp_path / "z"), "--device", "tpu9"])
    assert result.exit_code == 2 and "auto, cpu, cuda or cuda:N" in result.output


def test_detect_on_the_cpu_by_name_and_a_missing_gpu(tmp_path: Path) -> None:
    pair = EXAMPLES / "wrong-light"
    model = checkpoint(tmp_path)
    auto = detect(pair / "reference.png", pair / "test.png", model, tile=128)
    named = detect(pair / "reference.png", pair / "test.png", model, tile=128, device="cpu")
    if torch.cuda.is_available():  # auto ran on the GPU: the same maps up to rounding
        np.testing.assert_allclose(auto.maps.change["texture"], named.maps.change["texture"], atol=1e-3)
    else:
        assert np.array_equal(auto.maps.change["texture"], named.maps.change["texture"])
        with pytest.raises(InvalidArgumentError, match="torch sees none"):
            detect(pair / "reference.png", pair / "test.png", model, device="cuda")


def test_compare_report_gains_a_rendering_feature_section(tmp_path: Path) -> None:
    from synthdiff import compare

    pair = EXAMPLES / "wrong-roughness"
    plain = compare(pair / "reference.png", pair / "test.png", fast=True)
    assert plain.to_dict()["rendering_features"] is None
    result = compare(pair / "reference.png", pair / "test.png", fast=True, change_model=checkpoint(tmp_path))
    section = result.to_dict()["rendering_features"]
    assert section["model"]["features"] == FEATURES and set(section["features"]) == set(FEATURES)
    page = result.save_report(tmp_path / "report")
    html = page.read_text()
    assert "Which rendering feature changed" in html and "texture: change probability" in html
    assert (tmp_path / "report" / "feature_texture.png").is_file()
    assert section["scaled_to"] is None
    # With a training size under the pair's, the model runs on the pair scaled down, as detect does.
    from synthdiff.change import set_train_size

    model = tmp_path / "small.pt"
    model.write_bytes(checkpoint(tmp_path).read_bytes())
    set_train_size(model, 120)
    scaled = compare(pair / "reference.png", pair / "test.png", fast=True, change_model=model)
    assert scaled.to_dict()["rendering_features"]["scaled_to"] == [160, 120]
    assert "scaled down to 160x120 pixels" in scaled.save_report(tmp_path / "scaled").read_text()
    assert scaled.feature_maps is not None and scaled.feature_maps.change["texture"].shape == (240, 320)
    native = compare(
        pair / "reference.png", pair / "test.png", fast=True, change_model=model, change_native_size=True
    )
    assert native.to_dict()["rendering_features"]["scaled_to"] is None


def test_compare_reads_a_rewritten_checkpoint_again_and_checks_the_device(tmp_path: Path) -> None:
    """compare keeps a loaded change model for the next pair, but not once its file has changed."""
    import os

    from synthdiff import compare

    pair = EXAMPLES / "wrong-light"
    path = tmp_path / "tiny.pt"

    def change_map(seed: int) -> np.ndarray:
        torch.manual_seed(seed)
        save_checkpoint(path, create_model("fresunet-tiny", FEATURES), "fresunet-tiny", FEATURES)
        stat = path.stat()  # a later mtime even where the clock is coarse
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + seed * 1_000_000_000))
        result = compare(
            pair / "reference.png", pair / "test.png", fast=True, change_model=path, device="cpu"
        )
        assert result.feature_maps is not None
        return result.feature_maps.change["texture"]

    first, again, other = change_map(1), change_map(1), change_map(2)
    assert np.array_equal(first, again) and not np.allclose(first, other)
    with pytest.raises(InvalidArgumentError, match="auto, cpu, cuda or cuda:N"):
        compare(pair / "reference.png", pair / "test.png", fast=True, change_model=path, device="tpu9")
    # Without a learned model the device is not looked at.
    assert compare(pair / "reference.png", pair / "test.png", fast=True, device="tpu9").feature_maps is None


def test_a_pair_larger_than_the_training_images_is_scaled_down_for_the_model(tmp_path: Path) -> None:
    from synthdiff.change import set_train_size

    model = checkpoint(tmp_path)
    set_train_size(model, 120)
    pair = EXAMPLES / "wrong-light"
    runner = CliRunner()
    args = ["detect", str(pair / "reference.png"), str(pair / "test.png"), "-m", str(model), "--tile", "128"]
    result = runner.invoke(app, [*args, "-o", str(tmp_path / "scaled")])
    assert result.exit_code == 0, result.output
    assert "scaled down to 160x120, the size it was trained at" in result.output
    summary = json.loads((tmp_path / "scaled" / "detect.json").read_text())
    assert summary["scaled_to"] == [160, 120] and summary["model"]["train_size"] == 120
    assert "scaled down to 160x120 pixels" in (tmp_path / "scaled" / "index.html").read_text()
    with Image.open(tmp_path / "scaled" / "change_texture.png") as image:
        assert image.size == (320, 240)  # the maps come back at the pair's size
    result = runner.invoke(app, [*args, "-o", str(tmp_path / "native"), "--native-size"])
    assert result.exit_code == 0, result.output
    assert "scaled down" not in result.output
    assert json.loads((tmp_path / "native" / "detect.json").read_text())["scaled_to"] is None


def test_each_box_on_the_overlays_carries_its_row_number_in_the_regions_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Boxes were numbered 1, 2, ... within each feature while the page's table numbers the regions of
    # all features together: the overlay's "2" at the sphere was row 5 of the table.
    import synthdiff.report._panels as panels

    drawn: list[tuple[list[int], list[tuple[int, int, int, int]]]] = []
    draw = panels.draw_boxes

    def recording(image: np.ndarray, boxes: list, *, colour: tuple, numbers: list[int]) -> np.ndarray:
        drawn.append((list(numbers), list(boxes)))
        return draw(image, boxes, colour=colour, numbers=numbers)

    monkeypatch.setattr(panels, "draw_boxes", recording)
    pair = EXAMPLES / "wrong-light"
    detect(pair / "reference.png", pair / "test.png", "fresunet-wide", out=tmp_path / "out")
    regions = json.loads((tmp_path / "out" / "detect.json").read_text())["regions"]
    features = {region["feature"] for region in regions}
    assert len(features) >= 2  # the known confusion of this pair: several features, numbered together
    assert len(drawn) == 2 * len(features)  # each feature's boxes on both images
    for numbers, boxes in drawn:
        assert [tuple(regions[n - 1]["box"]) for n in numbers] == [tuple(box) for box in boxes]
    # Every row's number once on each image (the two overlays are drawn on threads, in either order).
    assert sorted(n for numbers, _ in drawn for n in numbers) == sorted(2 * list(range(1, len(regions) + 1)))


def test_a_pair_much_smaller_than_the_training_images_gets_a_note(tmp_path: Path) -> None:
    from synthdiff import compare
    from synthdiff.change import set_train_size
    from synthdiff.change._infer import small_pair_note

    # Under three quarters of the training side: 191 of 256 is, 192 is not; no training size, no note.
    assert small_pair_note(191, 400, 256) is not None and small_pair_note(192, 400, 256) is None
    assert small_pair_note(64, 64, None) is None
    model = checkpoint(tmp_path)
    pair = EXAMPLES / "wrong-light"
    set_train_size(model, 480)  # the bundled 320x240 pair is half that: it runs as it is, with the note
    result = detect(pair / "reference.png", pair / "test.png", model, tile=128)
    assert result.maps.scaled_to is None
    assert any(
        "(320x240) is much smaller than the renders the model was trained on" in n for n in result.notes
    )
    compared = compare(pair / "reference.png", pair / "test.png", fast=True, change_model=model)
    assert any("is much smaller than the renders" in note for note in compared.notes)
    set_train_size(model, 256)  # 240 of 256: about the training size, no note
    assert not any("smaller" in n for n in detect(pair / "reference.png", pair / "test.png", model).notes)
