"""scripts/tune_views.py: thresholds per test-time view set, tuned on val, stored in a checkpoint copy."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from synthdiff.change import create_model, load_checkpoint, save_checkpoint
from tests.change.test_data import fake_dataset
from tests.scripts.conftest import load_script

load_script("change_visibility")  # tune_views imports its budgeted choice
tune_views = load_script("tune_views")


def run(monkeypatch: pytest.MonkeyPatch, *args: str) -> None:
    monkeypatch.setattr(sys, "argv", ["tune_views.py", *args])
    tune_views.main()


def test_thresholds_are_tuned_per_view_set_and_stored_in_a_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    torch.manual_seed(0)
    data = fake_dataset(tmp_path / "data", pairs=6)
    model = tmp_path / "model.pt"
    save_checkpoint(model, create_model("fresunet-tiny", ["texture"]), "fresunet-tiny", ["texture"])
    common = ["--model", str(model), "--data", str(data), "--views", "flip", "--views", "dihedral"]

    run(monkeypatch, *common, "-o", str(tmp_path / "f1.json"), "--store", str(tmp_path / "views.pt"))
    report = json.loads((tmp_path / "f1.json").read_text())
    assert set(report["views"]) == {"none", "flip", "dihedral"} and report["budget"] is None
    _, metadata = load_checkpoint(tmp_path / "views.pt", views="dihedral")
    assert metadata["thresholds"] == report["views"]["dihedral"]["thresholds"]
    _, original = load_checkpoint(model, views="dihedral")  # the original file is left as it was
    assert original["thresholds"] == {"texture": 0.5}

    # A budget of zero: only thresholds that mark none of the unchanged pairs' pixels are allowed.
    unchanged = fake_dataset(tmp_path / "none", pairs=6)
    manifest = unchanged / "manifest.jsonl"
    manifest.write_text(manifest.read_text().replace('"feature": "texture"', '"feature": "none"'))
    for pair in (unchanged / "pairs").iterdir():  # no change at all: test image = reference, empty labels
        shutil.copyfile(pair / "reference.png", pair / "test.png")
        blank = np.zeros_like(np.asarray(Image.open(pair / "change_texture.png")))
        Image.fromarray(blank).save(pair / "change_texture.png")
    budget = ["--budget", "0", "--none-data", str(unchanged)]
    run(monkeypatch, *common, *budget, "-o", str(tmp_path / "budget.json"))
    for views in json.loads((tmp_path / "budget.json").read_text())["views"].values():
        assert views["unchanged_false_positive_rate"] == 0.0

    with pytest.raises(SystemExit):
        run(monkeypatch, *common, "--budget", "0.001", "-o", str(tmp_path / "x.json"))
