"""Statistics shared by the evaluations: ROC AUC with its score interval, percentile-bootstrap and Wilson
intervals."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import optimize, stats
from scipy.stats import rankdata

__all__ = ["auc", "auc_interval", "bootstrap_interval", "wilson_interval"]


def auc(scores: np.ndarray, labels: np.ndarray) -> float | None:
    """Area under the ROC curve (Mann-Whitney, ties counted half); None without both classes."""
    labels = np.asarray(labels).astype(bool)
    positives, negatives = labels.sum(), (~labels).sum()
    if positives == 0 or negatives == 0:
        return None
    ranks = rankdata(scores)
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def auc_interval(
    value: float | None, positives: int, negatives: int, level: float = 0.95
) -> tuple[float, float] | None:
    """Score interval of an ROC AUC, after Newcombe (2006, Statistics in Medicine 25:559).

    The AUC is the Mann-Whitney probability that a positive scores above a negative. Its variance is
    Hanley and McNeil's (1982) with the two sample sizes replaced by their mean, so it is symmetric in
    the two classes::

        V(t) = t (1 - t) / (m n) * [1 + ((m + n) / 2 - 1) * ((1 - t) / (2 - t) + t / (1 + t))]

    and the interval is every t with (AUC - t)^2 <= z^2 V(t), as Wilson's interval inverts the
    binomial test. Unlike a bootstrap, it does not collapse to [1, 1] for a perfect score: one
    positive and one negative ranked right give Wilson's interval of 1 success in 1 trial.

    Args:
        value: the AUC (None: no interval).
        positives, negatives: how many of each class it was measured on.
        level: coverage.

    Returns:
        (low, high), or None without a value or without both classes.

    >>> auc_interval(1.0, 1, 1) == wilson_interval(1, 1)
    True
    """
    if value is None or positives <= 0 or negatives <= 0:
        return None
    z = float(stats.norm.ppf(0.5 + level / 2))
    pairs = positives * negatives
    shared = (positives + negatives) / 2 - 1

    def excess(t: float) -> float:
        variance = t * (1 - t) / pairs * (1 + shared * ((1 - t) / (2 - t) + t / (1 + t)))
        return (value - t) ** 2 - z * z * variance

    # excess is positive at 0 and 1 (unless the AUC is there) and negative near the AUC itself.
    inside = 1e-12
    low = 0.0 if value <= inside else optimize.brentq(excess, 0.0, value - inside)
    high = 1.0 if value >= 1 - inside else optimize.brentq(excess, value + inside, 1.0)
    return float(low), float(high)


def bootstrap_interval(
    statistic: Callable[[np.ndarray], float | None],
    count: int,
    resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float] | None:
    """Percentile bootstrap interval of ``statistic(indices)`` over ``count`` items (None if undefined)."""
    if count == 0:
        return None
    rng = np.random.default_rng(seed)
    values = [statistic(rng.integers(0, count, count)) for _ in range(resamples)]
    finite = np.array([v for v in values if v is not None], np.float64)
    if finite.size < resamples // 2:
        return None
    low, high = np.quantile(finite, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def wilson_interval(successes: int, trials: int, level: float = 0.95) -> tuple[float, float] | None:
    """Wilson score interval of a proportion (good for small counts and proportions near 0 or 1).

    >>> wilson_interval(8, 10)  # doctest: +ELLIPSIS
    (0.49..., 0.94...)
    """
    if trials <= 0:
        return None
    z = float(stats.norm.ppf(0.5 + level / 2))
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)
