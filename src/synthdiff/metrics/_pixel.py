"""Pixel-wise error metrics: MAE, RMSE, PSNR, and PSNR on luma as super-resolution papers report it."""

from __future__ import annotations

import math

import numpy as np

from synthdiff.errors import InvalidArgumentError
from synthdiff.metrics._checks import as_image_pair, as_mask, masked_mean

__all__ = [
    "luma_psnr",
    "mean_absolute_error",
    "mean_squared_error",
    "peak_signal_noise_ratio",
    "root_mean_squared_error",
]

# ITU-R BT.601 luma of sRGB-encoded values in [0, 1], in the 8-bit studio range 16-235 (what MATLAB's
# rgb2ycbcr, scikit-image's rgb2ycbcr and the usual super-resolution evaluation code compute).
_LUMA_WEIGHTS = np.array([65.481, 128.553, 24.966], np.float64)


def mean_absolute_error(reference: np.ndarray, test: np.ndarray, *, mask: np.ndarray | None = None) -> float:
    """Mean absolute difference over all pixels and channels.

    Args:
        reference: HxW or HxWxC image (LDR sRGB-encoded in [0, 1], or linear HDR).
        test: image of the same shape and encoding.
        mask: optional HxW boolean array; only True pixels are counted.

    Returns:
        The MAE in the images' units (0 for identical images; lower is better).

    Example:
        >>> import numpy as np
        >>> mean_absolute_error(np.zeros((4, 4)), np.full((4, 4), 0.5))
        0.5
    """
    ref, tst = as_image_pair(reference, test)
    return masked_mean(np.abs(ref - tst), as_mask(mask, ref.shape))


def mean_squared_error(reference: np.ndarray, test: np.ndarray, *, mask: np.ndarray | None = None) -> float:
    """Mean squared difference over all pixels and channels (see :func:`mean_absolute_error`)."""
    ref, tst = as_image_pair(reference, test)
    return masked_mean(np.square(ref - tst), as_mask(mask, ref.shape))


def root_mean_squared_error(
    reference: np.ndarray, test: np.ndarray, *, mask: np.ndarray | None = None
) -> float:
    """Square root of :func:`mean_squared_error`; lower is better."""
    return math.sqrt(mean_squared_error(reference, test, mask=mask))


def peak_signal_noise_ratio(
    reference: np.ndarray, test: np.ndarray, *, data_range: float = 1.0, mask: np.ndarray | None = None
) -> float:
    """Peak signal-to-noise ratio in decibels, ``10 log10(data_range^2 / MSE)``.

    Args:
        reference: HxW or HxWxC image.
        test: image of the same shape.
        data_range: the span of possible values (1.0 for synthdiff's LDR images; for HDR pass the
            reference's peak value).
        mask: optional HxW boolean array of the pixels to count.

    Returns:
        PSNR in dB; ``inf`` for identical images. Higher is better.
    """
    if not data_range > 0:
        raise InvalidArgumentError(f"Expected a positive data_range, got {data_range}.")
    mse = mean_squared_error(reference, test, mask=mask)
    if mse == 0.0:
        return math.inf
    return 10.0 * math.log10(data_range * data_range / mse)


def luma_psnr(
    reference: np.ndarray, test: np.ndarray, *, mask: np.ndarray | None = None, border: int = 0
) -> float:
    """PSNR of the BT.601 luma (the Y of YCbCr, 16-235 of 255), as super-resolution papers report it.

    Super-resolution results are compared on Y alone, over a peak of 255, usually with ``border``
    pixels (the upscaling factor) left out at each edge; this is that figure, so that a result can be
    set beside published ones. Grey images are their own luma.

    Args:
        reference: HxWx3 (or HxW grey) LDR image, sRGB-encoded in [0, 1].
        test: image of the same shape.
        mask: optional HxW boolean array of the pixels to count.
        border: pixels left out at each edge.

    Returns:
        Decibels (``inf`` for identical luma).

    Raises:
        InvalidArgumentError: different shapes, or a border that leaves no pixel.

    Example:
        >>> import numpy as np
        >>> round(luma_psnr(np.zeros((8, 8, 3)), np.full((8, 8, 3), 0.1)), 2)
        21.32
    """
    ref, tst = as_image_pair(reference, test)
    height, width = ref.shape[:2]
    if border < 0 or 2 * border >= min(height, width):
        raise InvalidArgumentError(
            f"Expected a border that leaves pixels of the {width}x{height} images, got {border}. Fix: "
            f"pass 0 to {(min(height, width) - 1) // 2} (super-resolution papers use the upscaling factor)."
        )
    lumas = []
    for image in (ref, tst):
        values = image.astype(np.float64).reshape(height, width, -1)
        # Grey: 0-1 spans the studio range 16-235, as R = G = B would.
        luma = values[..., :3] @ _LUMA_WEIGHTS if values.shape[2] >= 3 else 219.0 * values[..., 0]
        lumas.append(16.0 + luma[border : height - border, border : width - border])
    inner = as_mask(mask, ref.shape)
    if inner is not None:
        inner = inner[border : height - border, border : width - border]
        if not inner.any():
            raise InvalidArgumentError(
                "The mask leaves no pixel inside the border: there is nothing to compare. Fix: pass a "
                "smaller border."
            )
    return peak_signal_noise_ratio(lumas[0], lumas[1], data_range=255.0, mask=inner)
