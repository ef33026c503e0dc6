"""Global photometric change: a per-channel gain and offset fitted robustly, and its removal."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthdiff._text import signed
from synthdiff.io import unit_scaled

__all__ = [
    "GlobalChange",
    "difference_magnitude",
    "estimate_global_change",
    "exposure_change_ev",
    "local_difference",
]

_MAX_SAMPLES = 60_000
# Samples this close to black or white may be clipped in either image and would bias the fit.
_CLIP_MARGIN = 0.02
_TUKEY_C = 4.685


@dataclass(frozen=True)
class GlobalChange:
    """A global change of the form ``test = gain * reference + offset`` per channel.

    Attributes:
        gain: per-channel gain (1.0 = unchanged).
        offset: per-channel offset in image units (0.0 = unchanged).
        inlier_fraction: fraction of sampled pixels the fit explains (the rest differ locally).
        residual_scale: robust standard deviation of what the fit leaves, in image units.
        residual_scale_before: the same for the plain difference ``test - reference``.
        reference_mean: per-channel mean of the sampled reference pixels.
        estimated: False when no channel had enough pixels away from black and white in both images
            to fit (a render that came out black, say): the gain and offset are then identity
            placeholders, nothing is removed, and the brightness change is unknown.
    """

    gain: tuple[float, ...]
    offset: tuple[float, ...]
    inlier_fraction: float
    residual_scale: float
    residual_scale_before: float = 0.0
    reference_mean: tuple[float, ...] = (0.5, 0.5, 0.5)
    estimated: bool = True

    @property
    def explains_pair(self) -> bool:
        """True when a global gain/offset describes the pair well enough to be removed.

        That is when the fit leaves residuals at noise level (robust scale at most 0.02, about 5/255)
        or at most half of those without it. A wrong light direction also changes brightness
        globally, but no gain/offset explains it: its residuals stay large, and it stays local.
        """
        if not self.estimated:
            return False
        return self.residual_scale <= 0.02 or self.residual_scale <= 0.5 * self.residual_scale_before

    @property
    def brightness_change(self) -> float:
        """Relative change of mean brightness the fit implies (0.02 = 2 % brighter).

        Gain and offset trade off against each other over a limited range of values, so the change
        is measured at the reference's mean level rather than read from the gain alone.
        """
        mean, predicted = self._at_mean_level()
        return float(predicted.sum() / mean.sum()) - 1.0

    def _at_mean_level(self) -> tuple[np.ndarray, np.ndarray]:
        """Each channel's reference mean (at least 1e-3) and what the change makes of it."""
        mean = np.maximum(np.asarray(self.reference_mean), 1e-3)
        return mean, np.asarray(self.gain) * mean + np.asarray(self.offset)

    @property
    def channel_changes(self) -> tuple[float, ...]:
        """Each channel's relative change at the reference's mean level, as :attr:`brightness_change`
        is for their sum (0.06 = 6 % more red, say)."""
        mean, predicted = self._at_mean_level()
        return tuple(float(value) for value in predicted / mean - 1.0)

    @property
    def colour_shift(self) -> str | None:
        """The change of colour balance in words, when the channels changed unlike one another (more
        than 2 % of the level apart): a render lit by a warmer light, or a white balance off. None
        when they changed alike (or the image is grey).

        Example:
            >>> GlobalChange((1.06, 1.0, 0.90), (0.0, 0.0, 0.0), 1.0, 0.0).colour_shift
            'warmer: red +6.0 %, green +0.0 %, blue -10.0 %'
        """
        changes = self.channel_changes
        if len(changes) != 3 or not self.estimated or max(changes) - min(changes) <= 0.02:
            return None
        red, green, blue = changes
        if red - blue > 0.02:
            kind = "warmer"
        elif blue - red > 0.02:
            kind = "cooler"
        else:
            kind = "greener" if green > (red + blue) / 2 else "more magenta"
        names = ("red", "green", "blue")
        words = ", ".join(
            f"{name} {signed(100 * value)} %" for name, value in zip(names, changes, strict=True)
        )
        return f"{kind}: {words}"

    @property
    def largest_shift(self) -> float:
        """The most the change moves any value in [0, 1], over the channels (0.01 = 1 % of the range).

        Gain and offset are taken together: on a line the largest move is at 0 or at 1, so a gain of
        0.994 with an offset of +0.0024 (what JPEG leaves in a blue channel) moves no value by more than
        0.37 %, though the gain alone is 0.6 % off.
        """
        gain, offset = np.asarray(self.gain), np.asarray(self.offset)
        return float(np.max(np.maximum(np.abs(offset), np.abs(gain - 1.0 + offset))))

    @property
    def is_significant(self) -> bool:
        """True when the change moves some value in [0, 1] by more than 0.5 % of the range
        (:attr:`largest_shift`). Until 2026-12-07 the gain and the offset were judged apart, and a JPEG
        copy read "brightness +0.0 % (removed)"."""
        return self.largest_shift > 0.005

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict."""
        return {
            "gain": [round(g, 5) for g in self.gain],
            "offset": [round(o, 5) for o in self.offset],
            "brightness_change": round(self.brightness_change, 5) if self.estimated else None,
            "channel_changes": [round(c, 5) for c in self.channel_changes] if self.estimated else None,
            "colour_shift": self.colour_shift,
            "significant": self.is_significant,
            "inlier_fraction": round(self.inlier_fraction, 4),
            "residual_scale": round(self.residual_scale, 6),
            "residual_scale_before": round(self.residual_scale_before, 6),
            "explains_pair": self.explains_pair,
            "estimated": self.estimated,
        }


IDENTITY_CHANGE = GlobalChange((1.0, 1.0, 1.0), (0.0, 0.0, 0.0), 1.0, 0.0)


def exposure_change_ev(
    reference: np.ndarray, test: np.ndarray, mask: np.ndarray | None = None
) -> float | None:
    """The exposure change from the reference to the test image, in stops (EV), for HDR pairs.

    HDR values are linear light, where a change of exposure multiplies every value by one factor:
    the median over the pixels of log2(test / reference) luminance measures it, whatever changed
    locally in fewer than half of them (a moved light, an object). A display-space brightness change
    of a tone-mapped pair says less: 2 stops darker read "-36 %".

    Args:
        reference: HxWx3 float32, linear light (HDR).
        test: HxWx3 float32, linear light, aligned to the reference.
        mask: optional HxW boolean array of pixels both images cover.

    Returns:
        Stops (-2.0: a quarter of the light), or None when fewer than 1 % of the pixels are lit in both
        images (luminance above a millionth of the reference's brightest).

    Example:
        >>> reference = np.full((8, 8, 3), 0.5, np.float32)
        >>> exposure_change_ev(reference, reference / 4)
        -2.0
    """
    weights = np.array([0.2126, 0.7152, 0.0722], np.float32)  # Rec. 709 luminance of linear RGB
    lum_ref = reference[..., :3] @ weights
    lum_test = test[..., :3] @ weights
    floor = 1e-6 * max(float(lum_ref.max()), 1e-12)
    lit = (lum_ref > floor) & (lum_test > floor) & np.isfinite(lum_ref) & np.isfinite(lum_test)
    if mask is not None:
        lit &= mask
    if lit.sum() < 0.01 * lit.size:
        return None
    return round(float(np.median(np.log2(lum_test[lit] / lum_ref[lit]))), 4)


def _sample_indices(valid: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # A regular stride with a seeded start covers the image evenly and costs one pass, unlike a
    # random choice without replacement over millions of pixels.
    stride = max(1, valid.size // _MAX_SAMPLES)
    start = int(rng.integers(stride))
    grid = np.arange(start, valid.size, stride)
    return grid[valid.ravel()[grid]]


def _fit_channel(x: np.ndarray, y: np.ndarray) -> tuple[float, float, np.ndarray, float]:
    """Tukey-biweight IRLS fit of y = gain * x + offset; returns gain, offset, inlier mask, scale."""
    gain, offset = 1.0, float(np.median(y - x))
    fit_gain = x.size >= 16 and float(np.std(x)) > 1e-3
    weights = np.ones_like(x)
    scale = 0.0
    for _ in range(20):
        residual = y - (gain * x + offset)
        scale = 1.4826 * float(np.median(np.abs(residual - np.median(residual))))
        scale = max(scale, 1e-4)
        u = residual / (_TUKEY_C * scale)
        weights = np.where(np.abs(u) < 1.0, (1.0 - u * u) ** 2, 0.0)
        total = float(weights.sum())
        if total <= 0:
            break
        if fit_gain:
            mean_x = float((weights * x).sum()) / total
            mean_y = float((weights * y).sum()) / total
            var_x = float((weights * (x - mean_x) ** 2).sum())
            covariance = float((weights * (x - mean_x) * (y - mean_y)).sum())
            new_gain = covariance / var_x if var_x > 1e-12 else 1.0
            new_offset = mean_y - new_gain * mean_x
        else:
            new_gain, new_offset = 1.0, float((weights * (y - x)).sum()) / total
        converged = abs(new_gain - gain) < 1e-6 and abs(new_offset - offset) < 1e-7
        gain, offset = new_gain, new_offset
        if converged:
            break
    return gain, offset, weights > 0, scale


def estimate_global_change(
    reference: np.ndarray, test: np.ndarray, mask: np.ndarray | None = None, *, seed: int = 0
) -> GlobalChange:
    """Fit ``test = gain * reference + offset`` per channel, ignoring local changes.

    A Tukey-biweight robust regression on up to 60,000 pixels sampled on a regular grid: pixels that
    changed locally get zero weight, so a small changed region does not bias the fit. Samples near 0
    or 1 in either image are left out because clipping hides the gain there.

    Args:
        reference: HxWxC image, sRGB-encoded in [0, 1] (uint8 and uint16 arrays are scaled to [0, 1]).
        test: aligned HxWxC image in the same encoding.
        mask: optional HxW boolean array of the pixels both images cover.
        seed: seed of the sampling grid's offset.

    Returns:
        The per-channel gain and offset, and how well they explain the pair.

    Raises:
        InvalidArgumentError: an array of another integer type (see :func:`synthdiff.io.float_pixels`).
    """
    reference, test = unit_scaled(reference, "reference"), unit_scaled(test, "test")
    rng = np.random.default_rng(seed)
    channels = reference.shape[2]
    gains, offsets, inliers, scales, scales_before, means = [], [], [], [], [], []
    fitted = 0
    # Pixels as rows: sampling a channel then reads only the sampled values (ravel() of one channel
    # of an HxWxC array would copy the whole channel first, four times per channel).
    reference_rows = reference.reshape(-1, channels)
    test_rows = test.reshape(-1, channels)
    for channel in range(channels):
        x_all, y_all = reference_rows[:, channel], test_rows[:, channel]
        grid = _sample_indices(np.ones(reference.shape[:2], dtype=bool) if mask is None else mask, rng)
        x_grid, y_grid = x_all[grid], y_all[grid]
        unclipped = (x_grid > _CLIP_MARGIN) & (x_grid < 1 - _CLIP_MARGIN)
        unclipped &= (y_grid > _CLIP_MARGIN) & (y_grid < 1 - _CLIP_MARGIN)
        indices = grid[unclipped]
        if indices.size < 16:
            gains.append(1.0)
            offsets.append(0.0)
            inliers.append(1.0)
            scales.append(0.0)
            scales_before.append(0.0)
            means.append(float(x_all.mean()))
            continue
        fitted += 1
        x = x_all[indices].astype(np.float64)
        y = y_all[indices].astype(np.float64)
        gain, offset, inlier, scale = _fit_channel(x, y)
        gains.append(gain)
        offsets.append(offset)
        inliers.append(float(inlier.mean()))
        scales.append(scale)
        means.append(float(x.mean()))
        plain = y - x
        scales_before.append(
            1.4826 * float(np.median(np.abs(plain - np.median(plain)))) + abs(float(np.median(plain)))
        )
    return GlobalChange(
        tuple(gains),
        tuple(offsets),
        float(np.mean(inliers)),
        float(np.mean(scales)),
        float(np.mean(scales_before)),
        tuple(means),
        estimated=bool(fitted),
    )


def local_difference(
    reference: np.ndarray, test: np.ndarray, change: GlobalChange | None = None, *, clip: bool = True
) -> np.ndarray:
    """Signed per-pixel difference left after removing a global change.

    The reference is mapped through the global change (and clipped to [0, 1] like the test image
    would have been), then subtracted from the test image.

    Args:
        reference: HxWxC image, sRGB-encoded in [0, 1] (uint8 and uint16 arrays are scaled to [0, 1]).
        test: aligned HxWxC image in the same encoding.
        change: the global change to remove; None compares the images as they are.
        clip: clip the predicted test image to [0, 1] (LDR images saturate).

    Returns:
        HxWxC float32 residual ``test - prediction``, 0 where the pair agrees.

    Raises:
        InvalidArgumentError: an array of another integer type (see :func:`synthdiff.io.float_pixels`).
    """
    reference, test = unit_scaled(reference, "reference"), unit_scaled(test, "test")
    if change is None:
        predicted = reference
    else:
        gain = np.asarray(change.gain, dtype=np.float32)
        offset = np.asarray(change.offset, dtype=np.float32)
        predicted = reference * gain + offset
        if clip:
            predicted = np.clip(predicted, 0.0, 1.0)
    return (test - predicted).astype(np.float32)


def difference_magnitude(residual: np.ndarray) -> np.ndarray:
    """Colour distance per pixel: the RMS over channels of an HxWxC residual, as HxW float32."""
    channels = residual.shape[2]
    return np.sqrt(np.einsum("hwc,hwc->hw", residual, residual) / channels).astype(np.float32)
