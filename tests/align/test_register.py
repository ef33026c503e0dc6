"""Registration: shifts, rotations, size changes, and pairs that must not be warped."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from synthdiff.align import register, resize_to_reference, warp_to_reference
from synthdiff.errors import AlignmentError, InvalidArgumentError
from tests.conftest import EXAMPLES, photo


@pytest.mark.parametrize("dx, dy", [(1, 0), (-2, 3), (3, -1)])
def test_integer_shift_recovered(dx: int, dy: int) -> None:
    image = photo("astronaut")
    reference = image[20:400, 20:400]
    test = image[20 + dy : 400 + dy, 20 + dx : 400 + dx]
    result = register(reference, test)
    assert result.applied == "translation" and result.status == "aligned"
    assert result.shift == pytest.approx((-dx, -dy), abs=1e-9)
    warped, valid = warp_to_reference(test, result.matrix, reference.shape[:2])
    assert np.abs(warped - reference)[valid].max() < 1e-5


def test_rotation_and_scale_need_a_homography() -> None:
    image = photo("astronaut")
    matrix = cv2.getRotationMatrix2D((256, 256), 3.0, 1.04)
    test = cv2.warpAffine(image, matrix, (512, 512))
    result = register(image, test)
    assert result.applied == "homography"
    assert result.error_after < 0.2 * result.error_before
    # Turned and scaled about the centre: the content there has not moved.
    assert result.shift == pytest.approx((0.0, 0.0), abs=0.6)


@pytest.mark.parametrize("dx, dy", [(-2, 3), (3, -1)])
def test_a_homography_reports_the_shift_of_the_test_content_as_a_translation_does(dx: int, dy: int) -> None:
    # It reported the matrix's own translation: the opposite shift (test to reference coordinates).
    image = photo("astronaut")
    reference = image[20:400, 20:400]
    test = image[20 + dy : 400 + dy, 20 + dx : 400 + dx]
    result = register(reference, test, "homography")
    assert result.applied == "homography"
    assert result.shift == pytest.approx((-dx, -dy), abs=0.1)
    # The same as 8-bit arrays (Pillow's): scaled, so the matcher sees the same picture (it saw one
    # clipped white, and found another transform).
    eight = register(*(np.round(image * 255).astype(np.uint8) for image in (reference, test)), "homography")
    assert eight.shift == pytest.approx((-dx, -dy), abs=0.1)
    assert eight.error_before == pytest.approx(result.error_before, abs=0.01)


def test_aligned_pair_is_left_alone() -> None:
    image = photo("coffee")
    result = register(image, image)
    assert result.applied == "none" and result.status == "not_needed"


@pytest.mark.parametrize("name", ["wrong-light", "shifted-texture", "wrong-roughness"])
def test_content_changes_are_not_mistaken_for_misalignment(name: str) -> None:
    from synthdiff.io import load_image

    reference = load_image(EXAMPLES / name / "reference.png").pixels
    test = load_image(EXAMPLES / name / "test.png").pixels
    assert register(reference, test).applied == "none"


def test_different_sizes_registered_by_homography() -> None:
    image = photo("astronaut")
    test = cv2.resize(image, (400, 400), interpolation=cv2.INTER_AREA)
    result = register(image, test)
    assert result.applied == "homography"
    assert result.matrix[0, 0] == pytest.approx(512 / 400, rel=0.01)


def test_a_framed_enlarged_screenshot_is_aligned_to_the_pixel() -> None:
    # A student's screenshot of a render: 1.5 times larger, in a grey frame. SIFT's fit alone was a pixel
    # or two off near the edges, and three strips of difference there joined the one real change.
    from synthdiff import compare
    from synthdiff.io import load_image

    reference = load_image(EXAMPLES / "wrong-roughness" / "reference.png").pixels
    test = load_image(EXAMPLES / "wrong-roughness" / "test.png").pixels
    enlarged = cv2.resize(test, (480, 360), interpolation=cv2.INTER_CUBIC)
    screenshot = cv2.copyMakeBorder(enlarged, 40, 40, 40, 40, cv2.BORDER_CONSTANT, value=(0.24, 0.24, 0.24))
    registration = register(reference, np.clip(screenshot, 0, 1))
    assert registration.applied == "homography"
    # Where the reference's pixels lie in the screenshot (OpenCV's resize maps x to 1.5 x + 0.25), over
    # the picture but a tenth at each side: within 2 screenshot pixels (1.4 when written; SIFT alone 3.5).
    ys, xs = np.mgrid[24:216:8, 32:288:8]
    points = np.stack([xs.ravel(), ys.ravel(), np.ones(xs.size)])
    found = np.linalg.inv(registration.matrix) @ points
    expected = np.stack([1.5 * xs.ravel() + 40.25, 1.5 * ys.ravel() + 40.25])
    assert np.abs(found[:2] / found[2:] - expected).max() < 2.0
    result = compare(reference, np.clip(screenshot, 0, 1), fast=True)
    alone = compare(reference, test, fast=True)
    assert len(result.regions) == len(alone.regions) == 1  # the glossy sphere, nothing at the edges


def test_alignment_failure_on_different_sizes_is_clear(rng: np.random.Generator) -> None:
    flat = np.full((64, 64, 3), 0.5, np.float32)
    with pytest.raises(AlignmentError, match=r"differ in size.*alignment failed.*Fix: pass --resize"):
        register(flat, np.full((48, 48, 3), 0.5, np.float32))
    # Another aspect ratio (a crop, another framing): --resize would stretch it, and the fix says so
    # (it advised --resize alone).
    with pytest.raises(
        AlignmentError,
        match=r"alignment failed.*aspect ratios differ \(1 and 1\.2\), so --resize would stretch the test "
        r"image\. Fix: render or crop it to 64x64",
    ):
        register(flat, np.full((40, 48, 3), 0.5, np.float32))


def test_forced_homography_failure_is_reported() -> None:
    flat = np.full((64, 64, 3), 0.5, np.float32)
    result = register(flat, flat, "homography")
    assert result.status == "failed" and "alignment failed" in result.message


@pytest.mark.parametrize("shape", [(1, 1), (1, 40), (40, 1), (5, 7)])
def test_images_too_small_to_register_are_compared_as_they_are(shape: tuple[int, int]) -> None:
    image = np.random.default_rng(0).random((*shape, 3), dtype=np.float32)
    shifted = np.roll(image, 1, axis=1)
    for method in ("auto", "translation", "homography"):
        result = register(image, shifted, method)
        assert result.applied == "none" and result.status == "skipped"
        assert "too small to register" in result.message


def test_unknown_method() -> None:
    with pytest.raises(InvalidArgumentError, match="Expected one of: auto, none, translation, homography"):
        register(np.zeros((8, 8)), np.zeros((8, 8)), "affine")


def test_resize_to_reference_scales_and_says_when_it_stretches() -> None:
    reference = np.zeros((60, 80, 3), np.float32)
    same, note = resize_to_reference(reference, reference)
    assert same is reference and note is None
    # A constant image stays constant at any scale (area averaging down, bilinear up), in every channel.
    half = np.full((30, 40, 3), [0.2, 0.5, 0.8], np.float32)
    up, note = resize_to_reference(reference, half)
    assert up.shape == (60, 80, 3) and np.allclose(up, [0.2, 0.5, 0.8])
    assert note == "test resized from 40x30 to 80x60"
    # Shrinking a checkerboard by 2 averages each 2x2 cell: grey, no aliasing.
    board = np.indices((120, 160)).sum(axis=0) % 2
    down, _ = resize_to_reference(reference, board.astype(np.float32)[..., None])
    assert down.shape == (60, 80, 1) and np.allclose(down, 0.5)
    _, note = resize_to_reference(reference, np.zeros((60, 40), np.float32))
    assert note is not None and "aspect ratio changed (0.667 -> 1.33)" in note
    # 8-bit images come back as [0, 1] floats, as every other image function gives them (they came back
    # as 0-255 floats when resized, and as uint8 when not).
    eight = np.full((30, 40, 3), 51, np.uint8)
    for target in (reference, np.zeros((30, 40, 3), np.float32)):
        scaled, _ = resize_to_reference(target, eight)
        assert scaled.dtype == np.float32 and np.allclose(scaled, 0.2)
    warped, _ = warp_to_reference(eight, np.eye(3), (30, 40))
    assert warped.dtype == np.float32 and np.allclose(warped, 0.2)


@pytest.mark.parametrize("change", ["added square", "removed disc"])
def test_a_change_on_a_flat_background_is_not_taken_for_a_shift(change: str) -> None:
    # Phase correlation of a flat image peaks anywhere; that "shift" once pushed the change out of
    # the compared area, and compare boxed an empty corner instead.
    flat = np.full((128, 128, 3), 0.5, np.float32)
    shape = flat.copy()
    if change == "added square":
        shape[40:60, 40:60] = 0.8
        reference, test = flat, shape
    else:
        cv2.circle(shape, (64, 64), 20, (0.9, 0.2, 0.2), -1)
        reference, test = shape, flat
    registration = register(reference, test, "auto")
    assert registration.applied == "none", registration.message
    # A shift asked for explicitly is still estimated (whatever the peak).
    assert register(reference, test, "translation").requested == "translation"


def test_a_real_shift_of_an_object_on_a_flat_background_is_found() -> None:
    flat = np.full((128, 128, 3), 0.5, np.float32)
    cv2.circle(flat, (64, 64), 20, (0.9, 0.2, 0.2), -1)
    registration = register(flat, np.roll(flat, 10, axis=1), "auto")
    assert registration.applied == "translation" and abs(registration.shift[0] - 10) < 0.5


def test_a_shift_that_removes_more_than_it_moves_is_not_taken() -> None:
    # A 30x20 crop of a render's flat background with a square pasted on it: phase correlation peaked at
    # 0.40 for a (7.4, 8.6) px "shift" that pushed the square out of the compared area, and compare
    # reported and "corrected" it. Moving the reference by that shift changes almost nothing in it, so
    # the shift cannot be what made the images differ.
    from synthdiff.io import load_image

    reference = load_image(EXAMPLES / "wrong-light" / "reference.png").pixels[:20, :30]
    test = reference.copy()
    test[5:10, 5:10] = 1.0
    registration = register(reference, test, "auto")
    assert registration.applied == "none", registration.message
    # The same square on a textured image that really moved is still found.
    image = photo("astronaut")[100:140, 200:260]
    moved = np.roll(image, (2, 3), axis=(0, 1))
    moved[5:10, 5:10] = 1.0
    assert register(image, moved, "auto").applied in ("translation", "homography")
