"""scripts/change_visibility.py: the visibility gate keeps change only where the images differ."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from synthdiff.change._models import ChangeOutput
from tests.scripts.conftest import load_script

visibility = load_script("change_visibility")


class _Everywhere(nn.Module):
    """A detector that calls every pixel changed, for two features."""

    def forward(self, reference: torch.Tensor, test: torch.Tensor) -> ChangeOutput:
        shape = (reference.shape[0], 2, *reference.shape[-2:])
        return ChangeOutput(torch.full(shape, 3.0), torch.full(shape, -3.0), torch.full(shape, 5.0))


def test_the_gate_hides_change_where_the_images_do_not_differ_enough() -> None:
    reference = torch.zeros(1, 3, 4, 4)
    test = reference.clone()
    test[0, 1, 0, 0] = 0.5  # a clear difference in one channel
    test[0, 2, 3, 3] = 0.02  # a faint one
    gate = visibility.VisibilityGate(_Everywhere(), [0.0, 0.03])
    output = gate(reference, test)
    changed = output.probabilities().change > 0.5
    # Feature 0 (tau 0): every pixel that differs at all; feature 1 (tau 0.03): only the clear one.
    assert changed[0, 0].nonzero().tolist() == [[0, 0], [3, 3]]
    assert changed[0, 1].nonzero().tolist() == [[0, 0]]
    # The segmentations pass through untouched, and the gate is symmetric in the two inputs.
    assert torch.equal(output.seg_ref, torch.full((1, 2, 4, 4), 3.0))
    assert torch.equal(gate(test, reference).change, output.change)


def test_test_scoring_takes_the_thresholds_of_the_chosen_tau_from_a_val_report(tmp_path: Path) -> None:
    report = tmp_path / "val.json"
    runs = [{"tau": 0.0, "thresholds": {"texture": 0.6}}, {"tau": 0.03, "thresholds": {"texture": 0.4}}]
    report.write_text(json.dumps({"runs": runs}))
    assert visibility._fixed_thresholds(report, [0.03]) == {"texture": 0.4}
    plain = tmp_path / "thresholds.json"
    plain.write_text('{"texture": 0.7}')
    assert visibility._fixed_thresholds(plain, None) == {"texture": 0.7}
    with pytest.raises(SystemExit, match="exactly one --tau"):
        visibility._fixed_thresholds(report, [0.0, 0.03])
    with pytest.raises(SystemExit, match=r"no run with tau 0\.05"):
        visibility._fixed_thresholds(report, [0.05])


class _Counting(nn.Module):
    """A detector whose change logit is the pixel difference; it counts its calls."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def forward(self, reference: torch.Tensor, test: torch.Tensor) -> ChangeOutput:
        self.calls += 1
        change = (reference - test).abs().sum(dim=1, keepdim=True).repeat(1, 2, 1, 1)
        return ChangeOutput(change, change, change)


def test_the_cached_detector_runs_once_per_input_and_answers_the_same() -> None:
    inner = _Counting()
    cached = visibility.CachedDetector(inner)
    a, b = torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8)
    first = cached(a, b)
    assert torch.equal(first.change, inner(a, b).change)
    assert inner.calls == 2
    assert torch.equal(cached(a.clone(), b.clone()).change, first.change) and inner.calls == 2
    cached(b, a)  # another input (the swapped order) is a new forward pass
    assert inner.calls == 3
    gated = visibility.VisibilityGate(cached, [0.0, 10.0])(a, b)  # the stored output is not changed
    assert torch.equal(cached(a, b).change, first.change) and (gated.change[:, 1] < -29).all()


def test_a_gate_per_feature_is_parsed_in_model_order() -> None:
    features = ["illumination", "reflection", "texture", "transparency"]
    assert visibility.parse_gate("texture=0.03, transparency=0.01", features) == [0.0, 0.0, 0.03, 0.01]
    assert visibility.parse_gate("", features) == [0.0] * 4
    with pytest.raises(SystemExit, match="'objects'"):
        visibility.parse_gate("objects=0.02", features)
    with pytest.raises(SystemExit, match="FEATURE=TAU"):
        visibility.parse_gate("texture=high", features)


def test_per_feature_choice_takes_each_features_best_tau_and_the_smaller_on_ties() -> None:
    def run(tau: float, texture: float, reflection: float) -> dict[str, object]:
        return {"tau": tau, "pooled_change_f1": {"reflection": reflection, "texture": texture}}

    runs = [run(0.03, 0.88, 0.70), run(0.0, 0.84, 0.75), run(0.01, 0.86, 0.75), run(0.05, 0.87, None)]
    runs.append({"tau": {"texture": 0.03, "reflection": 0.0}, "pooled_change_f1": {}})  # a --gate run
    assert visibility.choose_per_feature(runs) == {"reflection": 0.0, "texture": 0.03}


def test_test_scoring_finds_a_per_feature_gate_in_a_val_report(tmp_path: Path) -> None:
    report = tmp_path / "val.json"
    gate = {"reflection": 0.0, "texture": 0.03}
    runs = [{"tau": 0.0, "thresholds": {"texture": 0.6}}, {"tau": gate, "thresholds": {"texture": 0.45}}]
    report.write_text(json.dumps({"runs": runs}))
    assert visibility._fixed_thresholds(report, [dict(gate)]) == {"texture": 0.45}
    assert visibility._fixed_thresholds(report, [0.0]) == {"texture": 0.6}
    with pytest.raises(SystemExit, match="no run"):
        visibility._fixed_thresholds(report, [{"reflection": 0.0, "texture": 0.02}])


def test_budgeted_choice_takes_the_best_f1_that_keeps_false_alarms_within_the_budget() -> None:
    bins = 10
    # One feature. Changed pixels sit at probability 0.35-0.45 (bins 3-4) and 0.95 (bin 9); unchanged
    # pixels of the F1 data at 0.15 (bin 1); unchanged pairs have 1 % of their pixels at 0.45 (bin 4).
    positives = torch.zeros(1, bins, dtype=torch.float64)
    positives[0, 3], positives[0, 4], positives[0, 9] = 50, 50, 100
    negatives = torch.zeros(1, bins, dtype=torch.float64)
    negatives[0, 1] = 1000
    unchanged = torch.zeros(1, bins, dtype=torch.float64)
    unchanged[0, 0], unchanged[0, 4] = 99, 1
    # tau 0.02 hides half of the bin-3 changes and the unchanged pairs' bin-4 pixel.
    gated_pos = positives.clone()
    gated_pos[0, 3], gated_pos[0, 0] = 25, 25
    gated_unchanged = torch.zeros(1, bins, dtype=torch.float64)
    gated_unchanged[0, 0] = 100
    per_tau = {0.0: (positives, negatives, unchanged), 0.02: (gated_pos, negatives, gated_unchanged)}
    # Without a budget: tau 0 at threshold 0.2 or 0.3 finds every change and no false pixel (F1 1);
    # of the two, the one nearer 0.5.
    assert visibility.budgeted_choice(per_tau, ["texture"], 1.0) == {"texture": (0.0, 0.3)}
    # With a budget below 1 %: at tau 0 only thresholds from 0.5 keep bin 4 out (F1 2*100/(200+100));
    # tau 0.02 may go down to 0.3 (F1 2*175/(350+25)), which is better.
    assert visibility.budgeted_choice(per_tau, ["texture"], 0.005) == {"texture": (0.02, 0.3)}
    with pytest.raises(SystemExit, match="texture"):
        visibility.budgeted_choice({0.0: (positives, negatives, torch.ones(1, bins))}, ["texture"], 0.0)
