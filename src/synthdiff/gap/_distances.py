"""Distances between two sets of feature vectors: Fréchet distance, unbiased KID, PRDC, and a
classifier two-sample test. All take (N, D) float arrays, set A first (the reference set, e.g. real
photos) and set B second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import log_expit

from synthdiff._stats import auc

__all__ = [
    "Prdc",
    "classifier_auc",
    "euclidean",
    "frechet_distance",
    "kernel_distance",
    "polynomial_kernel",
    "prdc",
]


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to the two sets (the FID formula).

    ``|mu_a - mu_b|^2 + tr(C_a) + tr(C_b) - 2 tr((C_a C_b)^1/2)``. The last trace equals the sum of
    the singular values of ``X_a X_b^T / sqrt((n_a - 1)(n_b - 1))`` (X: centred vectors), which is
    exact, needs no matrix square root, and costs an n_a x n_b SVD instead of a D x D one. Biased
    upwards at small N: compare it with a baseline at the same N.

    Raises:
        ValueError: fewer than 2 vectors in a set, or different dimensions.
    """
    if len(features_a) < 2 or len(features_b) < 2 or features_a.shape[1] != features_b.shape[1]:
        raise ValueError(
            "Expected two sets of at least 2 vectors of one dimension, "
            f"got {features_a.shape} and {features_b.shape}."
        )
    a = np.asarray(features_a, np.float64)
    b = np.asarray(features_b, np.float64)
    centred_a, centred_b = a - a.mean(axis=0), b - b.mean(axis=0)
    scale_a, scale_b = len(a) - 1, len(b) - 1
    cross = np.linalg.svd(centred_a @ centred_b.T, compute_uv=False).sum() / np.sqrt(scale_a * scale_b)
    traces = (centred_a**2).sum() / scale_a + (centred_b**2).sum() / scale_b
    return float(((a.mean(axis=0) - b.mean(axis=0)) ** 2).sum() + traces - 2 * cross)


def polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """KID's kernel ``(x . y / D + 1)^3``."""
    return (np.asarray(x, np.float64) @ np.asarray(y, np.float64).T / x.shape[1] + 1.0) ** 3


def kernel_distance(k_aa: np.ndarray, k_bb: np.ndarray, k_ab: np.ndarray) -> float:
    """Unbiased squared MMD (the KID estimate) from the three kernel matrices of two samples.

    Unbiased: its expectation is the population value at any N, so it can be slightly negative when
    the sets come from one distribution.
    """
    n, m = len(k_aa), len(k_bb)
    if n < 2 or m < 2:
        raise ValueError(f"Expected at least 2 vectors in each set, got {n} and {m}.")
    within_a = (k_aa.sum() - np.trace(k_aa)) / (n * (n - 1))
    within_b = (k_bb.sum() - np.trace(k_bb)) / (m * (m - 1))
    return float(within_a + within_b - 2 * k_ab.mean())


@dataclass(frozen=True)
class Prdc:
    """Precision, recall, density and coverage of set B against set A (Naeem et al., 2020).

    Precision and density: how much of B lies in A's k-nearest-neighbour balls (density counts
    overlapping balls, 1 on average for identical distributions). Recall: how much of A lies in
    B's balls. Coverage: the share of A's balls that contain some B vector.
    """

    precision: float
    recall: float
    density: float
    coverage: float


def _radii(distances: np.ndarray, k: int) -> np.ndarray:
    """Distance to the k-th nearest other member, from a square within-set distance matrix."""
    return np.sort(distances, axis=1)[:, k]  # column 0 is the member itself


def prdc(d_aa: np.ndarray, d_bb: np.ndarray, d_ab: np.ndarray, k: int = 5) -> Prdc:
    """PRDC from within- and between-set Euclidean distance matrices (A rows, B columns in ``d_ab``).

    Raises:
        ValueError: a set with no more than ``k`` vectors.
    """
    if len(d_aa) <= k or len(d_bb) <= k:
        raise ValueError(f"Expected more than k={k} vectors in each set, got {len(d_aa)} and {len(d_bb)}.")
    radius_a, radius_b = _radii(d_aa, k), _radii(d_bb, k)
    inside_a = d_ab < radius_a[:, None]  # (A, B): B vector j inside A's ball i
    precision = float(inside_a.any(axis=0).mean())
    density = float(inside_a.sum(axis=0).mean() / k)
    recall = float((d_ab < radius_b[None, :]).any(axis=1).mean())
    coverage = float((d_ab.min(axis=1) < radius_a).mean())
    return Prdc(precision, recall, density, coverage)


