"""Set distances: invariants, agreement with closed forms and scipy, and known separations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import sqrtm

from synthdiff.gap import (
    classifier_auc,
    euclidean,
    frechet_distance,
    kernel_distance,
    polynomial_kernel,
    prdc,
)


def gaussian(n: int, dim: int, shift: float = 0.0, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(shift, 1.0, (n, dim))


def test_frechet_distance_matches_the_sqrtm_formula_and_is_zero_for_one_set() -> None:
    a, b = gaussian(300, 6, seed=1), gaussian(200, 6, 0.5, seed=2) * np.linspace(0.5, 2, 6)
    mean_a, mean_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    expected = ((mean_a - mean_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * sqrtm(cov_a @ cov_b).real)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-6)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="at least 2 vectors"):
        frechet_distance(a[:1], b)


def test_unbiased_kid_is_near_zero_for_one_distribution_and_grows_with_a_shift() -> None:
    a, same, shifted = gaussian(400, 8, seed=3), gaussian(400, 8, seed=4), gaussian(400, 8, 0.5, seed=5)

    def kid(x: np.ndarray, y: np.ndarray) -> float:
        return kernel_distance(polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y))

    assert abs(kid(a, same)) < 0.01 < kid(a, shifted)
    assert kid(a, gaussian(400, 8, 1.0, seed=6)) > kid(a, shifted)


def test_prdc_of_identical_and_of_disjoint_sets() -> None:
    a = gaussian(200, 4, seed=7)
    same = prdc(euclidean(a, a), euclidean(a, a), euclidean(a, a), k=5)
    assert (same.precision, same.recall, same.coverage) == (1.0, 1.0, 1.0)
    far = a + 100.0
    apart = prdc(euclidean(a, a), euclidean(far, far), euclidean(a, far), k=5)
    assert (apart.precision, apart.recall, apart.density, apart.coverage) == (0.0, 0.0, 0.0, 0.0)
    independent = prdc(euclidean(a, a), euclidean(b := gaussian(200, 4, seed=8), b), euclidean(a, b), k=5)
    assert 0.7 < independent.precision <= 1.0 and 0.7 < independent.density < 1.3
    with pytest.raises(ValueError, match="more than k=5"):
        prdc(euclidean(a[:5], a[:5]), euclidean(a, a), euclidean(a[:5], a))


def test_the_classifier_test_is_near_chance_for_one_distribution_and_separates_shifted_sets() -> None:
    a, same, shifted = gaussian(200, 10, seed=9), gaussian(200, 10, seed=10), gaussian(200, 10, 1.0, seed=11)
    chance, _, _ = classifier_auc(a, same)
    separated, scores, labels = classifier_auc(a, shifted)
    assert abs(chance - 0.5) < 0.1 and separated > 0.95
    assert scores.shape == labels.shape == (400,) and labels.sum() == 200
    with pytest.raises(ValueError, match="at least 5 vectors"):
        classifier_auc(a[:3], same)


def test_copies_held_out_together_leave_the_classifier_at_chance() -> None:
    # A vector in both sets, held out while its twin is trained on under the other label, is scored as
    # the other set: a set against itself fell far below 0.5.
    a, shifted = gaussian(40, 10, seed=14), gaussian(40, 10, 1.0, seed=15)
    assert classifier_auc(a, a)[0] < 0.3
    twins = np.concatenate([np.arange(40), np.arange(40)])
    assert classifier_auc(a, a, groups=twins)[0] == 0.5
    # Groups of single vectors deal the folds the default deals; separable sets stay separable in groups.
    singles = np.arange(80)
    assert classifier_auc(a, shifted, groups=singles)[0] == classifier_auc(a, shifted)[0] > 0.95
    pairs = np.arange(80) // 2  # neighbours within each set grouped
    assert classifier_auc(a, shifted, groups=pairs)[0] > 0.95


def test_euclidean_agrees_with_scipy() -> None:
    from scipy.spatial.distance import cdist

    a, b = gaussian(30, 7, seed=12), gaussian(20, 7, 0.3, seed=13)
    np.testing.assert_allclose(euclidean(a, b), cdist(a, b), atol=1e-9)
    assert np.allclose(np.diag(euclidean(a, a)), 0.0, atol=1e-6)
