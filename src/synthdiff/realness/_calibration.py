"""Calibrating image scores into probabilities (Platt scaling) and measuring calibration (ECE)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, log_expit

__all__ = ["Calibration", "expected_calibration_error", "fit_calibration", "weighted_log_loss"]


def weighted_log_loss(logits: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> float:
    """The weighted mean negative log-likelihood of 0/1 labels under ``sigmoid(logits)``, computed from the
    logits (exact where probabilities would round to 0 or 1)."""
    nll = -(labels * log_expit(logits) + (1 - labels) * log_expit(-logits))
    return float((weights * nll).sum() / weights.sum())


@dataclass(frozen=True)
class Calibration:
    """``p(synthetic) = sigmoid(scale * logit + bias)``: a temperature (1 / scale) and a bias.

    The identity (scale 1, bias 0) is an uncalibrated model.
    """

    scale: float = 1.0
    bias: float = 0.0

    def probability(self, logits: np.ndarray | float) -> np.ndarray:
        return np.asarray(expit(self.scale * np.asarray(logits, np.float64) + self.bias))


def fit_calibration(logits: np.ndarray, labels: np.ndarray, weights: np.ndarray | None = None) -> Calibration:
    """Fit scale and bias by minimising the log loss (Platt scaling); use the validation split.

    Args:
        logits: (N,) image scores of the uncalibrated model.
        labels: (N,) 1 for synthetic, 0 for real.
        weights: (N,) optional non-negative weight of each score (e.g. to balance classes or sources).

    Raises:
        ValueError: mismatched lengths, or fewer than one example of each class.
    """
    logits = np.asarray(logits, np.float64).ravel()
    labels = np.asarray(labels, np.float64).ravel()
    if logits.shape != labels.shape or labels.sum() < 1 or (1 - labels).sum() < 1:
        raise ValueError(
            f"Expected matching logits and labels with both classes, got {logits.size} logits, "
            f"{int(labels.sum())} synthetic and {int((1 - labels).sum())} real."
        )
    w = np.ones_like(logits) if weights is None else np.asarray(weights, np.float64).ravel()
    if w.shape != logits.shape or (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"Expected {logits.size} non-negative weights with a positive sum.")
    w = w / w.sum()

    def loss(params: np.ndarray) -> float:
        return weighted_log_loss(params[0] * logits + params[1], labels, w)

    result = minimize(loss, np.array([1.0, 0.0]), method="L-BFGS-B", bounds=[(1e-3, 1e3), (-1e3, 1e3)])
    return Calibration(float(result.x[0]), float(result.x[1]))


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """ECE (Guo et al. 2017): the bin-weighted gap between confidence and accuracy.

    Confidence is that of the predicted class (``max(p, 1 - p)``), in ``bins`` equal-width bins.
    """
    probabilities = np.asarray(probabilities, np.float64).ravel()
    labels = np.asarray(labels).ravel().astype(bool)
    if probabilities.size == 0:
        raise ValueError("Expected at least one probability.")
    predicted = probabilities >= 0.5
    confidence = np.where(predicted, probabilities, 1 - probabilities)
    correct = predicted == labels
    index = np.minimum(((confidence - 0.5) * 2 * bins).astype(int), bins - 1)
    error = 0.0
    for b in range(bins):
        members = index == b
        if members.any():
            error += members.mean() * abs(confidence[members].mean() - correct[members].mean())
    return float(error)
