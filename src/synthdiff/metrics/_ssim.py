"""Structural similarity (SSIM) and its multi-scale form (MS-SSIM).

Follows Wang et al. (2004): an 11x11 Gaussian window with sigma 1.5, K1 = 0.01, K2 = 0.03, population
(not sample) covariances, and the mean taken away from a border of half a window, as scikit-image's
``structural_similarity(gaussian_weights=True, use_sample_covariance=False)`` does. Filtering uses
OpenCV's separable Gaussian blur, several times faster than scipy's.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from synthdiff.errors import InvalidArgumentError
from synthdiff.metrics._checks import as_image_pair, as_mask

__all__ = [
    "MS_SSIM_WEIGHTS",
    "SSIMResult",
    "multiscale_structural_similarity",
    "ssim_window_side",
    "structural_similarity",
    "structural_similarity_map",
]

#: Scale weights from Wang, Simoncelli and Bovik (2003).
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


@dataclass(frozen=True)
class SSIMResult:
    """SSIM score and map.

    Attributes:
        score: mean SSIM over the valid interior pixels and channels (1 for identical images).
        map: HxW float32 SSIM map, averaged over channels.
    """

    score: float
    map: np.ndarray


def _window_radius(sigma: float) -> int:
    return int(3.5 * sigma + 0.5)  # scikit-image's truncate=3.5


def ssim_window_side(sigma: float = 1.5) -> int:
    """Side of SSIM's Gaussian window: the smallest image side SSIM accepts (11 for sigma 1.5).

    Example:
        >>> ssim_window_side()
        11
    """
    return 2 * _window_radius(sigma) + 1


def _blur(image: np.ndarray, sigma: float) -> np.ndarray:
    size = ssim_window_side(sigma)
    blurred = cv2.GaussianBlur(image, (size, size), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT)
    return blurred.reshape(image.shape)


def _ssim_terms(
    ref: np.ndarray, tst: np.ndarray, data_range: float, sigma: float, k1: float, k2: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel luminance term and contrast-structure term, each HxWxC."""
    if not data_range > 0:
        raise InvalidArgumentError(f"Expected a positive data_range, got {data_range}.")
    if not sigma > 0:
        raise InvalidArgumentError(f"Expected a positive Gaussian sigma, got {sigma}.")
    c1 = (k1 * data_range) ** 2
    c2 = (k2 * data_range) ** 2
    # In-place arithmetic: the same operations in the same order as the textbook formula (the same
    # values), with a third of the temporaries, which is most of the time on large images.
    mu_rr = _blur(ref, sigma)
    mu_tt = _blur(tst, sigma)
    mu_rt = mu_rr * mu_tt
    mu_rr *= mu_rr
    mu_tt *= mu_tt
    var_r = _blur(ref * ref, sigma)
    var_r -= mu_rr
    var_t = _blur(tst * tst, sigma)
    var_t -= mu_tt
    cov = _blur(ref * tst, sigma)
    cov -= mu_rt
    luminance = np.multiply(mu_rt, 2, out=mu_rt)
    luminance += c1
    mu_rr += mu_tt
    mu_rr += c1
    luminance /= mu_rr
    contrast_structure = np.multiply(cov, 2, out=cov)
    contrast_structure += c2
    var_r += var_t
    var_r += c2
    contrast_structure /= var_r
    return luminance, contrast_structure


def _interior_mean(values: np.ndarray, pad: int, mask: np.ndarray | None) -> float:
    height, width = values.shape[:2]
    if height <= 2 * pad or width <= 2 * pad:
        raise InvalidArgumentError(
            f"Image of {width}x{height} pixels is smaller than the SSIM window "
            f"({2 * pad + 1}x{2 * pad + 1}). "
            "Fix: use images at least that large or a smaller sigma."
        )
    interior = values[pad : height - pad, pad : width - pad]
    if mask is not None:
        inner_mask = mask[pad : height - pad, pad : width - pad]
        if inner_mask.any():
            return float(interior[inner_mask].mean(dtype=np.float64))
    return float(interior.mean(dtype=np.float64))


