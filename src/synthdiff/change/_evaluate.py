"""Evaluation of a change detector on generated datasets (``synthdiff eval change``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from synthdiff._device import resolve_device
from synthdiff.change._data import ChangePairs
from synthdiff.change._metrics import PixelCounts

__all__ = ["POOLED", "EvalResult", "evaluate", "resolve_device", "tune_thresholds"]

#: The group of every evaluated pair together (a dataset feature is never called this; "all" is one).
POOLED = "pooled"


@dataclass
class EvalResult:
    """Scores of one evaluation.

    Attributes:
        scores: by group of pairs (each dataset feature: "texture", "mixed", "all", ..., and
            :data:`POOLED` for every pair together), then map, then label feature:
            precision, recall, F1, IoU, false-positive rate (None where undefined).
        none_false_positive_rate: share of pixels marked changed (any feature) on ``none`` pairs.
        swap_iou: IoU of the binary change maps with the inputs in both orders (None if not checked).
        pairs: pairs evaluated per dataset feature.
        by_place: for the pairs of each single-feature set, split by where their changes were
            (``FEATURE/PLACE``, for example ``texture/object``: :attr:`PairRecord.place`), the pair count
            and that feature's change-class scores. A small object's change covers few pixels, so the
            pooled scores can hide a kind of change the model misses.
    """

    scores: dict[str, dict[str, dict[str, dict[str, float | None]]]]
    none_false_positive_rate: float | None
    swap_iou: float | None
    pairs: dict[str, int] = field(default_factory=dict)
    by_place: dict[str, dict[str, Any]] = field(default_factory=dict)

    def mean_change_f1(self, group: str = POOLED) -> float:
        """Mean change-class F1 over the label features where it is defined (the selection score)."""
        values = [
            v["f1"] for v in self.scores.get(group, {}).get("change", {}).values() if v["f1"] is not None
        ]
        return sum(values) / len(values) if values else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "scores": self.scores,
            "none_false_positive_rate": self.none_false_positive_rate,
            "swap_iou": self.swap_iou,
            "pairs": self.pairs,
            "by_place": self.by_place,
        }


def _threshold_tensor(
    features: list[str], thresholds: dict[str, float], device: torch.device
) -> torch.Tensor:
    return torch.tensor([thresholds[f] for f in features], device=device)


@torch.no_grad()
def change_histograms(
    model: nn.Module,
    data: ChangePairs,
    *,
    batch_size: int = 8,
    device: torch.device | None = None,
    bins: int = 100,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per feature (rows), the counts of changed and of unchanged pixels by change-probability bin."""
    device = device or torch.device("cpu")
    model.eval()
    count = len(data.features)
    positives = torch.zeros(count, bins, dtype=torch.float64)
    negatives = torch.zeros(count, bins, dtype=torch.float64)
    for batch in DataLoader(data, batch_size=batch_size, shuffle=False):
        probability = model(batch["reference"].to(device), batch["test"].to(device)).probabilities().change
        index = (probability * bins).long().clamp_(0, bins - 1).cpu()
        changed = batch["change"] > 0.5
        for f in range(count):
            positives[f] += torch.bincount(index[:, f][changed[:, f]], minlength=bins).double()
            negatives[f] += torch.bincount(index[:, f][~changed[:, f]], minlength=bins).double()
    return positives, negatives


def f1_by_threshold(positives: torch.Tensor, negatives: torch.Tensor) -> torch.Tensor:
    """Change F1 (last axis) at thresholds 1/bins ... (bins-1)/bins, from :func:`change_histograms`:
    predicting "changed" for bins >= k, true/false positives are the counts from bin k upwards."""
    true_pos = positives.flip(-1).cumsum(-1).flip(-1)[..., 1:]
    false_pos = negatives.flip(-1).cumsum(-1).flip(-1)[..., 1:]
    false_neg = positives.sum(-1, keepdim=True) - true_pos
    return 2 * true_pos / (2 * true_pos + false_pos + false_neg).clamp(min=1)


