"""Semantic change detection between a reference render and a test render, per rendering feature.

Models (``create_model``): ``fresunet`` and ``changestar`` (plus tiny test variants); each returns a
:class:`ChangeOutput` of ``seg_ref``, ``seg_test`` and ``change`` logits per feature.
"""

from synthdiff.change._models import ChangeOutput, ChangeStar, FresUNet
from synthdiff.change._registry import (
    FEATURES,
    MODELS,
    ModelInfo,
    create_model,
    load_checkpoint,
    save_checkpoint,
)

__all__ = [
    "FEATURES",
    "MODELS",
    "ChangeOutput",
    "ChangeStar",
    "FresUNet",
    "ModelInfo",
    "create_model",
    "load_checkpoint",
    "save_checkpoint",
]
