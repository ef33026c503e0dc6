"""Running a change detector on image pairs of any size: overlapping tiles blended without seams."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage
from torch import nn

from synthdiff.change._hysteresis import _NEIGHBOURS, hysteresis_mask
from synthdiff.change._models import IDENTICAL_TOLERANCE
from synthdiff.errors import InvalidArgumentError, SizeMismatchError
from synthdiff.io import image_array

__all__ = ["AtWorkingSize", "ChangeMaps", "FeatureRegion", "predict_maps", "tile_starts", "working_shape"]


def working_shape(height: int, width: int, work_size: int | None) -> tuple[int, int] | None:
    """The (height, width) a pair of ``height`` x ``width`` runs at: scaled down so that its shorter side
    is ``work_size`` (the side of the images the model was trained on), or None to run it as it is (no
    ``work_size``, or an image no larger).

    A detector trained on whole scenes rendered at 256x256 learned how large things are at that size: on
    the same scenes rendered at 512x512 the shipped ``fresunet-wide`` scored a texture change F1 of 0.69 at
    full size and 0.83 scaled down (docs/models.md, "Images larger than the training renders").

    Example:
        >>> working_shape(1080, 1920, 256), working_shape(200, 300, 256)
        ((256, 455), None)
    """
    if work_size is None or min(height, width) <= work_size:
        return None
    factor = work_size / min(height, width)
    return max(1, round(height * factor)), max(1, round(width * factor))


def small_pair_note(height: int, width: int, train_size: int | None) -> str | None:
    """A note for a pair much smaller than the model's training renders (shorter side under three
    quarters of ``train_size``), which runs at its own size; None otherwise.

    Scaled up, 128x128 val pairs marked fifteen times as many unchanged pixels, so such pairs are not
    scaled up; at their own size ``fresunet-wide`` found less of each change on them than on the same
    scenes rendered at 256x256 (docs/models.md, "Pairs smaller than the training renders").
    """
    if train_size is None or 4 * min(height, width) >= 3 * train_size:
        return None
    return (
        f"the pair ({width}x{height}) is much smaller than the renders the model was trained on (shorter "
        f"side {train_size}): it ran at its own size, where it finds less of each change (fresunet-wide "
        "on 128x128 val pairs: mean F1 0.810, the same scenes at 256x256: 0.864)"
    )


def _scale_down(images: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """(B, C, H, W) images averaged down to ``shape`` (area averaging: no aliasing)."""
    return F.interpolate(images, size=shape, mode="area")


def _scale_up(probabilities: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """(B, F, h, w) probability maps brought back to ``shape`` by bilinear interpolation."""
    return F.interpolate(probabilities, size=shape, mode="bilinear", align_corners=False)


class AtWorkingSize(nn.Module):
    """Runs a change detector on whole batches at :func:`working_shape`, its maps brought back to the
    inputs' size: what :func:`predict_maps` does with ``work_size``, for ``evaluate`` and tuning.

    The probabilities are scaled up (as :func:`predict_maps` does), and returned as logits again.
    """

    def __init__(self, model: nn.Module, work_size: int) -> None:
        super().__init__()
        self.model, self.work_size = model, work_size

    def forward(self, reference: torch.Tensor, test: torch.Tensor) -> Any:
        shape = working_shape(reference.shape[-2], reference.shape[-1], self.work_size)
        if shape is None:
            return self.model(reference, test)
        output = self.model(_scale_down(reference, shape), _scale_down(test, shape)).probabilities()
        full = (reference.shape[-2], reference.shape[-1])
        # Logits again, as a detector gives them; 1e-6 keeps the certain pixels finite.
        maps = [
            torch.logit(_scale_up(m, full), eps=1e-6)
            for m in (output.seg_ref, output.seg_test, output.change)
        ]
        return type(output)(*maps)


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles covering ``length`` with at least ``overlap`` pixels shared between
    neighbours; the last tile ends exactly at ``length`` (no padding beyond the image)."""
    if length <= tile:
        return [0]
    step = tile - overlap
    count = int(np.ceil((length - tile) / step)) + 1
    return [round(i * (length - tile) / (count - 1)) for i in range(count)]


def _ramp(size: int, overlap: int) -> np.ndarray:
    """Blending weights along one axis: rising over ``overlap`` pixels at each end, never zero."""
    ramp = np.ones(size, np.float32)
    if overlap > 0:
        edge = (np.arange(overlap, dtype=np.float32) + 0.5) / overlap
        ramp[:overlap] = np.minimum(ramp[:overlap], edge)
        ramp[-overlap:] = np.minimum(ramp[-overlap:], edge[::-1])
    return ramp


@dataclass
class FeatureRegion:
    """A connected changed region of one feature."""

    feature: str
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 (end exclusive), pixels
    area: int
    confidence: float  # mean change probability inside the region


