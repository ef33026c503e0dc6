"""scripts/tune_place_balanced.py: a threshold for the mean F1 over the places a feature changed."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from synthdiff.change import ChangePairs
from synthdiff.change._models import ChangeOutput
from synthdiff.change._tune import _Counts
from tests.change.test_data import fake_dataset
from tests.scripts.conftest import load_script

places_script = load_script("tune_place_balanced")


def _counts(probability: float, pixels: int, changed: bool = True, size: int = 16) -> _Counts:
    """Counts of one pair with ``pixels`` pixels at ``probability`` (labelled changed or not) and the
    rest at 0.01, unchanged."""
    maps = torch.full((1, 1, size, size), 0.01)
    labels = torch.zeros((1, 1, size, size), dtype=torch.bool)
    maps.view(-1)[:pixels] = probability
    labels.view(-1)[:pixels] = changed
    counts = _Counts(1, False)
    counts.update(maps, labels, maps > 0.5, ["texture"])
    return counts


def test_the_small_place_counts_as_much_as_the_large_one() -> None:
    # A large change on the ground at 0.9 and a small one on an object at 0.45: pooled pixel F1 hardly
    # notices the object, the mean over places does.
    places = {"ground": _counts(0.9, 64), "object": _counts(0.45, 4)}
    quiet = _counts(0.6, 1, changed=False)  # an unchanged pair with one pixel at 0.6
    rows = places_script._grid(places, quiet, 0, 0.30, 0.95)
    assert [row["threshold"] for row in rows][:2] == [0.3, 0.31] and rows[-1]["threshold"] == 0.95
    low = next(row for row in rows if row["threshold"] == 0.40)
    assert low["place_f1"] == {"ground": pytest.approx(1.0), "object": pytest.approx(1.0)}
    assert low["unchanged_marked"] == pytest.approx(1 / 256)
    high = next(row for row in rows if row["threshold"] == 0.70)
    assert high["mean_place_f1"] == pytest.approx(0.5) and high["unchanged_marked"] == 0.0
    # Without a budget the best mean is 1.0, from 0.30 to 0.44: ties go to the highest, 0.44.
    assert places_script._best(rows, 1.0)["threshold"] == 0.44
    # A budget of no unchanged pixels rules out everything below 0.60; 0.60-0.89 tie at 0.5.
    assert places_script._best(rows, 0.0)["threshold"] == 0.89
    only_low = [row for row in rows if row["threshold"] < 0.5]
    assert places_script._best(only_low, 0.0) is None


class _Difference(nn.Module):
    """A detector whose change logit is large where the two images differ, for two features."""

    def forward(self, reference: torch.Tensor, test: torch.Tensor) -> ChangeOutput:
        change = (reference - test).abs().sum(dim=1, keepdim=True).repeat(1, 2, 1, 1) * 50 - 5
        return ChangeOutput(change, change, change)


def test_pairs_are_counted_by_the_place_their_changes_touched(tmp_path: Path) -> None:
    # fake_dataset: pair 0 changed object1's material, pair 1 the ground's; each marks a 6x8 square.
    data = ChangePairs([fake_dataset(tmp_path, pairs=3)], "train", ["texture", "illumination"])
    places = places_script._counts_by_place(_Difference(), data, "texture")
    assert sorted(places) == ["ground", "object"]
    assert all(float(counts.positives[0]) == 48 for counts in places.values())
    assert places_script._counts_by_place(_Difference(), data, "reflection") == {}
