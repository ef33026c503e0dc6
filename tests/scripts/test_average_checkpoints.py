"""scripts/average_checkpoints.py: a uniform weight average, batch-norm statistics re-estimated."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from synthdiff.change import create_model, load_checkpoint, save_checkpoint
from tests.change.test_data import fake_dataset
from tests.scripts.conftest import load_script

average_checkpoints = load_script("average_checkpoints")


def run(monkeypatch: pytest.MonkeyPatch, *args: str) -> None:
    monkeypatch.setattr(sys, "argv", ["average_checkpoints.py", *args])
    average_checkpoints.main()


def saved_models(tmp_path: Path, count: int) -> list[Path]:
    paths = []
    for seed in range(count):
        torch.manual_seed(seed)
        model = create_model("fresunet-tiny", ["texture"])
        for module in model.modules():  # give the statistics values that differ between the models
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-1, 1)
                module.running_var.uniform_(0.5, 2)
        paths.append(tmp_path / f"m{seed}.pt")
        save_checkpoint(paths[-1], model, "fresunet-tiny", ["texture"])
    return paths


def test_weights_are_averaged_and_statistics_too_without_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = saved_models(tmp_path, 3)
    run(monkeypatch, *map(str, paths), "-o", str(tmp_path / "soup.pt"))
    states = [load_checkpoint(p)[0].state_dict() for p in paths]
    soup, metadata = load_checkpoint(tmp_path / "soup.pt")
    for key, value in soup.state_dict().items():
        if value.is_floating_point():
            torch.testing.assert_close(value, sum(s[key] for s in states) / 3)
    assert metadata["config"]["averaged_from"] == [str(p) for p in paths]
    assert metadata["thresholds"] == {"texture": 0.5}


def test_batch_norm_statistics_are_re_estimated_from_training_pairs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = saved_models(tmp_path, 2)
    data = fake_dataset(tmp_path / "data", pairs=6)
    run(monkeypatch, *map(str, paths), "-o", str(tmp_path / "soup.pt"), "--data", str(data), "--pairs", "4")
    soup, metadata = load_checkpoint(tmp_path / "soup.pt")
    averaged = average_checkpoints.average_state_dicts([load_checkpoint(p)[0].state_dict() for p in paths])
    for key, value in soup.state_dict().items():
        if key.endswith(("running_mean", "running_var")):
            assert not torch.allclose(value, averaged[key])  # taken from the data, not from the models
        elif value.is_floating_point():
            torch.testing.assert_close(value, averaged[key])  # the weights are not touched
    assert metadata["config"]["batch_norm_statistics"]["pairs"] == 4
    # The layers keep their momentum for any later training.
    assert all(m.momentum == 0.1 for m in soup.modules() if isinstance(m, nn.BatchNorm2d))


def test_different_models_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = saved_models(tmp_path, 1)[0]
    other = tmp_path / "other.pt"
    save_checkpoint(other, create_model("fresunet-tiny", ["reflection"]), "fresunet-tiny", ["reflection"])
    with pytest.raises(SystemExit):
        run(monkeypatch, str(path), str(other), "-o", str(tmp_path / "soup.pt"))
    with pytest.raises(SystemExit):
        run(monkeypatch, str(path), "-o", str(tmp_path / "soup.pt"))