def structural_similarity_map(
    reference: np.ndarray,
    test: np.ndarray,
    *,
    data_range: float = 1.0,
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
    mask: np.ndarray | None = None,
) -> SSIMResult:
    """SSIM score and per-pixel map.

    Args:
        reference: HxW or HxWxC image, LDR sRGB-encoded in [0, 1] (map HDR images to display first).
        test: image of the same shape.
        data_range: span of possible values (1.0 for synthdiff's LDR images).
        sigma: standard deviation of the Gaussian window (Wang et al.: 1.5, an 11x11 window).
        k1: luminance stabiliser (0.01).
        k2: contrast stabiliser (0.03).
        mask: optional HxW boolean array; the score averages only True pixels.

    Returns:
        The score (higher is better, 1 for identical images) and the HxW map.

    Raises:
        SizeMismatchError: the shapes differ.
        InvalidArgumentError: an image is smaller than the window or a parameter is out of range.

    Example:
        >>> import numpy as np
        >>> image = np.random.default_rng(0).random((32, 32, 3)).astype(np.float32)
        >>> structural_similarity_map(image, image).score
        1.0
    """
    ref, tst = as_image_pair(reference, test)
    valid = as_mask(mask, ref.shape)
    channels = ref.shape[2]
    ssim = np.zeros(ref.shape[:2], dtype=np.float32)
    # One channel at a time keeps the temporaries to a third (4K images stay within memory bounds).
    for channel in range(channels):
        luminance, contrast_structure = _ssim_terms(
            np.ascontiguousarray(ref[..., channel]),
            np.ascontiguousarray(tst[..., channel]),
            data_range,
            sigma,
            k1,
            k2,
        )
        luminance *= contrast_structure
        ssim += luminance
    ssim /= channels
    return SSIMResult(_interior_mean(ssim, _window_radius(sigma), valid), ssim)


def structural_similarity(
    reference: np.ndarray,
    test: np.ndarray,
    *,
    data_range: float = 1.0,
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
    mask: np.ndarray | None = None,
) -> float:
    """Mean SSIM; see :func:`structural_similarity_map` for the arguments."""
    return structural_similarity_map(
        reference, test, data_range=data_range, sigma=sigma, k1=k1, k2=k2, mask=mask
    ).score


def multiscale_structural_similarity(
    reference: np.ndarray,
    test: np.ndarray,
    *,
    data_range: float = 1.0,
    sigma: float = 1.5,
    weights: tuple[float, ...] = MS_SSIM_WEIGHTS,
) -> float:
    """Multi-scale SSIM (Wang, Simoncelli and Bovik, 2003).

    The contrast-structure term is measured at every scale and the luminance term at the coarsest;
    each scale halves the image by 2x2 averaging. Negative terms are clipped to 0 before the weighted
    product, as common implementations do, so the score stays real.

    Args:
        reference: HxW or HxWxC image, LDR sRGB-encoded in [0, 1].
        test: image of the same shape.
        data_range: span of possible values.
        sigma: Gaussian window sigma at every scale.
        weights: exponent of each scale, finest first.

    Returns:
        MS-SSIM in [0, 1]; higher is better.

    Raises:
        InvalidArgumentError: the image is too small for the number of scales: the shorter side must
            exceed ``(window - 1) * 2 ** (scales - 1)`` (160 pixels for the defaults).
    """
    ref, tst = as_image_pair(reference, test)
    scales = len(weights)
    window = 2 * _window_radius(sigma) + 1
    minimum = (window - 1) * 2 ** (scales - 1)
    if min(ref.shape[:2]) <= minimum:
        raise InvalidArgumentError(
            f"MS-SSIM with {scales} scales needs both sides longer than {minimum} pixels, got "
            f"{ref.shape[1]}x{ref.shape[0]}. Fix: use fewer scales (weights) or larger images."
        )
    pad = _window_radius(sigma)
    values: list[float] = []
    for level in range(scales):
        # One channel at a time, as in structural_similarity_map: a third of the temporaries (4K pairs).
        channel_means = []
        for channel in range(ref.shape[2]):
            window_slice = slice(channel, channel + 1)
            luminance, contrast_structure = _ssim_terms(
                ref[..., window_slice], tst[..., window_slice], data_range, sigma, 0.01, 0.03
            )
            term = contrast_structure if level < scales - 1 else luminance * contrast_structure
            channel_means.append(_interior_mean(term, pad, None))
        values.append(max(float(np.mean(channel_means)), 0.0))
        if level < scales - 1:
            ref, tst = _halve(ref), _halve(tst)
    return float(np.prod(np.power(np.asarray(values), np.asarray(weights))))


def _halve(image: np.ndarray) -> np.ndarray:
    height, width = (image.shape[0] // 2) * 2, (image.shape[1] // 2) * 2
    image = image[:height, :width]
    return 0.25 * (image[0::2, 0::2] + image[1::2, 0::2] + image[0::2, 1::2] + image[1::2, 1::2])
