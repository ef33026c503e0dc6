"""Semantic change detection between a reference render and a test render, per rendering feature.

Models (``create_model``): ``fresunet`` and ``changestar`` (plus tiny test variants); each returns a
:class:`ChangeOutput` of ``seg_ref``, ``seg_test`` and ``change`` logits per feature. Trained weights
of both ship in the package: ``load_checkpoint("fresunet")`` (see ``shipped_models()``).
"""

from synthdiff.change._data import ChangePairs, read_manifest
from synthdiff.change._detect import Detection, detect
from synthdiff.change._ensemble import ProbabilityAverage
from synthdiff.change._evaluate import EvalResult, evaluate, resolve_device, tune_thresholds
from synthdiff.change._hysteresis import change_masks, hysteresis_mask, remove_specks
from synthdiff.change._infer import AtWorkingSize, ChangeMaps, FeatureRegion, predict_maps, working_shape
from synthdiff.change._metrics import PixelCounts, attribution_weights, balanced_loss, change_loss
from synthdiff.change._models import (
    IDENTICAL_TOLERANCE,
    ChangeOutput,
    ChangeStar,
    FresUNet,
    identical_pairs,
    log_ratio,
)
from synthdiff.change._registry import (
    DEFAULT_MODEL,
    ENSEMBLES,
    FEATURES,
    MODELS,
    ModelInfo,
    combine_checkpoints,
    create_model,
    load_checkpoint,
    resolve_checkpoint,
    save_checkpoint,
    set_min_area,
    set_train_size,
    set_views,
    shipped_models,
)
from synthdiff.change._train import TrainConfig, TrainResult, load_config, train_change
from synthdiff.change._tune import ThresholdScore, TuneResult, store_thresholds, tune_change_thresholds
from synthdiff.change._views import VIEWS, ViewAverage, with_views

__all__ = [
    "DEFAULT_MODEL",
    "ENSEMBLES",
    "FEATURES",
    "IDENTICAL_TOLERANCE",
    "MODELS",
    "VIEWS",
    "AtWorkingSize",
    "ChangeMaps",
    "ChangeOutput",
    "ChangePairs",
    "ChangeStar",
    "Detection",
    "EvalResult",
    "FeatureRegion",
    "FresUNet",
    "ModelInfo",
    "PixelCounts",
    "ProbabilityAverage",
    "ThresholdScore",
    "TrainConfig",
    "TrainResult",
    "TuneResult",
    "ViewAverage",
    "attribution_weights",
    "balanced_loss",
    "change_loss",
    "change_masks",
    "combine_checkpoints",
    "create_model",
    "detect",
    "evaluate",
    "hysteresis_mask",
    "identical_pairs",
    "load_checkpoint",
    "load_config",
    "log_ratio",
    "predict_maps",
    "read_manifest",
    "remove_specks",
    "resolve_checkpoint",
    "resolve_device",
    "save_checkpoint",
    "set_min_area",
    "set_train_size",
    "set_views",
    "shipped_models",
    "store_thresholds",
    "train_change",
    "tune_change_thresholds",
    "tune_thresholds",
    "with_views",
    "working_shape",
]
