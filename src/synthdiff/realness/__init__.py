"""How likely an image is a render rather than a camera photo, and where it gives itself away.

A small CNN scores square crops taken at the image's native resolution from their Fourier
log-magnitude (optionally with the RGB crop and a high-pass residual); the crop logits are averaged
(patch voting) and calibrated into a probability on a validation split (Platt scaling).
"""

from synthdiff.realness._calibration import Calibration, expected_calibration_error, fit_calibration
from synthdiff.realness._data import LabelledImage, RealnessCrops, list_source, split_images
from synthdiff.realness._evaluate import ImageResult, RealnessEvaluation, SkippedImage, evaluate_images
from synthdiff.realness._features import (
    CUES,
    crop_features,
    feature_channels,
    fourier_log_magnitude,
    high_pass_residual,
)
from synthdiff.realness._files import FileScores, ScoredFile, interrupted_scores, score_files
from synthdiff.realness._model import RealnessNet
from synthdiff.realness._patches import PatchGrid, extract_patches, patch_grid
from synthdiff.realness._registry import (
    MODELS,
    RealnessModel,
    RealnessSettings,
    create_model,
    load_realness_model,
    save_realness_model,
)
from synthdiff.realness._score import RealnessScore, crop_logits, score_image
from synthdiff.realness._train import (
    RealnessTrainConfig,
    RealnessTrainResult,
    load_realness_config,
    train_realness,
)

__all__ = [
    "CUES",
    "MODELS",
    "Calibration",
    "FileScores",
    "ImageResult",
    "LabelledImage",
    "PatchGrid",
    "RealnessCrops",
    "RealnessEvaluation",
    "RealnessModel",
    "RealnessNet",
    "RealnessScore",
    "RealnessSettings",
    "RealnessTrainConfig",
    "RealnessTrainResult",
    "ScoredFile",
    "SkippedImage",
    "create_model",
    "crop_features",
    "crop_logits",
    "evaluate_images",
    "expected_calibration_error",
    "extract_patches",
    "feature_channels",
    "fit_calibration",
    "fourier_log_magnitude",
    "high_pass_residual",
    "interrupted_scores",
    "list_source",
    "load_realness_config",
    "load_realness_model",
    "patch_grid",
    "save_realness_model",
    "score_files",
    "score_image",
    "split_images",
    "train_realness",
]
