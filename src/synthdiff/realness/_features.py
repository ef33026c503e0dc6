"""Per-crop inputs of the realness classifier: Fourier log-magnitude, and optional RGB / high-pass cues.

Crops are taken at the image's native resolution (never resized: resizing removes the
high-frequency sensor and renderer traces the classifier looks for).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = [
    "CUES",
    "TRACE_NAMES",
    "crop_features",
    "feature_channels",
    "fourier_log_magnitude",
    "high_pass_residual",
    "trace_statistics",
]

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


#: Upper edges of the radial frequency bands of :func:`trace_statistics`, in cycles per pixel (0.5 is
#: the Nyquist frequency); octaves, then the top octave halved, where renderers and cameras differ most.
_BANDS = (1 / 32, 1 / 16, 1 / 8, 1 / 4, 3 / 8, 1 / 2)
#: What each column of :func:`trace_statistics` measures, in order.
TRACE_NAMES = (
    "noise_sigma",
    "noise_channel_correlation",
    "flat_fraction",
    "clipped_fraction",
    "gradient_kurtosis",
    *(f"spectrum_band_{i}" for i in range(len(_BANDS))),
)


def trace_statistics(crops: torch.Tensor) -> torch.Tensor:
    """Eleven per-crop statistics of the traces that cameras and renderers leave, whatever the content.

    - ``noise_sigma``: log10 of the luminance noise level in 8-bit steps, the median absolute value of
      the finest diagonal Haar detail over 0.6745 (a robust estimate that ignores edges; sensor noise
      against clean or denoised shading).
    - ``noise_channel_correlation``: mean correlation of that detail between the colour channels
      (demosaicing and chroma subsampling tie the channels' noise together; grey images give 1).
    - ``flat_fraction``: share of horizontal and vertical neighbours with the same 8-bit value in all
      channels (flat shading and exact plateaus, rare in photos).
    - ``clipped_fraction``: share of pixels with a channel at 0 or 255.
    - ``gradient_kurtosis``: log of the kurtosis of the luminance gradients (how sparse the edges are).
    - ``spectrum_band_0..5``: the log mean power of the luminance spectrum (mean removed, Hann window)
      in radial bands up to 1/32, 1/16, 1/8, 1/4, 3/8 and 1/2 cycles per pixel, over its mean power at
      all frequencies: the spectrum's shape, not its contrast (white noise gives 0 in every band, and
      so does a band that a crop under 32 pixels does not resolve).

    Args:
        crops: sRGB values in [0, 1], square, at least 16 pixels.

    Shape:
        crops (N, 3, P, P) -> (N, 11).
    """
    crops = crops.float()
    grey = (0.299 * crops[:, 0] + 0.587 * crops[:, 1] + 0.114 * crops[:, 2]) * 255.0
    size = crops.shape[-1]
    even = crops[..., : size // 2 * 2, : size // 2 * 2] * 255.0
    detail = (even[..., ::2, ::2] - even[..., ::2, 1::2] - even[..., 1::2, ::2] + even[..., 1::2, 1::2]) / 2
    luminance = 0.299 * detail[:, 0] + 0.587 * detail[:, 1] + 0.114 * detail[:, 2]
    sigma = luminance.flatten(1).abs().median(dim=1).values / 0.6745
    residual = detail.flatten(2)
    residual = residual - residual.mean(-1, keepdim=True)
    norms = residual.square().sum(-1).sqrt() + 1e-6
    pairs = ((0, 1), (1, 2), (0, 2))
    correlation = torch.stack(
        [(residual[:, a] * residual[:, b]).sum(-1) / (norms[:, a] * norms[:, b]) for a, b in pairs]
    )
    quantised = torch.round(crops * 255.0)
    same = torch.cat(
        [
            (quantised[..., :, 1:] == quantised[..., :, :-1]).all(1).flatten(1),
            (quantised[..., 1:, :] == quantised[..., :-1, :]).all(1).flatten(1),
        ],
        dim=1,
    )
    clipped = ((quantised <= 0) | (quantised >= 255)).any(1).flatten(1)
    across, down = grey[..., :, 1:] - grey[..., :, :-1], grey[..., 1:, :] - grey[..., :-1, :]
    gradients = torch.cat([across.flatten(1), down.flatten(1)], 1)
    centred = gradients - gradients.mean(1, keepdim=True)
    kurtosis = (centred.pow(4).mean(1) + 1e-2) / (centred.square().mean(1).square() + 1e-2)  # flat: 1
    window = torch.hann_window(size, periodic=False, device=crops.device)
    windowed = (grey - grey.mean(dim=(-2, -1), keepdim=True)) * window[:, None] * window[None, :]
    power = torch.fft.fft2(windowed).abs().square()
    frequencies = torch.fft.fftfreq(size, device=crops.device)
    radius = (frequencies[:, None].square() + frequencies[None, :].square()).sqrt()
    average = power.flatten(1).mean(1) + 1e-6
    bands, lower = [], 0.0
    for upper in _BANDS:
        inside = (radius > lower) & (radius <= upper)
        if inside.any():
            bands.append(torch.log((power[:, inside].mean(1) + 1e-6) / average))
        else:  # a crop under 32 pixels has no frequency this low: say "flat", as for white noise
            bands.append(torch.zeros_like(average))
        lower = upper
    return torch.stack(
        [
            torch.log10(sigma + 0.1),
            correlation.mean(0),
            same.float().mean(1),
            clipped.float().mean(1),
            torch.log(kurtosis),
            *bands,
        ],
        dim=1,
    )
