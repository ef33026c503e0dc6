"""Two change thresholds per feature (hysteresis, as in Canny's edge detector).

A pixel counts as changed when its change probability is above a **low** threshold and it is
connected (8-neighbours) to a pixel above a **high** threshold. The faint rim of a change the model is
sure of is kept; an isolated faint blob, the usual false alarm on an unchanged pair, is not. With the
low threshold equal to the high one this is the plain single threshold. It reads the change map only,
so a symmetric model stays symmetric.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import ndimage

from synthdiff.errors import InvalidArgumentError

__all__ = ["change_masks", "check_min_area", "hysteresis_mask", "remove_specks"]

# 8-connectivity, as the regions of synthdiff detect.
_NEIGHBOURS = np.ones((3, 3), bool)


def check_min_area(min_area: int) -> None:
    """Raise InvalidArgumentError unless ``min_area`` is a count of pixels (0 or more)."""
    if min_area < 0:
        raise InvalidArgumentError(f"Expected a minimum area of 0 pixels or more, got {min_area}.")


def remove_specks(mask: np.ndarray, min_area: int) -> np.ndarray:
    """``mask`` without its connected components (8-neighbours) of fewer than ``min_area`` pixels.

    Most false alarms on unchanged pairs are such specks (docs/models.md, stage 25m); a real change
    covers more than a few dozen pixels. ``min_area`` 0 or 1 keeps the mask as it is.

    Example:
        >>> mask = np.zeros((4, 6), bool); mask[0, 0] = True; mask[1:4, 3:6] = True
        >>> remove_specks(mask, 4).sum()
        9
    """
    check_min_area(min_area)
    if min_area <= 1 or not mask.any():
        return mask
    labels, _ = ndimage.label(mask, structure=_NEIGHBOURS)
    keep = np.bincount(labels.ravel()) >= min_area
    keep[0] = False
    return keep[labels]


def hysteresis_mask(
    probability: np.ndarray, high: float, low: float | None = None, min_area: int = 0
) -> np.ndarray:
    """Changed pixels of one map under two thresholds, without specks smaller than ``min_area``.

    Args:
        probability: (H, W) change probabilities in [0, 1].
        high: a connected region counts only if some pixel in it is above this.
        low: the region is the pixels above this connected to such a pixel; ``None`` or equal to
            ``high`` gives the single threshold ``probability > high``.
        min_area: connected changed regions of fewer pixels are dropped (:func:`remove_specks`); 0
            keeps them all.

    Returns:
        (H, W) bool.

    Raises:
        InvalidArgumentError: ``low`` above ``high``, or the map not 2-D.

    Example:
        >>> p = np.array([[0.9, 0.4, 0.0, 0.4]])
        >>> hysteresis_mask(p, high=0.8, low=0.3).tolist()
        [[True, True, False, False]]
    """
    if probability.ndim != 2:
        raise InvalidArgumentError(f"Expected one (H, W) map, got shape {probability.shape}.")
    return remove_specks(_thresholded(probability, high, low), min_area)


def _thresholded(probability: np.ndarray, high: float, low: float | None) -> np.ndarray:
    if low is None or low == high:
        return probability > high
    if low > high:
        raise InvalidArgumentError(f"Expected the low threshold at most the high one, got {low} > {high}.")
    candidates = probability > low
    labels, count = ndimage.label(candidates, structure=_NEIGHBOURS)
    if count == 0:
        return candidates
    seeded = np.zeros(count + 1, bool)
    seeded[labels[probability > high]] = True
    seeded[0] = False
    return seeded[labels]


def threshold_tensor(
    features: list[str], thresholds: dict[str, float], device: torch.device | None = None
) -> torch.Tensor:
    """(F,) float32 thresholds in the order of ``features``, for :func:`change_masks`."""
    return torch.tensor([thresholds[name] for name in features], dtype=torch.float32, device=device)


def change_masks(
    probabilities: torch.Tensor, high: torch.Tensor, low: torch.Tensor | None = None, min_area: int = 0
) -> torch.Tensor:
    """:func:`hysteresis_mask` over a batch of per-feature maps.

    Args:
        probabilities: (B, F, H, W) change probabilities.
        high, low: (F,) thresholds per feature; ``low`` ``None`` (or equal to ``high``) for a single
            threshold.
        min_area: connected changed regions of fewer pixels are dropped (:func:`remove_specks`).

    Returns:
        (B, F, H, W) bool, on the device of ``probabilities``.
    """
    single = probabilities > high.view(1, -1, 1, 1)
    hysteresis = low is not None and not bool((low == high).all())
    if not hysteresis and min_area <= 1:
        return single
    if low is not None and bool((low > high).any()):
        shown = {"low": [round(v, 4) for v in low.tolist()], "high": [round(v, 4) for v in high.tolist()]}
        raise InvalidArgumentError(
            f"Expected each low threshold at most its high one, got low {shown['low']}, high {shown['high']}."
        )
    # The probabilities are needed on the host only to grow regions from their low thresholds.
    maps = probabilities.detach().float().cpu().numpy() if hysteresis else None
    masks = single.cpu().numpy()
    lows = high.tolist() if low is None else low.tolist()
    for f, (h, lo) in enumerate(zip(high.tolist(), lows, strict=True)):
        for b in range(masks.shape[0]):
            if maps is not None and lo < h:
                masks[b, f] = hysteresis_mask(maps[b, f], h, lo, min_area)
            else:
                masks[b, f] = remove_specks(masks[b, f], min_area)
    return torch.from_numpy(masks).to(probabilities.device)
