"""Pixel and structural metrics: invariants and agreement with scikit-image."""

from __future__ import annotations

import math

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio as sk_psnr
from skimage.metrics import structural_similarity as sk_ssim

from synthdiff.errors import InvalidArgumentError, SizeMismatchError
from synthdiff.metrics import (
    luma_psnr,
    mean_absolute_error,
    multiscale_structural_similarity,
    peak_signal_noise_ratio,
    root_mean_squared_error,
    ssim_window_side,
    structural_similarity,
    structural_similarity_map,
)
from tests.conftest import photo


@pytest.fixture
def pair(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    reference = photo("astronaut")[::2, ::2]
    test = np.clip(reference + rng.normal(0, 0.05, reference.shape), 0, 1).astype(np.float32)
    return reference, test


def test_identical_images() -> None:
    image = photo("coffee")[:64, :64]
    assert mean_absolute_error(image, image) == 0.0
    assert math.isinf(peak_signal_noise_ratio(image, image))
    assert structural_similarity(image, image) == pytest.approx(1.0, abs=1e-6)
    assert multiscale_structural_similarity(photo("coffee"), photo("coffee")) == pytest.approx(1.0, abs=1e-6)


def test_psnr_matches_scikit_image(pair: tuple[np.ndarray, np.ndarray]) -> None:
    reference, test = pair
    assert peak_signal_noise_ratio(reference, test) == pytest.approx(
        sk_psnr(reference, test, data_range=1.0), abs=1e-4
    )


def test_luma_psnr_matches_scikit_images_ycbcr(pair: tuple[np.ndarray, np.ndarray]) -> None:
    # The figure super-resolution papers give: PSNR of Y (16-235) over a peak of 255, a border left out.
    from skimage.color import rgb2ycbcr

    reference, test = pair
    luma = [rgb2ycbcr(image)[..., 0] for image in (reference, test)]
    assert luma_psnr(reference, test) == pytest.approx(sk_psnr(luma[0], luma[1], data_range=255), abs=1e-4)
    inner = [y[4:-4, 4:-4] for y in luma]
    expected = sk_psnr(inner[0], inner[1], data_range=255)
    assert luma_psnr(reference, test, border=4) == pytest.approx(expected, abs=1e-4)
    # A grey image is its own luma: as the same picture in RGB.
    grey, grey_test = reference.mean(axis=2), test.mean(axis=2)
    rgb = np.repeat(grey[..., None], 3, axis=2), np.repeat(grey_test[..., None], 3, axis=2)
    assert luma_psnr(grey, grey_test) == pytest.approx(luma_psnr(*rgb), abs=1e-6)
    assert math.isinf(luma_psnr(reference, reference))
    with pytest.raises(InvalidArgumentError, match="a border that leaves pixels"):
        luma_psnr(reference, test, border=reference.shape[0] // 2)


def test_ssim_matches_scikit_image(pair: tuple[np.ndarray, np.ndarray]) -> None:
    reference, test = pair
    expected, expected_map = sk_ssim(
        reference,
        test,
        channel_axis=2,
        data_range=1.0,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        full=True,
    )
    result = structural_similarity_map(reference, test)
    # Tolerance: float32 OpenCV filtering versus float64 scipy filtering.
    assert result.score == pytest.approx(expected, abs=1e-4)
    np.testing.assert_allclose(result.map, expected_map.mean(axis=2), atol=2e-3)


def test_mae_rmse_values() -> None:
    reference = np.zeros((4, 4, 3), np.float32)
    test = np.full((4, 4, 3), 0.5, np.float32)
    test[0, 0] = 1.0
    assert mean_absolute_error(reference, test) == pytest.approx((15 * 0.5 + 1.0) / 16)
    assert root_mean_squared_error(reference, test) == pytest.approx(math.sqrt((15 * 0.25 + 1.0) / 16))


def test_mask_restricts_the_pixels() -> None:
    reference = np.zeros((4, 4, 3), np.float32)
    test = reference.copy()
    test[:, 2:] = 1.0
    mask = np.zeros((4, 4), bool)
    mask[:, :2] = True
    assert mean_absolute_error(reference, test, mask=mask) == 0.0


def test_ssim_decreases_with_noise(rng: np.random.Generator) -> None:
    reference = photo("camera")[:128, :128]
    scores = [
        structural_similarity(reference, np.clip(reference + rng.normal(0, s, reference.shape), 0, 1))
        for s in (0.01, 0.05, 0.2)
    ]
    assert scores[0] > scores[1] > scores[2]


def test_shape_mismatch() -> None:
    with pytest.raises(SizeMismatchError, match=r"same shape.*Fix: align or resize"):
        mean_absolute_error(np.zeros((4, 4, 3)), np.zeros((4, 5, 3)))


def test_ssim_too_small_image() -> None:
    with pytest.raises(InvalidArgumentError, match="smaller than the SSIM window"):
        structural_similarity(np.zeros((8, 8)), np.zeros((8, 8)))


@pytest.mark.parametrize("sigma", [0.5, 1.5, 2.0])
def test_ssim_window_side_is_the_smallest_accepted_side(sigma: float) -> None:
    side = ssim_window_side(sigma)
    image = np.random.default_rng(0).random((side, side))
    assert structural_similarity(image, image, sigma=sigma) == 1.0
    with pytest.raises(InvalidArgumentError, match="smaller than the SSIM window"):
        structural_similarity(image[1:], image[1:], sigma=sigma)


def test_ms_ssim_needs_large_images() -> None:
    with pytest.raises(InvalidArgumentError, match="needs both sides longer than 160 pixels"):
        multiscale_structural_similarity(np.zeros((100, 300, 3)), np.zeros((100, 300, 3)))


def test_non_finite_values_rejected() -> None:
    bad = np.zeros((16, 16, 3), np.float32)
    bad[0, 0, 0] = np.nan
    with pytest.raises(InvalidArgumentError, match="finite"):
        mean_absolute_error(bad, np.zeros_like(bad))


def test_8_and_16_bit_arrays_are_scaled_like_scikit_image_reads_them(
    pair: tuple[np.ndarray, np.ndarray],
) -> None:
    # An 8-bit pair had its 0-255 values taken on a scale of 1: a PSNR of about -8 dB.
    reference, test = (np.round(image * 255).astype(np.uint8) for image in pair)
    assert peak_signal_noise_ratio(reference, test) == pytest.approx(sk_psnr(reference, test), abs=1e-4)
    assert mean_absolute_error(reference, test) == pytest.approx(
        np.abs(reference / 255.0 - test / 255.0).mean(), abs=1e-6
    )
    wide = np.round(pair[0] * 65535).astype(np.uint16)
    assert mean_absolute_error(wide, wide) == 0.0
    with pytest.raises(InvalidArgumentError, match="got dtype int32"):
        mean_absolute_error(reference.astype(np.int32), test.astype(np.int32))
