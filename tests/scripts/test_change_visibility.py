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
