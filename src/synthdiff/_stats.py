"""Statistics shared by the evaluations: ROC AUC, percentile-bootstrap and Wilson intervals."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import stats
from scipy.stats import rankdata

__all__ = ["auc", "bootstrap_interval", "wilson_interval"]


def auc(scores: np.ndarray, labels: np.ndarray) -> float | None:
    """Area under the ROC curve (Mann-Whitney, ties counted half); None without both classes."""
    labels = np.asarray(labels).astype(bool)
    positives, negatives = labels.sum(), (~labels).sum()
    if positives == 0 or negatives == 0:
        return None
    ranks = rankdata(scores)
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))


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
