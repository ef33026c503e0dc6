"""Evaluation of a change detector on generated datasets (``synthdiff eval change``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from synthdiff.change._data import ChangePairs
from synthdiff.change._metrics import PixelCounts

__all__ = ["EvalResult", "evaluate", "resolve_device"]


def resolve_device(name: str) -> torch.device:
    """``auto`` -> the GPU when there is one, else the CPU; otherwise the named device."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


@dataclass
class EvalResult:
    """Scores of one evaluation.

    Attributes:
        scores: by dataset feature ("texture", "mixed", ... and "all"), then map, then label feature:
            precision, recall, F1, IoU, false-positive rate (None where undefined).
        none_false_positive_rate: share of pixels marked changed (any feature) on ``none`` pairs.
        swap_iou: IoU of the binary change maps with the inputs in both orders (None if not checked).
        pairs: pairs evaluated per dataset feature.
    """

    scores: dict[str, dict[str, dict[str, dict[str, float | None]]]]
    none_false_positive_rate: float | None
    swap_iou: float | None
    pairs: dict[str, int] = field(default_factory=dict)

    def mean_change_f1(self, group: str = "all") -> float:
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
        }


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: ChangePairs,
    *,
    threshold: float = 0.5,
    batch_size: int = 8,
    device: torch.device | None = None,
    check_swap: bool = False,
    on_batch: Callable[[int, int], None] | None = None,
) -> EvalResult:
    """Run ``model`` over ``data`` and score its binary maps against the labels."""
    device = device or torch.device("cpu")
    model.eval()
    groups: dict[str, PixelCounts] = {"all": PixelCounts(data.features)}
    pairs: dict[str, int] = {}
    none_marked = none_total = 0.0
    swap_intersection = swap_union = 0.0
    loader = DataLoader(data, batch_size=batch_size, shuffle=False)
    done = 0
    for batch in loader:
        tensors = {k: v.to(device) for k, v in batch.items() if isinstance(v, torch.Tensor)}
        output = model(tensors["reference"], tensors["test"])
        masks = output.masks(threshold)
        for index, feature in enumerate(batch["feature"]):
            pairs[feature] = pairs.get(feature, 0) + 1
            one = {k: v[index : index + 1] for k, v in tensors.items()}
            single = type(masks)(
                *(getattr(masks, name)[index : index + 1] for name in ("seg_ref", "seg_test", "change"))
            )
            groups.setdefault(feature, PixelCounts(data.features)).update(single, one)
            if feature == "none":
                none_marked += float(single.change.any(dim=1).sum())
                none_total += float(single.change[:, 0].numel())
        groups["all"].update(masks, tensors)
        if check_swap:
            swapped = model(tensors["test"], tensors["reference"]).masks(threshold).change
            swap_intersection += float((swapped & masks.change).sum())
            swap_union += float((swapped | masks.change).sum())
        done += len(batch["feature"])
        if on_batch is not None:
            on_batch(done, len(data))
    return EvalResult(
        scores={name: counts.compute() for name, counts in groups.items()},
        none_false_positive_rate=none_marked / none_total if none_total else None,
        swap_iou=(swap_intersection / swap_union if swap_union else 1.0) if check_swap else None,
        pairs=pairs,
    )