def euclidean(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pairwise Euclidean distances, (N, D) and (M, D) -> (N, M), through one matrix product
    (``|x|^2 + |y|^2 - 2 x.y``, ten times faster than ``scipy.spatial.distance.cdist`` here)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    squared = (x**2).sum(axis=1)[:, None] + (y**2).sum(axis=1)[None, :] - 2.0 * x @ y.T
    return np.sqrt(np.clip(squared, 0.0, None))


def _fit_logistic(x: np.ndarray, y: np.ndarray, l2: float) -> np.ndarray:
    design = np.hstack([x, np.ones((len(x), 1))])

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = design @ w
        value = -(y * log_expit(z) + (1 - y) * log_expit(-z)).mean() + 0.5 * l2 * (w[:-1] ** 2).sum()
        probability = 1 / (1 + np.exp(-z))
        gradient = design.T @ (probability - y) / len(y)
        gradient[:-1] += l2 * w[:-1]
        return float(value), gradient

    return np.asarray(minimize(loss, np.zeros(design.shape[1]), jac=True, method="L-BFGS-B").x)


def classifier_auc(
    features_a: np.ndarray,
    features_b: np.ndarray,
    folds: int = 5,
    l2: float = 1e-2,
    seed: int = 0,
    groups: np.ndarray | None = None,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Classifier two-sample test: how well a linear classifier tells B from A, out of fold.

    Features are standardised (with the training fold's statistics) and an L2-regularised logistic
    regression is fitted per fold; each vector is scored by the model that did not see it.

    Args:
        groups: one id per vector, A's then B's: vectors of one group (copies of one picture) are held
            out together. A copy in both sets, one held out and the other trained on under the other
            label, is scored as the other set: two identical sets scored an AUC near 0.15, not 0.5.
            Copies within a set inflate the AUC the same way. Default: every vector its own group.

    Returns:
        The AUC of the pooled out-of-fold scores (0.5: indistinguishable, 1: separable), the scores
        and the labels (1 for B), for intervals and rankings.

    Raises:
        ValueError: a set smaller than ``folds``.
    """
    if min(len(features_a), len(features_b)) < folds:
        raise ValueError(
            f"Expected at least {folds} vectors in each set, got {len(features_a)} and {len(features_b)}."
        )
    x = np.vstack([features_a, features_b]).astype(np.float64)
    y = np.concatenate([np.zeros(len(features_a)), np.ones(len(features_b))])
    rng = np.random.default_rng(seed)
    group_of = np.arange(len(y)) if groups is None else np.unique(np.asarray(groups), return_inverse=True)[1]
    # Each group's share of B: 0 or 1 for a group within one set, between for copies in both.
    share_b = np.bincount(group_of, weights=y) / np.bincount(group_of)
    group_fold = np.empty(len(share_b), int)
    # Folds stratified by set: A's groups dealt round, then B's, then the groups in both.
    for members in (share_b == 0, share_b == 1, (share_b > 0) & (share_b < 1)):
        if members.any():
            chosen = rng.permutation(np.flatnonzero(members))
            group_fold[chosen] = np.arange(len(chosen)) % folds
    fold_of = group_fold[group_of]
    scores = np.empty(len(y))
    for fold in range(folds):
        train, held = fold_of != fold, fold_of == fold
        mean, std = x[train].mean(axis=0), x[train].std(axis=0) + 1e-8
        weights = _fit_logistic((x[train] - mean) / std, y[train], l2)
        scores[held] = np.hstack([(x[held] - mean) / std, np.ones((held.sum(), 1))]) @ weights
    value = auc(scores, y)
    return float(value if value is not None else 0.5), scores, y
