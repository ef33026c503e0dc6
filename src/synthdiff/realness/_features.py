"""Per-crop inputs of the realness classifier: Fourier log-magnitude, and optional RGB / high-pass cues.

Crops are taken at the image's native resolution (never resized: resizing removes the
high-frequency sensor and renderer traces the classifier looks for).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["CUES", "crop_features", "feature_channels", "fourier_log_magnitude", "high_pass_residual"]

#: Cues a model can be trained on, each 3 channels per crop.
CUES = ("fourier", "rgb", "residual")


def fourier_log_magnitude(crops: torch.Tensor) -> torch.Tensor:
    """Log-magnitude of each channel's 2-D Fourier transform, zero frequency at the centre.

    Each channel's mean is removed first (so the DC term carries no brightness), and the transform is
    orthonormal, so a crop's log-magnitudes do not depend on its size beyond sampling.

    Args:
        crops: sRGB values in [0, 1].

    Returns:
        ``log(|FFT| + 1e-4)`` after ``fftshift``: the entry at ``(P//2 + v, P//2 + u)`` is the
        frequency of ``u`` cycles per crop horizontally and ``v`` vertically.

    Shape:
        crops (N, C, P, P) -> (N, C, P, P).
    """
    centred = crops - crops.mean(dim=(-2, -1), keepdim=True)
    spectrum = torch.fft.fft2(centred.float(), norm="ortho")
    return torch.log(torch.fft.fftshift(spectrum.abs(), dim=(-2, -1)) + 1e-4)


def high_pass_residual(crops: torch.Tensor) -> torch.Tensor:
    """The crop minus its 3x3 box blur (reflect padding): noise and fine texture, scaled up by 10.

    Shape:
        crops (N, C, P, P) -> (N, C, P, P).
    """
    channels = crops.shape[1]
    kernel = torch.full((channels, 1, 3, 3), 1.0 / 9.0, dtype=crops.dtype, device=crops.device)
    blurred = F.conv2d(F.pad(crops, (1, 1, 1, 1), mode="reflect"), kernel, groups=channels)
    return 10.0 * (crops - blurred)


def feature_channels(cues: tuple[str, ...] | list[str]) -> int:
    """Input channels for a list of cues (3 each)."""
    return 3 * len(cues)


def crop_features(crops: torch.Tensor, cues: tuple[str, ...] | list[str] = ("fourier",)) -> torch.Tensor:
    """Concatenate the chosen cues of RGB crops along the channel axis.

    Args:
        crops: sRGB values in [0, 1].
        cues: from :data:`CUES`, in this order in the output.

    Shape:
        crops (N, 3, P, P) -> (N, 3 * len(cues), P, P).

    Raises:
        ValueError: an unknown cue or an empty list.
    """
    if not cues or any(cue not in CUES for cue in cues):
        raise ValueError(f"Expected cues from {', '.join(CUES)}, got {list(cues)!r}.")
    makers = {
        "fourier": fourier_log_magnitude,
        "rgb": lambda x: 2.0 * x - 1.0,
        "residual": high_pass_residual,
    }
    return torch.cat([makers[cue](crops) for cue in cues], dim=1)