@dataclass
class ChangeMaps:
    """Per-feature probability maps of one pair, each (H, W) float32 in [0, 1].

    ``thresholds``: per feature, the change probability above which a pixel counts as changed;
    ``low_thresholds``: per feature, with hysteresis, the lower probability above which a pixel
    connected to such a pixel counts too (:func:`~synthdiff.change.hysteresis_mask`; a feature
    missing here has a single threshold). ``min_area``: connected changed regions of fewer pixels
    are not marked (:func:`~synthdiff.change.remove_specks`; 0 keeps them). ``scaled_to``: the
    (height, width) the model ran at when the pair was scaled down to its training size
    (:func:`working_shape`), None when it ran at the pair's own size. ``identical``: the pair is one
    picture twice (:func:`~synthdiff.change.identical_pairs`), so no change is marked.
    """

    features: list[str]
    change: dict[str, np.ndarray]
    seg_ref: dict[str, np.ndarray]
    seg_test: dict[str, np.ndarray]
    thresholds: dict[str, float] = field(default_factory=dict)
    regions: list[FeatureRegion] = field(default_factory=list)
    low_thresholds: dict[str, float] = field(default_factory=dict)
    min_area: int = 0
    scaled_to: tuple[int, int] | None = None
    identical: bool = False

    def changed(self, name: str) -> np.ndarray:
        """(H, W) bool: the pixels of ``name`` marked as changed."""
        high = self.thresholds.get(name, 0.5)
        return hysteresis_mask(self.change[name], high, self.low_thresholds.get(name, high), self.min_area)

    def changed_fractions(self) -> dict[str, float]:
        """Per feature, the share of the pixels marked as changed (``summary()``'s ``changed_fraction``)."""
        return {name: _fraction(self.changed(name)) for name in self.features}

    def summary(self) -> dict[str, Any]:
        """Changed area and confidence per feature, and the regions (JSON-ready)."""
        features = {}
        for name in self.features:
            mask = self.changed(name)  # once per feature: with hysteresis it labels the map
            features[name] = {
                "changed_fraction": _fraction(mask),
                "mean_confidence": round(float(self.change[name][mask].mean()), 4) if mask.any() else None,
                "max_probability": round(float(self.change[name].max()), 4),
                "regions": sum(1 for r in self.regions if r.feature == name),
            }
        return {
            "thresholds": {name: self.thresholds.get(name, 0.5) for name in self.features},
            "low_thresholds": {
                name: self.low_thresholds.get(name, self.thresholds.get(name, 0.5)) for name in self.features
            },
            "min_area": self.min_area,
            # [width, height] the model ran at, as boxes are given; null: the pair's own size.
            "scaled_to": None if self.scaled_to is None else [self.scaled_to[1], self.scaled_to[0]],
            "features": features,
            "regions": [
                {
                    "feature": r.feature,
                    "box": list(r.box),
                    "area": r.area,
                    "confidence": round(r.confidence, 4),
                }
                for r in self.regions
            ],
        }


def _fraction(mask: np.ndarray) -> float:
    return round(float(mask.mean()), 6)


def _regions(maps: ChangeMaps, min_area: int) -> list[FeatureRegion]:
    regions = []
    for name, probability in maps.change.items():
        labels, _ = ndimage.label(maps.changed(name), structure=_NEIGHBOURS)
        for index, box in enumerate(ndimage.find_objects(labels), start=1):
            if box is None:
                continue
            inside = labels[box] == index
            area = int(inside.sum())
            if area < min_area:
                continue
            confidence = float(probability[box][inside].mean())
            rows, cols = box
            regions.append(
                FeatureRegion(name, (cols.start, rows.start, cols.stop, rows.stop), area, confidence)
            )
    return sorted(regions, key=lambda r: (-r.area, r.feature))


def check_thresholds(*thresholds: float | dict[str, float] | None) -> None:
    """Refuse a probability threshold outside [0, 1] (a typo: a percentage, a sign).

    Raises:
        InvalidArgumentError: names the first bad value (and its feature).
    """
    for threshold in thresholds:
        values = threshold.items() if isinstance(threshold, dict) else [("", threshold)]
        for feature, value in values:
            if value is not None and not 0.0 <= value <= 1.0:
                raise InvalidArgumentError(
                    f"Expected change thresholds between 0 and 1, got {value!r}"
                    f"{f' for {feature}' if feature else ''}. Fix: pass --threshold 0.5, for example, or "
                    "leave it out to use the checkpoint's."
                )


