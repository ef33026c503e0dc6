"""Per-pair aggregates of the answers: Wilson intervals, Bradley-Terry scale values, mean ratings."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

from synthdiff._stats import wilson_interval

__all__ = ["bradley_terry", "mean_interval", "wilson_interval"]


def mean_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float] | None:
    """Student-t interval of a mean; None with fewer than two values."""
    data = np.asarray(values, np.float64)
    if data.size < 2:
        return None
    half = float(stats.t.ppf(0.5 + level / 2, data.size - 1) * data.std(ddof=1) / math.sqrt(data.size))
    return float(data.mean()) - half, float(data.mean()) + half


def bradley_terry(
    winners: Sequence[int] | np.ndarray,
    losers: Sequence[int] | np.ndarray,
    items: int,
    prior: float = 0.5,
    iterations: int = 500,
) -> np.ndarray:
    """Bradley-Terry scale values (log-strengths, mean 0) from pairwise outcomes.

    Minorisation-maximisation updates (Hunter 2004). ``prior`` adds that many virtual wins and losses
    of every item against a virtual average item, so an item that always wins gets a finite value.

    Args:
        winners, losers: item indices of each comparison's preferred and rejected item.
        items: number of items.

    Returns:
        Shape ``(items,)``: log-strengths; ``exp(s_i - s_j)/(1 + exp(s_i - s_j))`` is the chance i beats j.
    """
    wins = np.bincount(np.asarray(winners, np.int64), minlength=items).astype(np.float64) + prior
    pairs = np.zeros((items, items))
    np.add.at(pairs, (np.asarray(winners, np.int64), np.asarray(losers, np.int64)), 1.0)
    games = pairs + pairs.T
    strength = np.ones(items)
    for _ in range(iterations):
        # The virtual opponent has strength 1 and plays 2 * prior games with every item.
        denominator = (games / (strength[:, None] + strength[None, :])).sum(axis=1) + 2 * prior / (
            strength + 1
        )
        updated = wins / denominator
        updated /= np.exp(np.log(updated).mean())
        if np.max(np.abs(updated - strength)) < 1e-10:
            strength = updated
            break
        strength = updated
    log_strength = np.log(strength)
    return log_strength - log_strength.mean()
