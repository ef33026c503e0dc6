"""Image-difference metrics: pixel, structural, colour and perceptual (FLIP).

Every function takes ``(reference, test)`` in that order: HxW or HxWxC float arrays, LDR
sRGB-encoded in [0, 1] unless a function says it takes linear HDR values.
"""

from synthdiff.metrics._color import ciede2000_map, srgb_to_lab
from synthdiff.metrics._flip import FlipResult, flip
from synthdiff.metrics._pixel import (
    luma_psnr,
    mean_absolute_error,
    mean_squared_error,
    peak_signal_noise_ratio,
    root_mean_squared_error,
)
from synthdiff.metrics._registry import METRICS, MetricInfo, get_metric_info
from synthdiff.metrics._ssim import (
    MS_SSIM_WEIGHTS,
    SSIMResult,
    multiscale_structural_similarity,
    ssim_window_side,
    structural_similarity,
    structural_similarity_map,
)

__all__ = [
    "METRICS",
    "MS_SSIM_WEIGHTS",
    "FlipResult",
    "MetricInfo",
    "SSIMResult",
    "ciede2000_map",
    "flip",
    "get_metric_info",
    "luma_psnr",
    "mean_absolute_error",
    "mean_squared_error",
    "multiscale_structural_similarity",
    "peak_signal_noise_ratio",
    "root_mean_squared_error",
    "srgb_to_lab",
    "ssim_window_side",
    "structural_similarity",
    "structural_similarity_map",
]