def tune_thresholds(
    model: nn.Module,
    data: ChangePairs,
    *,
    batch_size: int = 8,
    device: torch.device | None = None,
    bins: int = 100,
) -> dict[str, float]:
    """Per feature, the change threshold that maximises the change F1 on ``data``.

    Use the validation split (never the test split). Probabilities are binned in ``bins`` steps;
    the thresholds tried are 1/bins ... (bins-1)/bins, and among equal F1 the one nearest 0.5 wins.
    A feature without changed pixels in ``data`` keeps 0.5.
    """
    positives, negatives = change_histograms(model, data, batch_size=batch_size, device=device, bins=bins)
    f1 = f1_by_threshold(positives, negatives)
    candidates = torch.arange(1, bins, dtype=torch.float64) / bins
    thresholds = {}
    for f, name in enumerate(data.features):
        if positives[f].sum() == 0:
            thresholds[name] = 0.5
            continue
        best = f1[f].max()
        near = torch.where(f1[f] >= best - 1e-12, (candidates - 0.5).abs(), torch.inf)
        thresholds[name] = round(float(candidates[int(near.argmin())]), 4)
    return thresholds


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: ChangePairs,
    *,
    threshold: float = 0.5,
    change_thresholds: dict[str, float] | None = None,
    change_low_thresholds: dict[str, float] | None = None,
    batch_size: int = 8,
    device: torch.device | None = None,
    check_swap: bool = False,
    on_batch: Callable[[int, int], None] | None = None,
) -> EvalResult:
    """Run ``model`` over ``data`` and score its binary maps against the labels.

    Args:
        threshold: for the segmentation maps, and the change maps unless ``change_thresholds``.
        change_thresholds: per-feature change thresholds (a checkpoint's, tuned on val).
        change_low_thresholds: per-feature low change thresholds (a checkpoint's ``low_thresholds``):
            pixels above them count where connected to pixels above ``change_thresholds``
            (:func:`~synthdiff.change.hysteresis_mask`); default none (single thresholds).
    """
    device = device or torch.device("cpu")
    highs = {f: (change_thresholds or {}).get(f, threshold) for f in data.features}
    change_threshold = _threshold_tensor(data.features, highs, device)
    # A feature without a low threshold keeps its single one.
    change_low = (
        None
        if change_low_thresholds is None
        else _threshold_tensor(data.features, highs | change_low_thresholds, device)
    )
    model.eval()
    groups: dict[str, PixelCounts] = {POOLED: PixelCounts(data.features)}
    places: dict[str, PixelCounts] = {}
    pairs: dict[str, int] = {}
    place_pairs: dict[str, int] = {}
    none_marked = none_total = 0.0
    swap_intersection = swap_union = 0.0
    loader = DataLoader(data, batch_size=batch_size, shuffle=False)
    done = 0
    for batch in loader:
        tensors = {k: v.to(device) for k, v in batch.items() if isinstance(v, torch.Tensor)}
        output = model(tensors["reference"], tensors["test"])
        masks = output.masks(threshold, change_threshold, change_low)
        for index, feature in enumerate(batch["feature"]):
            pairs[feature] = pairs.get(feature, 0) + 1
            one = {k: v[index : index + 1] for k, v in tensors.items()}
            single = type(masks)(
                *(getattr(masks, name)[index : index + 1] for name in ("seg_ref", "seg_test", "change"))
            )
            groups.setdefault(feature, PixelCounts(data.features)).update(single, one)
            if feature in data.features:
                key = f"{feature}/{batch['place'][index]}"
                place_pairs[key] = place_pairs.get(key, 0) + 1
                places.setdefault(key, PixelCounts(data.features)).update(single, one)
            if feature == "none":
                none_marked += float(single.change.any(dim=1).sum())
                none_total += float(single.change[:, 0].numel())
        groups[POOLED].update(masks, tensors)
        if check_swap:
            swapped = model(tensors["test"], tensors["reference"])
            swapped_change = swapped.masks(threshold, change_threshold, change_low).change
            swap_intersection += float((swapped_change & masks.change).sum())
            swap_union += float((swapped_change | masks.change).sum())
        done += len(batch["feature"])
        if on_batch is not None:
            on_batch(done, len(data))
    return EvalResult(
        scores={name: counts.compute() for name, counts in groups.items()},
        none_false_positive_rate=none_marked / none_total if none_total else None,
        swap_iou=(swap_intersection / swap_union if swap_union else 1.0) if check_swap else None,
        pairs=pairs,
        by_place={
            key: {"pairs": place_pairs[key], "change": counts.compute()["change"][key.split("/")[0]]}
            for key, counts in sorted(places.items())
        },
    )
