"""scripts/tune_hysteresis.py: the search over (low, high) under the budget and the own-set limits."""

from __future__ import annotations

import numpy as np
import pytest

from tests.scripts.conftest import load_script

tune = load_script("tune_hysteresis")


def sure_change_with_a_faint_rim() -> tuple[np.ndarray, np.ndarray]:
    """One 16x16 map: a sure change (0.9, 16 pixels) and its faint rim (0.35, 8 pixels), all labelled."""
    probability = np.zeros((16, 16), np.float32)
    probability[4:8, 4:8] = 0.9
    probability[8:10, 4:8] = 0.35
    return probability, probability > 0


def test_hysteresis_takes_the_rim_that_the_budget_denies_a_single_threshold() -> None:
    probability, label = sure_change_with_a_faint_rim()
    unchanged = np.zeros((1, 16, 16), np.float32)
    unchanged[0, 12:14, 12:14] = 0.5  # a false alarm any threshold below 0.5 would mark
    chosen = tune.choose(probability[None], label[None], unchanged, budget=0.0)
    # A single threshold must stay at 0.5 or above, so it misses the rim: F1 2*16 / (2*16 + 8).
    assert chosen["single"]["f1"] == pytest.approx(0.8)
    assert chosen["single"]["high"] == 0.89  # among equal F1, the higher threshold (less growth)
    # Two thresholds take the rim and leave the false alarm: the highest low below 0.35, the high
    # nearest 0.5 that the false alarm does not pass.
    best = chosen["hysteresis"]
    assert (best["low"], best["high"], best["f1"], best["unchanged_marked"]) == (0.34, 0.5, 1.0, 0.0)
    with pytest.raises(SystemExit, match="No thresholds keep"):
        tune.choose(probability[None], label[None], np.ones((1, 16, 16), np.float32), budget=0.0)


def test_own_set_objective_refuses_growth_that_names_the_wrong_feature() -> None:
    own, own_label = sure_change_with_a_faint_rim()
    other, _ = sure_change_with_a_faint_rim()  # the same picture on a pair where this feature did not change
    maps = np.stack([own, other, np.zeros_like(own)])
    labels = np.stack([own_label, np.zeros_like(own_label), np.zeros_like(own_label)])
    sets = ["texture", "reflection", "all"]
    groups = tune.Groups("texture", sets, labels)
    assert groups.names == ["texture", "reflection", "all"]
    unchanged = np.zeros((1, 16, 16), np.float32)
    pooled = tune.choose(maps, labels, unchanged, budget=0.0)
    assert pooled["hysteresis"]["low"] < 0.35  # pooled F1 gains more on the own pair than it loses
    limited = tune.choose(maps, labels, unchanged, budget=0.0, groups=groups, stored=0.5)
    # Growing into the other pair's rim would raise the wrong-feature rate above the stored
    # threshold's (16 of that pair's 256 pixels), so no low threshold below 0.35 is allowed.
    assert limited["stored"]["wrong_rate"] == pytest.approx(16 / 256)
    assert limited["hysteresis"]["low"] >= 0.35
    assert limited["hysteresis"]["own_f1"] == pytest.approx(0.8)
    assert limited["hysteresis"]["wrong_rate"] <= limited["stored"]["wrong_rate"]
