"""Losses and streaming metrics for change detection.

Metrics follow the update/compute pattern: :meth:`PixelCounts.update` adds a batch's confusion
counts, :meth:`PixelCounts.compute` turns the totals into scores, so one pair and a whole dataset
share one code path.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from synthdiff.change._models import ChangeOutput
from synthdiff.errors import InvalidArgumentError

__all__ = ["DICE_MODES", "MAPS", "PixelCounts", "attribution_weights", "balanced_loss", "change_loss"]

#: The three maps a change detector predicts per feature.
MAPS = ("seg_ref", "seg_test", "change")


#: How soft Dice pools pixels: over the whole batch per feature, or per pair and feature.
DICE_MODES = ("batch", "pair")


def balanced_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    max_weight: float = 50.0,
    dice: str = "batch",
    pixel_weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Class-balanced binary cross-entropy plus soft Dice, averaged over features.

    Positive pixels are weighted by the batch's negative/positive ratio per feature (at most
    ``max_weight``), so rare changes are not drowned by the unchanged background; Dice (computed only
    where there are positives) rewards overlap directly. With ``dice="batch"`` it pools each feature's
    pixels over the batch, so a pair whose change covers a few pixels (one object's texture) counts for
    little beside one whose change covers the floor; with ``dice="pair"`` every pair with a change
    counts equally. ``pixel_weight`` multiplies each element's cross-entropy (Dice is unweighted).

    Shape:
        logits, target, pixel_weight: (B, F, H, W); target 0/1.

    Raises:
        InvalidArgumentError: unknown ``dice`` mode.
    """
    if dice not in DICE_MODES:
        raise InvalidArgumentError(f"Expected dice {' or '.join(DICE_MODES)}, got {dice!r}.")
    positives = target.sum(dim=(0, 2, 3))
    negatives = target[:, :1].numel() - positives
    weight = (negatives / positives.clamp(min=1.0)).clamp(1.0, max_weight).view(1, -1, 1, 1)
    bce = F.binary_cross_entropy_with_logits(logits, target, weight=pixel_weight, pos_weight=weight)
    probabilities = logits.sigmoid()
    pooled = (0, 2, 3) if dice == "batch" else (2, 3)
    labelled = target.sum(dim=pooled)
    intersection = (probabilities * target).sum(dim=pooled)
    total = probabilities.sum(dim=pooled) + labelled
    overlap = 1.0 - (2.0 * intersection + 1.0) / (total + 1.0)
    present = labelled > 0
    dice_term = overlap[present].mean() if bool(present.any()) else logits.new_zeros(())
    return bce + dice_term


def attribution_weights(target: torch.Tensor, weight: float) -> torch.Tensor:
    """Per-element loss weights that stress naming the right feature where several may have changed.

    For feature f at a pixel, ``weight`` where some other feature's change is labelled there, else 1:
    the pixels where f changed together with another feature (to be marked for both) and those where
    only another feature changed (not to be marked for f). On the mixed pairs these are where the
    detectors name one feature for another (docs/models.md, "Where the mixed-set errors are"); on a
    single-feature pair they are that feature's changed pixels, seen from the other features' maps.

    Shape:
        target: (B, F, H, W), 0/1 change labels; returns the same shape.

    Raises:
        InvalidArgumentError: ``weight`` not positive.

    Example:
        >>> t = torch.tensor([1.0, 1.0, 0.0, 0.0]).view(1, 4, 1, 1)  # two features changed at one pixel
        >>> attribution_weights(t, 3.0).flatten().tolist()
        [3.0, 3.0, 3.0, 3.0]
    """
    if not weight > 0:
        raise InvalidArgumentError(f"Expected a positive attribution weight, got {weight!r}.")
    others = target.sum(dim=1, keepdim=True) - target
    return torch.where(others > 0, torch.full_like(target, weight), torch.ones_like(target))


