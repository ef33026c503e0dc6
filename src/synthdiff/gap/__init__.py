"""How far apart two image sets are, in what way, with uncertainty (``synthdiff gap``)."""

from synthdiff.gap._analysis import MIN_IMAGES, deep_distances, shared_pca
from synthdiff.gap._distances import (
    Prdc,
    classifier_auc,
    euclidean,
    frechet_distance,
    kernel_distance,
    polynomial_kernel,
    prdc,
)
from synthdiff.gap._gap import GAP_SCHEMA_VERSION, GapReport, default_cache_dir, gap

__all__ = [
    "GAP_SCHEMA_VERSION",
    "MIN_IMAGES",
    "GapReport",
    "Prdc",
    "classifier_auc",
    "deep_distances",
    "default_cache_dir",
    "euclidean",
    "frechet_distance",
    "gap",
    "kernel_distance",
    "polynomial_kernel",
    "prdc",
    "shared_pca",
]