@torch.no_grad()
def predict_maps(
    model: nn.Module,
    features: list[str],
    reference: np.ndarray,
    test: np.ndarray,
    *,
    tile: int = 256,
    overlap: int = 32,
    threshold: float | dict[str, float] = 0.5,
    low_threshold: dict[str, float] | None = None,
    min_area: int = 0,
    device: torch.device | None = None,
    work_size: int | None = None,
) -> ChangeMaps:
    """Per-feature change and segmentation probabilities for a pair of any size.

    With ``work_size`` (a checkpoint's ``train_size``), a pair whose shorter side is larger is first
    scaled down to it (:func:`working_shape`) and the maps are brought back to the pair's size after.
    The images are cut into ``tile`` x ``tile`` tiles overlapping by at least ``overlap`` pixels; each
    tile's probabilities are blended with weights that fall towards the tile edges, so no seams show.

    Args:
        model: a change detector (see :func:`create_model` / :func:`load_checkpoint`).
        features: the model's features, in its output order.
        reference, test: HxWx3 float32 sRGB in [0, 1], the same size (uint8 and uint16 arrays are scaled
            to [0, 1], an HxW array is grey: :func:`synthdiff.io.image_array`).
        threshold: change threshold, one for all features or per feature (a checkpoint's
            ``thresholds``, tuned on the validation split).
        low_threshold: per feature, low thresholds for hysteresis (a checkpoint's
            ``low_thresholds``, tuned with its ``thresholds``); default none (single thresholds).
        min_area: connected changed regions of fewer pixels are not marked (a checkpoint's
            ``min_area``); default 0, every region kept.
        work_size: run larger pairs scaled down so that their shorter side is this (a checkpoint's
            ``train_size``); default None, every pair at its own size.

    Raises:
        SizeMismatchError: the images differ in size.
        InvalidArgumentError: bad tile, overlap or threshold, or not image arrays.
    """
    check_thresholds(threshold, low_threshold)
    reference, test = image_array(reference, "reference"), image_array(test, "test")
    if reference.shape != test.shape:
        raise SizeMismatchError(
            f"Expected two images of one size, got {reference.shape[1]}x{reference.shape[0]} and "
            f"{test.shape[1]}x{test.shape[0]}. Fix: `synthdiff detect REF TEST` (synthdiff.change.detect), "
            "which registers (or with --resize scales) the test image onto the reference first."
        )
    smallest = max(32, 2 * overlap + 1)
    if overlap < 0 or tile < smallest:
        raise InvalidArgumentError(
            f"Expected a tile of at least 32 pixels and more than twice the overlap, and an overlap of 0 or "
            f"more, got tile {tile} and overlap {overlap}. Fix: a tile of at least {smallest} (--tile)."
        )
    if work_size is not None and work_size < 1:
        raise InvalidArgumentError(f"Expected a positive working size, got {work_size}.")
    device = device or torch.device("cpu")
    model.eval()
    identical = bool(np.abs(reference - test).max() < IDENTICAL_TOLERANCE)  # as identical_pairs decides
    full_height, full_width = reference.shape[:2]
    shape = working_shape(full_height, full_width, work_size)
    if shape is not None:
        reference, test = (
            _scale_down(torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None], shape)[0]
            .numpy()
            .transpose(1, 2, 0)
            for image in (reference, test)
        )
    height, width = reference.shape[:2]
    tile_h, tile_w = min(tile, height), min(tile, width)
    sums = np.zeros((3, len(features), height, width), np.float32)
    weights = np.zeros((height, width), np.float32)
    weight = np.outer(
        _ramp(tile_h, overlap if height > tile else 0), _ramp(tile_w, overlap if width > tile else 0)
    )

    def tensor(image: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None].float().to(device)

    for top in tile_starts(height, tile_h, overlap):
        for left in tile_starts(width, tile_w, overlap):
            window = (slice(top, top + tile_h), slice(left, left + tile_w))
            output = model(tensor(reference[window]), tensor(test[window])).probabilities()
            stacked = torch.stack([output.seg_ref[0], output.seg_test[0], output.change[0]]).cpu().numpy()
            sums[:, :, window[0], window[1]] += stacked * weight
            weights[window] += weight
    blended = sums / weights
    if identical:  # one picture twice: nothing changed (identical_pairs)
        blended[2] = 0.0
    if shape is not None:
        blended = _scale_up(torch.from_numpy(blended), (full_height, full_width)).numpy()
        height, width = full_height, full_width
    maps = {
        key: dict(zip(features, blended[i], strict=True))
        for i, key in enumerate(("seg_ref", "seg_test", "change"))
    }
    listed_area = max(4, int(0.0005 * height * width))
    thresholds = (
        {name: float(threshold[name]) for name in features}
        if isinstance(threshold, dict)
        else dict.fromkeys(features, float(threshold))
    )
    maps_out = ChangeMaps(
        features=list(features),
        change=maps["change"],
        seg_ref=maps["seg_ref"],
        seg_test=maps["seg_test"],
        thresholds=thresholds,
        low_thresholds={name: float(low_threshold.get(name, thresholds[name])) for name in features}
        if low_threshold
        else dict(thresholds),
        min_area=min_area,
        scaled_to=shape,
        identical=identical,
    )
    maps_out.regions = _regions(maps_out, listed_area)
    return maps_out