def change_loss(
    output: ChangeOutput,
    batch: dict[str, torch.Tensor],
    seg_weight: float,
    change_weight: float,
    max_pos_weight: float,
    dice: str = "batch",
    attribution_weight: float = 1.0,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Separately weighted segmentation and change losses; returns the total and its parts.

    ``max_pos_weight`` caps the positive-pixel weight of :func:`balanced_loss`. A weight w moves the
    logit-0 point to a posterior of about 1 / (1 + w): rare changes are found, at the price of
    marking pixels of other features whose look changed too (a moved light changes highlights).
    ``dice`` is how Dice pools pixels (:func:`balanced_loss`); it applies to every map.
    ``attribution_weight`` multiplies the change cross-entropy of a feature at the pixels where another
    feature's change is labelled (:func:`attribution_weights`).
    """
    seg = 0.5 * (
        balanced_loss(output.seg_ref, batch["seg_ref"], max_pos_weight, dice)
        + balanced_loss(output.seg_test, batch["seg_test"], max_pos_weight, dice)
    )
    pixel_weight = (
        attribution_weights(batch["change"], attribution_weight) if attribution_weight != 1.0 else None
    )
    change = balanced_loss(output.change, batch["change"], max_pos_weight, dice, pixel_weight)
    total = seg_weight * seg + change_weight * change
    return total, {
        "loss": float(total.detach()),
        "seg_loss": float(seg.detach()),
        "change_loss": float(change.detach()),
    }


@dataclass
class PixelCounts:
    """Running true/false positive/negative pixel counts per feature and map."""

    features: list[str]
    counts: dict[str, torch.Tensor] = field(default_factory=dict)

    def update(self, predicted: ChangeOutput, batch: dict[str, torch.Tensor]) -> None:
        """Add a batch: ``predicted`` holds boolean masks (see :meth:`ChangeOutput.masks`)."""
        for name in MAPS:
            guess = getattr(predicted, name).bool()
            truth = batch[name].bool()
            counts = torch.stack(
                [
                    (guess & truth).sum(dim=(0, 2, 3)),
                    (guess & ~truth).sum(dim=(0, 2, 3)),
                    (~guess & truth).sum(dim=(0, 2, 3)),
                    (~guess & ~truth).sum(dim=(0, 2, 3)),
                ]
            ).cpu()
            self.counts[name] = self.counts.get(name, torch.zeros_like(counts)) + counts

    def add(self, other: PixelCounts) -> None:
        """Add the totals of ``other`` (counts over the same features)."""
        for name, counts in other.counts.items():
            self.counts[name] = self.counts.get(name, torch.zeros_like(counts)) + counts

    def to_lists(self) -> dict[str, list[list[int]]]:
        """The totals as plain lists, ``{map: [tp, fp, fn, tn]`` each a list over features``}`` (for JSON)."""
        return {name: counts.tolist() for name, counts in self.counts.items()}

    @classmethod
    def from_lists(cls, features: list[str], lists: dict[str, list[list[int]]]) -> PixelCounts:
        """The inverse of :meth:`to_lists`."""
        return cls(
            list(features), {name: torch.tensor(value, dtype=torch.int64) for name, value in lists.items()}
        )

    def compute(self) -> dict[str, dict[str, dict[str, float | None]]]:
        """Precision, recall, F1, IoU and false-positive rate per map and feature.

        A score whose denominator is zero (no positives anywhere) is None, not 0 or 1.
        """
        scores: dict[str, dict[str, dict[str, float | None]]] = {}
        for name, counts in self.counts.items():
            scores[name] = {}
            for index, feature in enumerate(self.features):
                tp, fp, fn, tn = (float(v) for v in counts[:, index])

                def ratio(numerator: float, denominator: float) -> float | None:
                    return numerator / denominator if denominator > 0 else None

                scores[name][feature] = {
                    "precision": ratio(tp, tp + fp),
                    "recall": ratio(tp, tp + fn),
                    "f1": ratio(2 * tp, 2 * tp + fp + fn),
                    "iou": ratio(tp, tp + fp + fn),
                    "false_positive_rate": ratio(fp, fp + tn),
                    "pixels": tp + fp + fn + tn,
                }
        return scores
