"""The compare pipeline and its report."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from synthdiff import Comparison, compare
from synthdiff.cli import app
from synthdiff.diff import REPORT_SCHEMA_VERSION
from synthdiff.diff._global import exposure_change_ev
from synthdiff.errors import InvalidArgumentError, OutputError, SizeMismatchError
from synthdiff.io import save_exr, save_png, srgb_to_linear
from tests.conftest import photo


def test_example_pair_finds_the_glossy_sphere(example_pair: tuple[Path, Path]) -> None:
    result = compare(*example_pair)
    assert isinstance(result, Comparison)
    assert len(result.regions) >= 1
    _, y0, x1, _ = result.regions[0].box
    # The sphere of scripts/make_examples.py is in the left half of the frame, in its upper part.
    assert x1 < 230 and y0 < 60
    assert set(result.metrics) >= {"mae", "rmse", "psnr", "ssim", "ms_ssim", "ciede2000", "flip"}


def test_report_files_and_schema(tmp_path: Path, example_pair: tuple[Path, Path]) -> None:
    result = compare(*example_pair)
    page = result.save_report(tmp_path / "out")
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert {
        "report.json",
        "index.html",
        "difference.png",
        "ssim.png",
        "flip.png",
        "boxes_reference.png",
    } <= names
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["schema_version"] == REPORT_SCHEMA_VERSION
    assert report["inputs"]["reference"]["path"].endswith("reference.png")
    assert report["metrics"]["ssim"] == pytest.approx(result.metrics["ssim"], abs=1e-6)
    assert len(report["regions"]) == len(result.regions)
    html = page.read_text()
    assert "data:image/png;base64," in html and "http://" not in html and "https://" not in html


def test_report_never_overwrites_an_input(tmp_path: Path) -> None:
    image = photo("coffee")[:64, :64]
    save_png(tmp_path / "report.json", image)  # an input image that happens to use a report's name
    save_png(tmp_path / "test.png", image)
    result = compare(tmp_path / "report.json", tmp_path / "test.png")
    with pytest.raises(OutputError, match="one of the inputs"):
        result.save_report(tmp_path)


def test_size_mismatch_suggests_align_or_resize() -> None:
    with pytest.raises(SizeMismatchError, match=r"differ in size.*--align auto.*--resize"):
        compare(np.zeros((32, 32, 3), np.float32), np.zeros((32, 40, 3), np.float32), align="none")


@pytest.mark.parametrize("side", [(10, 64), (64, 10), (5, 7)])
def test_images_under_the_ssim_window_are_refused_clearly(side: tuple[int, int]) -> None:
    small = np.zeros((*side, 3), np.float32)
    large = np.zeros((64, 64, 3), np.float32)
    with pytest.raises(InvalidArgumentError, match=r"at least 11x11 pixels.*reference image of"):
        compare(small, small)
    with pytest.raises(InvalidArgumentError, match=r"test image of \d+x\d+"):
        compare(large, small)


def test_smallest_accepted_images_compare() -> None:
    image = np.random.default_rng(0).random((11, 11, 3)).astype(np.float32)
    result = compare(image, image, fast=True)
    assert result.metrics["ssim"] == pytest.approx(1.0) and not result.regions


def test_a_pair_that_differs_everywhere_says_so(tmp_path: Path) -> None:
    reference = photo("astronaut")[:128, :128]
    result = compare(reference, np.zeros_like(reference), fast=True)  # a render that came out black
    assert any("differ almost everywhere" in note for note in result.notes)
    # No gain/offset can be fitted to black pixels: none is claimed or removed.
    assert not result.global_change.estimated and not result.options["global_change_removed"]
    assert any("could not be estimated" in note for note in result.notes)
    result.save_report(tmp_path)
    written = json.loads((tmp_path / "report.json").read_text())["global_change"]
    assert written["estimated"] is False and written["brightness_change"] is None
    assert "not estimated" in (tmp_path / "index.html").read_text()
    # Not said of pairs the region finder handles: one changed part, or noise.
    part = reference.copy()
    part[:, :64] = 0.0
    assert not any("almost everywhere" in note for note in compare(reference, part, fast=True).notes)
    assert not any("almost everywhere" in note for note in compare(reference, reference, fast=True).notes)


def test_a_test_image_of_another_size_is_registered_and_reported(tmp_path: Path) -> None:
    reference = photo("astronaut")
    small = cv2.resize(reference, (256, 256), interpolation=cv2.INTER_AREA)
    result = compare(reference, small, fast=True)
    assert result.registration.applied == "homography"
    result.save_report(tmp_path)  # the error before alignment is undefined here: null, not Infinity
    report = json.loads(
        (tmp_path / "report.json").read_text(), parse_constant=lambda name: pytest.fail(f"{name} in JSON")
    )
    assert report["alignment"]["error_before"] is None and report["alignment"]["error_after"] >= 0


def test_a_square_added_to_a_flat_render_is_boxed_where_it_is() -> None:
    reference = np.full((128, 128, 3), 0.5, np.float32)
    test = reference.copy()
    test[40:60, 40:60] = 0.8
    result = compare(reference, test, fast=True)
    assert [region.box for region in result.regions] == [(38, 38, 62, 62)]  # the square, smoothed


def test_resize_option() -> None:
    import cv2

    image = photo("astronaut")
    small = cv2.resize(image, (256, 256), interpolation=cv2.INTER_AREA)
    result = compare(image, small, resize=True, fast=True)
    assert result.reference.shape == image.shape and any("resized" in note for note in result.notes)
    assert not any("stretched" in note for note in result.notes)  # the same aspect ratio
    narrow = cv2.resize(image, (128, 256), interpolation=cv2.INTER_AREA)
    stretched = compare(image, narrow, resize=True, fast=True)
    assert any("aspect ratio changed (0.5 -> 1), so it is stretched" in note for note in stretched.notes)


def test_a_test_image_transparent_where_the_reference_is_not_is_explained(tmp_path: Path) -> None:
    image = (photo("astronaut")[:64, :64] * 255).astype(np.uint8)
    rgba = np.dstack([image, np.full((64, 64), 255, np.uint8)])
    rgba[:, 32:, 3] = 0  # the right half clear, as a render with a transparent film
    Image.fromarray(image).save(tmp_path / "reference.png")
    Image.fromarray(rgba, "RGBA").save(tmp_path / "test.png")
    result = compare(tmp_path / "reference.png", tmp_path / "test.png", fast=True)
    assert result.notes[0] == (
        "test: 50.0 % of pixels transparent or partly so (alpha under 1): composited over the background "
        "(0.0, 0.0, 0.0)"
    )
    assert result.notes[1].startswith("only the test image is transparent anywhere")
    both = compare(tmp_path / "test.png", tmp_path / "test.png", fast=True)
    assert not any("only the" in note for note in both.notes)  # both composited alike
    ignored = compare(tmp_path / "reference.png", tmp_path / "test.png", alpha="ignore", fast=True)
    assert not any("only the" in note for note in ignored.notes) and ignored.metrics["mae"] == 0.0


def test_hdr_pair_uses_hdr_flip(tmp_path: Path, rng: np.random.Generator) -> None:
    linear = (rng.random((64, 64, 3)) * 3).astype(np.float32)
    save_exr(tmp_path / "ref.exr", linear)
    save_exr(tmp_path / "test.exr", linear * 1.3)
    result = compare(tmp_path / "ref.exr", tmp_path / "test.exr")
    assert result.options["hdr"] is True
    assert "HDR-FLIP" in result.metric_notes["flip"] and result.metrics["flip"] > 0
    assert result.reference.max() <= 1.0  # display images are tone mapped


def test_hdr_pairs_report_their_exposure_change_in_stops(tmp_path: Path) -> None:
    # Two stops less light read only as "brightness -35.8 %" of the tone-mapped display images.
    linear = srgb_to_linear(photo("coffee")[:96, :128])
    darker = linear / 4
    darker[:30, :40] = linear[:30, :40] * 3  # a local change in a tenth of the picture leaves it alone
    save_exr(tmp_path / "ref.exr", linear)
    save_exr(tmp_path / "test.exr", darker)
    result = compare(tmp_path / "ref.exr", tmp_path / "test.exr", fast=True)
    report = result.to_dict()["global_change"]
    assert report["exposure_change_ev"] == pytest.approx(-2.0, abs=0.01)
    # The tone-mapped images' brightness change (-62 % here, -36 % for another picture) is no exposure.
    assert -0.7 < report["brightness_change"] < -0.3
    pair = [str(tmp_path / "ref.exr"), str(tmp_path / "test.exr")]
    options = ["-o", str(tmp_path / "out"), "--fast", "--realness-model", "none"]
    cli = CliRunner().invoke(app, ["compare", *pair, *options])
    assert cli.exit_code == 0 and "exposure -2.00 EV in linear light" in cli.output
    assert "exposure -2.00 EV in linear light (HDR)" in (tmp_path / "out" / "index.html").read_text()
    # LDR pairs have no such figure; nor does a pair lit in almost no pixel.
    assert compare(photo("coffee")[:64, :64], photo("coffee")[:64, :64]).exposure_change_ev is None
    black = np.zeros((64, 64, 3), np.float32)
    assert exposure_change_ev(black, black) is None


def test_the_report_names_a_colour_cast(tmp_path: Path) -> None:
    reference = photo("coffee")[:128, :160]
    save_png(tmp_path / "ref.png", reference)
    save_png(tmp_path / "warm.png", np.clip(reference * np.array([1.06, 1.0, 0.90], np.float32), 0, 1))
    options = ["-o", str(tmp_path / "out"), "--fast", "--realness-model", "none"]
    pair = [str(tmp_path / "ref.png"), str(tmp_path / "warm.png")]
    cli = CliRunner().invoke(app, ["compare", *pair, *options])
    assert cli.exit_code == 0 and "colour balance: warmer: red +6." in cli.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())["global_change"]
    assert report["colour_shift"].startswith("warmer: red +6.") and len(report["channel_changes"]) == 3
    assert "colour balance warmer: red +6." in (tmp_path / "out" / "index.html").read_text()


def test_fast_skips_slow_metrics(example_pair: tuple[Path, Path]) -> None:
    result = compare(*example_pair, fast=True)
    assert "flip" not in result.metrics and result.flip_map is None


def test_json_has_no_nan_or_infinity() -> None:
    image = photo("coffee")[:64, :64]
    text = compare(image, image).to_json()
    assert json.loads(text)["metrics"]["psnr"] == "inf"


def test_arrays_of_8_and_16_bits_are_scaled_and_bad_arrays_refused() -> None:
    image = np.random.default_rng(4).random((48, 48, 3)).astype(np.float32)
    eight = np.round(image * 255).astype(np.uint8)
    sixteen = np.round(image * 65535).astype(np.uint16)
    # An 8-bit array was compared as if its 0-255 values were linear light (SSIM 0.03 against itself).
    for array, step in ((eight, 1 / 255), (sixteen, 1 / 65535)):
        result = compare(image, array, fast=True)
        assert result.metrics["mae"] <= step and result.metrics["ssim"] > 0.999
        assert not result.to_dict()["inputs"]["test"]["is_hdr"]
    with pytest.raises(InvalidArgumentError, match="got dtype int64"):
        compare(image, eight.astype(np.int64), fast=True)
    broken = image.copy()
    broken[0, 0, 0] = np.nan
    with pytest.raises(InvalidArgumentError, match="finite values in the test array, found 1 NaN"):
        compare(image, broken, fast=True)
    with pytest.raises(InvalidArgumentError, match="a file path, a numpy array or a LoadedImage, got list"):
        compare(image, image.tolist(), fast=True)  # type: ignore[arg-type]


def test_8_bit_values_given_as_floats_get_a_note() -> None:
    # image.astype(np.float32) keeps 0-255: read as linear HDR, with no hint why the numbers were odd.
    image = np.round(np.random.default_rng(5).random((48, 48, 3)) * 255).astype(np.float32)
    result = compare(image, image, fast=True, realness_model=None)
    assert result.notes[:2] == [
        f"{role}: its values are whole numbers up to 255: 8-bit data as floats? Float arrays are read as "
        "sRGB in [0, 1] (linear HDR above 1), so it was taken for HDR. Fix: divide it by 255, or pass the "
        "uint8 array"
        for role in ("reference", "test")
    ]
    # Real HDR (not whole numbers, or beyond 255) and [0, 1] images get none.
    for array in (image / 255, image / 255 * 4.5, image * 300):
        assert not any("8-bit data as floats" in note for note in compare(array, array, fast=True).notes)


@pytest.mark.parametrize("fast", [True, False])
def test_ssim_on_its_own_thread_is_the_direct_computation(fast: bool) -> None:
    from synthdiff.metrics import structural_similarity_map

    reference = photo("chelsea")
    test = reference.copy()
    test[50:120, 80:200] *= 0.7
    result = compare(reference, test, fast=fast, realness_model=None)
    direct = structural_similarity_map(result.reference, result.test)
    assert result.metrics["ssim"] == direct.score
    np.testing.assert_array_equal(result.ssim_map, direct.map)
    assert result.timings["pixel_ssim"] > 0 and "regions" in result.timings


def test_metrics_keep_their_order() -> None:
    reference = photo("camera")[:96, :96]
    result = compare(reference, reference * 0.9, realness_model=None)
    names = list(result.metrics)
    assert names[: names.index("ssim") + 2] == [
        "mae",
        "rmse",
        "psnr",
        "psnr_y",
        "local_mae",
        "ssim",
        "ms_ssim",
    ]
