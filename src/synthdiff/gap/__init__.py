"""How far apart two image sets are, in what way, with uncertainty (``synthdiff gap``)."""

from synthdiff.gap._distances import (
    Prdc,
    classifier_auc,
    euclidean,
    frechet_distance,
    kernel_distance,
    polynomial_kernel,
    prdc,
)

__all__ = [
    "Prdc",
    "classifier_auc",
    "euclidean",
    "frechet_distance",
    "kernel_distance",
    "polynomial_kernel",
    "prdc",
]
