"""Pixel-wise error metrics: MAE, RMSE and PSNR."""

from __future__ import annotations

import math

import numpy as np

from synthdiff.errors import InvalidArgumentError
from synthdiff.metrics._checks import as_image_pair, as_mask, masked_mean

__all__ = ["mean_absolute_error", "mean_squared_error", "peak_signal_noise_ratio", "root_mean_squared_error"]


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
