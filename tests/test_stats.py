"""The shared statistics: the ROC AUC's score interval against Wilson's, by symmetry and by coverage."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from synthdiff._stats import auc, auc_interval, wilson_interval


def test_one_of_each_class_gives_wilson_for_one_trial() -> None:
    # With m = n = 1 the variance is t (1 - t): the interval is Wilson's for 1 success (or none) in 1.
    assert auc_interval(1.0, 1, 1) == pytest.approx(wilson_interval(1, 1))
    assert auc_interval(0.0, 1, 1) == pytest.approx(wilson_interval(0, 1))


def test_a_perfect_ranking_does_not_collapse_and_narrows_with_more_images() -> None:
    widths = []
    for n in (5, 20, 100):
        low, high = auc_interval(1.0, n, n)
        assert high == 1.0 and 0.0 < low < 1.0
        widths.append(high - low)
    assert widths[0] > widths[1] > widths[2]


@pytest.mark.parametrize("value, m, n", [(0.8, 20, 30), (0.55, 7, 3), (0.97, 200, 50)])
def test_contains_the_value_and_mirrors_when_the_classes_swap(value: float, m: int, n: int) -> None:
    low, high = auc_interval(value, m, n)
    assert low < value < high
    # Swapping the classes turns the AUC into 1 - AUC; the variance is symmetric in m and n.
    mirrored = auc_interval(1 - value, n, m)
    assert mirrored == pytest.approx((1 - high, 1 - low), abs=1e-9)


def test_undefined_without_both_classes() -> None:
    assert auc_interval(None, 3, 4) is None and auc_interval(0.7, 0, 4) is None


def test_coverage_on_binormal_samples() -> None:
    # 400 seeded samples of 20 positives ~ N(1.19, 1) and 20 negatives ~ N(0, 1): true AUC 0.800. The
    # interval should cover it in about 95 % of them (measured: 96.3 %); a formula error shows at once
    # (without the (m + n)/2 - 1 term, for instance, coverage falls to 45 %).
    rng = np.random.default_rng(1)
    true = float(stats.norm.cdf(1.19 / np.sqrt(2)))
    labels = np.r_[np.ones(20), np.zeros(20)]
    covered = 0
    for _ in range(400):
        scores = np.r_[rng.normal(1.19, 1, 20), rng.normal(0, 1, 20)]
        low, high = auc_interval(auc(scores, labels), 20, 20)
        covered += low <= true <= high
    assert 0.92 <= covered / 400 <= 0.985
