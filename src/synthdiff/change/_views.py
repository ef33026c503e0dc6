"""Test-time augmentation for change detectors: average the logits over flipped and turned views.

Each view applies one flip or quarter turn to *both* images, runs the detector, and turns its output
maps back; the logits of all views are averaged. The detectors were trained with the same flips and
turns, so every view is one they know; averaging smooths out answers that hang on orientation.
Swap symmetry is kept (every view is symmetric). Cost: one detector run per view.
"""

from __future__ import annotations

import torch
from torch import nn

from synthdiff.change._models import ChangeOutput
from synthdiff.errors import InvalidArgumentError

__all__ = ["VIEWS", "ViewAverage", "with_views"]

# A view is (quarter turns, mirror): mirror left-right first, then turn counter-clockwise.
_View = tuple[int, bool]

#: View sets by name, with the views each runs.
VIEWS: dict[str, tuple[_View, ...]] = {
    "none": ((0, False),),
    "flip": ((0, False), (0, True)),
    "flips": ((0, False), (0, True), (2, False), (2, True)),  # as given, mirrored, upside down, both
    "dihedral": tuple((turns, mirror) for turns in range(4) for mirror in (False, True)),
}


def _forward(images: torch.Tensor, view: _View) -> torch.Tensor:
    turns, mirror = view
    if mirror:
        images = images.flip(-1)
    return images.rot90(turns, dims=(-2, -1)) if turns else images


def _backward(maps: torch.Tensor, view: _View) -> torch.Tensor:
    turns, mirror = view
    if turns:
        maps = maps.rot90(-turns, dims=(-2, -1))
    return maps.flip(-1) if mirror else maps


class ViewAverage(nn.Module):
    """A change detector run on several views of the pair, its logits averaged.

    Views that keep the image's shape (flips, half turns) run in one batch, and the quarter-turned ones
    in another, so a 4-view set costs about one batched forward pass of 4 pairs.

    Args:
        detector: ``detector(reference, test) -> ChangeOutput``; images (B, 3, H, W) in [0, 1].
        views: a name from :data:`VIEWS`.

    Raises:
        InvalidArgumentError: unknown view set.
    """

    def __init__(self, detector: nn.Module, views: str) -> None:
        super().__init__()
        if views not in VIEWS:
            raise InvalidArgumentError(f"Expected views from {', '.join(VIEWS)}, got {views!r}.")
        self.detector = detector
        self.views = views

    def forward(self, reference: torch.Tensor, test: torch.Tensor) -> ChangeOutput:
        batch = reference.shape[0]
        sums: list[torch.Tensor] | None = None
        for group in (
            [v for v in VIEWS[self.views] if v[0] % 2 == 0],
            [v for v in VIEWS[self.views] if v[0] % 2 == 1],
        ):
            if not group:
                continue
            output = self.detector(
                torch.cat([_forward(reference, v) for v in group]),
                torch.cat([_forward(test, v) for v in group]),
            )
            for index, view in enumerate(group):
                part = [
                    _backward(maps[index * batch : (index + 1) * batch], view)
                    for maps in (output.seg_ref, output.seg_test, output.change)
                ]
                sums = part if sums is None else [s + p for s, p in zip(sums, part, strict=True)]
        assert sums is not None
        count = len(VIEWS[self.views])
        return ChangeOutput(*(s / count for s in sums))


def with_views(detector: nn.Module, views: str) -> nn.Module:
    """``detector`` itself for ``"none"``, else wrapped in a :class:`ViewAverage`.

    Raises:
        InvalidArgumentError: unknown view set.
    """
    return detector if views == "none" else ViewAverage(detector, views).eval()
