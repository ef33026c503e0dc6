"""The measured requirements for spot-the-difference regions and global versus local change.

Unchanged pairs (identical, JPEG re-encoded at quality 90, shifted by 1-3 px, brightness scaled by
+-10 %) must give no region; four rectangles pasted into a noisy 1080p image must all be found with
IoU >= 0.5; a 2 % brightness change alone must be reported as global and give no local difference.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from synthdiff import compare
from synthdiff.diff import estimate_global_change
from synthdiff.errors import InvalidArgumentError
from tests.conftest import EXAMPLES, jpeg_roundtrip, photo, quantise

PHOTOS = ["astronaut", "chelsea", "camera"]


def _crop(name: str, dx: int = 0, dy: int = 0) -> np.ndarray:
    image = photo(name)
    height, width = image.shape[:2]
    return image[4 + dy : height - 4 + dy, 4 + dx : width - 4 + dx]


@pytest.mark.parametrize("name", PHOTOS)
def test_identical_images_give_no_region(name: str) -> None:
    image = _crop(name)
    result = compare(image, image.copy(), fast=True)
    assert result.regions == [] and result.metrics["changed_fraction"] == 0.0


@pytest.mark.parametrize("name", PHOTOS)
def test_jpeg_reencoded_pair_gives_no_region(name: str) -> None:
    reference = _crop(name)
    result = compare(reference, jpeg_roundtrip(reference, 90), fast=True)
    assert result.metrics["psnr"] < 50  # the re-encoding really changed pixels
    assert result.regions == []


@pytest.mark.parametrize("name", PHOTOS)
@pytest.mark.parametrize("shift", [(1, 0), (0, 2), (3, 3), (-2, 1)])
def test_shifted_pair_gives_no_region(name: str, shift: tuple[int, int]) -> None:
    reference = _crop(name)
    test = _crop(name, *shift)
    result = compare(reference, test, fast=True)
    assert result.registration.applied == "translation"
    assert result.regions == []


@pytest.mark.parametrize("name", PHOTOS)
@pytest.mark.parametrize("gain", [0.9, 1.1])
def test_brightness_scaled_pair_gives_no_region(name: str, gain: float) -> None:
    reference = _crop(name)
    result = compare(reference, quantise(reference * gain), fast=True)
    assert result.regions == []
    assert result.global_change.brightness_change == pytest.approx(gain - 1.0, abs=0.01)


@pytest.mark.parametrize("name", PHOTOS)
def test_two_percent_brightness_is_global_not_local(name: str) -> None:
    reference = _crop(name)
    result = compare(reference, quantise(reference * 1.02), fast=True)
    assert result.global_change.is_significant
    assert result.global_change.brightness_change == pytest.approx(0.02, abs=0.003)
    assert result.regions == [] and result.metrics["changed_fraction"] == 0.0
    # Without compensation the same pair differs everywhere by about 2 %.
    assert result.metrics["mae"] > 2.5 * result.metrics["local_mae"]


def test_global_fit_ignores_a_local_change() -> None:
    reference = _crop("astronaut")
    test = quantise(reference * 1.05)
    test[100:200, 100:200] = 0.9
    change = estimate_global_change(reference, test)
    assert np.allclose(change.gain, 1.05, atol=0.01)
    assert change.explains_pair


def test_8_bit_arrays_are_scaled_not_taken_as_0_to_255() -> None:
    # local_difference subtracted uint8 arrays as they were (wrapping around below 0), and the global
    # fit saw no pixel between 0 and 1 to fit.
    from synthdiff.diff import find_regions, local_difference

    reference = _crop("astronaut")
    test = quantise(reference * 1.05)
    test[100:200, 100:200] = 0.9
    eight = [np.round(image * 255).astype(np.uint8) for image in (reference, test)]
    change = estimate_global_change(*eight)
    assert np.allclose(change.gain, estimate_global_change(reference, test).gain, atol=0.002)
    residual = local_difference(*eight, change)
    assert residual.dtype == np.float32 and float(np.abs(residual).max()) <= 1.0
    float_residual = local_difference(reference, test, change)
    np.testing.assert_allclose(residual, float_residual, atol=1.0 / 255)
    boxes = [r.box for r in find_regions(residual, *eight).regions]
    assert boxes == [r.box for r in find_regions(float_residual, reference, test).regions]
    with pytest.raises(InvalidArgumentError, match=r"reference image as a float array .* got dtype int64"):
        local_difference(eight[0].astype(np.int64), eight[1])


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_four_pasted_rectangles_on_noisy_1080p(seed: int) -> None:
    rng = np.random.default_rng(seed)
    base = cv2.resize(photo("astronaut"), (1920, 1080), interpolation=cv2.INTER_CUBIC)
    donor = cv2.resize(photo("chelsea"), (1920, 1080))
    # Independent noise in each image, like two renders with different sampling seeds.
    reference = np.clip(base + rng.normal(0, 0.03, base.shape), 0, 1).astype(np.float32)
    test = np.clip(base + rng.normal(0, 0.03, base.shape), 0, 1).astype(np.float32)
    boxes: list[tuple[int, int, int, int]] = []
    while len(boxes) < 4:
        w, h = (int(v) for v in rng.integers(60, 220, 2))
        x, y = int(rng.integers(0, 1920 - w)), int(rng.integers(0, 1080 - h))
        box = (x, y, x + w, y + h)
        if any(
            not (box[2] < o[0] - 40 or o[2] < box[0] - 40 or box[3] < o[1] - 40 or o[3] < box[1] - 40)
            for o in boxes
        ):
            continue
        sx, sy = int(rng.integers(0, 1920 - w)), int(rng.integers(0, 1080 - h))
        test[y : y + h, x : x + w] = donor[sy : sy + h, sx : sx + w]
        boxes.append(box)
    result = compare(reference, test, fast=True)
    found = [region.box for region in result.regions]
    for box in boxes:
        assert max(_iou(box, other) for other in found) >= 0.5, (box, found)
    assert len(found) == 4


def test_boxes_are_given_in_both_images_coordinates() -> None:
    image = photo("astronaut")
    reference = image[10:410, 10:410].copy()
    test = image[13:413, 10:410].copy()  # test content moved up by 3 px
    test[200:260, 100:180] = [0.1, 0.9, 0.1]
    result = compare(reference, test, fast=True)
    assert len(result.regions) == 1
    region = result.regions[0]
    x0, y0, x1, y1 = region.box
    assert abs(x0 - 100) <= 3 and abs(y0 - 203) <= 3 and abs(x1 - 180) <= 3 and abs(y1 - 263) <= 3
    assert region.box_test == (x0, y0 - 3, x1, y1 - 3)


@pytest.mark.parametrize("name", ["astronaut", "retina"])
def test_noise_in_one_image_gives_no_region(name: str) -> None:
    # The pairs whose unchanged structure levels were most uneven (retina: its black background
    # clips the noise), so the lowest levels of the noise model are lowered to the bound above them.
    reference = _crop(name)
    noise = np.random.default_rng(0).normal(0, 0.03, reference.shape)
    result = compare(reference, np.clip(reference + noise, 0, 1).astype(np.float32), fast=True)
    assert result.regions == []


@pytest.mark.parametrize("name", PHOTOS)
@pytest.mark.parametrize(("columns", "encoded"), [(0.5, False), (0.5, True), (0.75, True)])
def test_a_part_that_went_black_is_found(name: str, columns: float, encoded: bool) -> None:
    # A black area shares no structure with the reference, so all of it lands in the noise model's
    # lowest structure levels; it must not be taken for their noise (it was, until 2026-12-06: no
    # region at all).
    reference = _crop(name)
    height, width = reference.shape[:2]
    edge = int(width * columns)
    test = reference.copy()
    test[:, :edge] = 0.0
    if encoded:  # the rest differs by JPEG noise too, as a saved render would
        test = jpeg_roundtrip(test, 90)
    result = compare(reference, test, fast=True)
    assert result.regions, "the black part was not found"
    assert _iou(result.regions[0].box, (0, 0, edge, height)) >= 0.8
    # Nothing outside it (a dark patch of the reference may split a piece off inside it).
    assert all(region.box[0] < edge for region in result.regions)
    # Black pixels where the reference is nearly black too are no change.
    assert result.metrics["changed_fraction"] >= 0.6 * columns


def test_the_shifted_floor_texture_example_is_one_region_over_the_floor() -> None:
    # The example's checker floor moved under the whole floor: one box over it (three fragments of it
    # before 2026-12-06, when the floor's flat squares inflated the noise model's lowest levels).
    from synthdiff.io import load_image

    folder = EXAMPLES / "shifted-texture"
    reference = load_image(folder / "reference.png").pixels
    result = compare(reference, load_image(folder / "test.png").pixels, fast=True)
    height, width = reference.shape[:2]
    assert len(result.regions) == 1
    x0, y0, x1, y1 = result.regions[0].box
    assert (x0, x1) == (0, width) and y1 == height and 0.2 < y0 / height < 0.35  # the floor, below the wall


def test_a_difference_map_given_gives_the_same_regions_and_a_wrong_size_is_refused() -> None:
    from synthdiff.diff import find_regions, local_difference
    from synthdiff.diff._global import difference_magnitude

    reference = _crop("astronaut")
    test = reference.copy()
    test[100:160, 200:260] = 0.9
    residual = local_difference(reference, test)
    computed = find_regions(residual, reference, test)
    given = find_regions(residual, reference, test, difference=difference_magnitude(residual))
    assert computed.regions and given.regions == computed.regions
    with pytest.raises(InvalidArgumentError, match=r"Expected a difference map of .* got shape \(10, 10\)"):
        find_regions(residual, reference, test, difference=np.zeros((10, 10), np.float32))


def test_a_global_change_counts_by_how_far_gain_and_offset_together_move_a_value() -> None:
    from synthdiff.diff import GlobalChange

    def change(gain: float, offset: float) -> GlobalChange:
        return GlobalChange((gain, 1.0, 1.0), (offset, 0.0, 0.0), 1.0, 0.01)

    # What JPEG quality 80 left in scikit-image's coffee (blue channel): 0.6 % of gain, but no value moves
    # by more than 0.37 % (it read "brightness +0.0 % (removed)").
    assert change(0.99393, 0.00241).largest_shift == pytest.approx(0.00366)
    assert not change(0.99393, 0.00241).is_significant
    assert not change(1.008, -0.004).is_significant  # 0.4 % at 0 and at 1
    assert change(1.02, 0.0).is_significant and change(1.0, 0.006).is_significant
    assert change(1.003, 0.003).is_significant  # 0.6 % at 1
    assert not change(1.0, 0.0).is_significant and change(1.0, 0.0).largest_shift == 0.0


def test_a_colour_cast_is_named_where_the_brightness_hides_it() -> None:
    # A warmer picture (6 % more red, 10 % less blue) read only "brightness +1.1 % (removed)".
    reference = photo("coffee")
    warmer = np.clip(reference * np.array([1.06, 1.0, 0.90], np.float32), 0, 1)
    change = compare(reference, warmer, fast=True).global_change
    assert change.brightness_change == pytest.approx(0.011, abs=0.005)
    assert change.channel_changes == pytest.approx((0.06, 0.0, -0.10), abs=0.005)
    assert change.colour_shift == "warmer: red +6.0 %, green +0.0 %, blue -10.0 %"
    cooler = np.clip(reference * np.array([0.95, 1.0, 1.05], np.float32), 0, 1)
    assert compare(reference, cooler, fast=True).global_change.colour_shift.startswith("cooler: red -5.0 %")
    # Channels changed alike (a brighter picture) and grey pictures have no colour shift.
    brighter = compare(reference, np.clip(reference * 1.1, 0, 1), fast=True).global_change
    assert brighter.is_significant and brighter.colour_shift is None
    grey = photo("camera")[:256, :256]
    assert compare(grey, np.clip(grey * 1.1, 0, 1), fast=True).global_change.colour_shift is None


def test_a_jpeg_copy_has_no_global_change() -> None:
    reference = photo("coffee")
    result = compare(reference, jpeg_roundtrip(reference, 80), fast=True)
    assert not result.global_change.is_significant and result.regions == []


def test_the_structure_of_large_pairs_is_made_on_a_coarser_grid_and_agrees() -> None:
    # Since 2026-12-07 a pair whose blur is 3 px or more (a short side of 1080 or more) gets its structure
    # map on a grid twice as coarse: it must stay the map the full grid gives, in full-size units.
    from synthdiff.diff._regions import _structure

    reference = cv2.resize(photo("astronaut"), (1080, 1080), interpolation=cv2.INTER_CUBIC)
    noise = np.random.default_rng(0).normal(0, 0.02, reference.shape)
    test = np.clip(reference + noise, 0, 1).astype(np.float32)
    full = _structure(reference, test, 2.999)  # under 3: the full grid
    coarse = _structure(reference, test, 3.0)
    assert coarse.shape == full.shape == (1080, 1080)
    assert np.corrcoef(full.ravel(), coarse.ravel())[0, 1] > 0.99  # 0.996 when written
    assert abs(coarse.mean() / full.mean() - 1) < 0.05  # 3 % lower when written
