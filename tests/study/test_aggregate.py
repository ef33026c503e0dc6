from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from synthdiff.study import bradley_terry, mean_interval, wilson_interval


def test_wilson_interval_fixed_values() -> None:
    # Wilson score interval for 8 of 10 at 95%: (0.4902, 0.9433), as in Newcombe (1998), Table I, and
    # statsmodels' proportion_confint(8, 10, method="wilson").
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4)
    assert high == pytest.approx(0.9433, abs=1e-4)


def test_wilson_interval_edges() -> None:
    assert wilson_interval(0, 0) is None
    low, high = wilson_interval(0, 5)
    assert low == 0.0 and 0.0 < high < 0.6
    low, high = wilson_interval(5, 5)
    assert high == 1.0 and 0.4 < low < 1.0


def test_mean_interval_matches_scipy() -> None:
    values = [1, 2, 2, 3, 5, 4]
    expected = stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values))
    assert mean_interval(values) == pytest.approx(expected)
    assert mean_interval([3]) is None


def test_bradley_terry_recovers_simulated_strengths() -> None:
    rng = np.random.default_rng(0)
    truth = np.array([-1.0, 0.0, 1.0])
    winners, losers = [], []
    for _ in range(6000):
        i, j = rng.choice(3, 2, replace=False)
        p_i = 1 / (1 + np.exp(truth[j] - truth[i]))
        (winners, losers)[0].append(i if rng.random() < p_i else j)
        losers.append(j if winners[-1] == i else i)
    estimate = bradley_terry(winners, losers, 3, prior=0.0)
    assert estimate == pytest.approx(truth, abs=0.1)


def test_bradley_terry_is_finite_under_perfect_separation_and_permutes() -> None:
    winners, losers = [0, 0, 0, 1], [1, 2, 2, 2]
    scale = bradley_terry(winners, losers, 3)
    assert np.all(np.isfinite(scale)) and scale[0] > scale[1] > scale[2]
    assert scale.sum() == pytest.approx(0.0, abs=1e-9)
    relabel = np.array([2, 0, 1])  # item k becomes relabel[k]
    swapped = bradley_terry(relabel[winners], relabel[losers], 3)
    assert swapped[relabel] == pytest.approx(scale)
