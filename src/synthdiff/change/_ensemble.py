"""An ensemble of change detectors: the mean of their probabilities.

Each member maps the same pair of images to logits; the ensemble returns, for every map (``seg_ref``,
``seg_test``, ``change``), the logit of the mean of the members' sigmoid probabilities, so thresholds and
probabilities downstream mean what they mean for a single detector. Swap symmetry is kept when every
member has it. Cost: one run of each member.
"""

from __future__ import annotations

import torch
from torch import nn

from synthdiff.change._models import ChangeOutput
from synthdiff.errors import InvalidArgumentError

__all__ = ["ProbabilityAverage"]

# Keeps the logit finite where every member is certain.
_EPS = 1e-6


class ProbabilityAverage(nn.Module):
    """Change detectors run on the same pair, their probabilities averaged.

    Args:
        members: detectors with ``member(reference, test) -> ChangeOutput`` for the same features;
            images (B, 3, H, W), RGB in [0, 1].

    Raises:
        InvalidArgumentError: fewer than two members.

    Example:
        >>> from synthdiff.change import FresUNet
        >>> pair = ProbabilityAverage([FresUNet(2, widths=(4, 8, 16)), FresUNet(2, widths=(4, 8, 16))])
        >>> pair(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)).change.shape
        torch.Size([1, 2, 32, 32])
    """

    def __init__(self, members: list[nn.Module]) -> None:
        super().__init__()
        if len(members) < 2:
            raise InvalidArgumentError(f"Expected at least two detectors to average, got {len(members)}.")
        self.members = nn.ModuleList(members)

    def forward(self, reference: torch.Tensor, test: torch.Tensor) -> ChangeOutput:
        outputs = [member(reference, test) for member in self.members]
        maps = []
        for field in ("seg_ref", "seg_test", "change"):
            mean = torch.stack([getattr(output, field).sigmoid() for output in outputs]).mean(0)
            maps.append(torch.logit(mean, eps=_EPS))
        return ChangeOutput(*maps)
