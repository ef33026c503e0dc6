"""Ensembles of change detectors: the mean of the members' probabilities, checkpoints that combine them."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from synthdiff.change import (
    ProbabilityAverage,
    combine_checkpoints,
    create_model,
    load_checkpoint,
    save_checkpoint,
)
from synthdiff.errors import CheckpointError, InvalidArgumentError

FEATURES = ["illumination", "texture"]


def pair(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(2, 3, 40, 48, generator=generator), torch.rand(2, 3, 40, 48, generator=generator)


def member(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return create_model("fresunet-tiny", FEATURES).eval()


def test_the_ensemble_probability_is_the_mean_of_the_members() -> None:
    first, second = member(1), member(2)
    ensemble = ProbabilityAverage([first, second]).eval()
    reference, test = pair()
    with torch.no_grad():
        outputs = [first(reference, test), second(reference, test)]
        combined = ensemble(reference, test)
    for field in ("seg_ref", "seg_test", "change"):
        expected = (getattr(outputs[0], field).sigmoid() + getattr(outputs[1], field).sigmoid()) / 2
        torch.testing.assert_close(getattr(combined, field).sigmoid(), expected, rtol=0, atol=1e-6)
    # Two different random networks: the mean differs from either member.
    assert not torch.allclose(combined.change, outputs[0].change, atol=1e-3)


def test_an_ensemble_of_one_network_twice_answers_as_that_network() -> None:
    network = member(3)
    reference, test = pair(1)
    with torch.no_grad():
        alone = network(reference, test).change
        twice = ProbabilityAverage([network, network])(reference, test).change
    torch.testing.assert_close(twice, alone, rtol=0, atol=1e-4)


def test_combined_checkpoint_round_trip(tmp_path: Path) -> None:
    paths = []
    for seed in (4, 5):
        path = tmp_path / f"member{seed}.pt"
        save_checkpoint(
            path, member(seed), "fresunet-tiny", FEATURES, thresholds={"illumination": 0.3, "texture": 0.7}
        )
        paths.append(path)
    combined = tmp_path / "pair.pt"
    combine_checkpoints(paths, combined, "fresunet-pair-tiny")
    model, metadata = load_checkpoint(combined)
    assert metadata["model"] == "fresunet-pair-tiny"
    assert metadata["features"] == FEATURES
    assert metadata["config"] == {"members": [str(path) for path in paths]}
    # The members' thresholds were tuned for them alone; the ensemble's start at 0.5, to be tuned.
    assert metadata["thresholds"] == dict.fromkeys(FEATURES, 0.5)
    reference, test = pair(2)
    members = [load_checkpoint(path)[0] for path in paths]
    with torch.no_grad():
        expected = torch.stack([m(reference, test).change.sigmoid() for m in members]).mean(0)
        torch.testing.assert_close(model(reference, test).change.sigmoid(), expected, rtol=0, atol=1e-6)


def test_bad_ensembles_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="at least two detectors"):
        ProbabilityAverage([member(0)])
    tiny = tmp_path / "tiny.pt"
    save_checkpoint(tiny, member(0), "fresunet-tiny", FEATURES)
    with pytest.raises(InvalidArgumentError, match="ensemble name from fresunet-wide-pair"):
        combine_checkpoints([tiny, tiny], tmp_path / "out.pt", "fresunet-tiny")
    with pytest.raises(InvalidArgumentError, match="Expected 2 member checkpoints"):
        combine_checkpoints([tiny], tmp_path / "out.pt", "fresunet-pair-tiny")
    other = tmp_path / "other.pt"
    save_checkpoint(other, create_model("fresunet-wide-tiny", FEATURES), "fresunet-wide-tiny", FEATURES)
    with pytest.raises(CheckpointError, match="Expected a 'fresunet-tiny' checkpoint"):
        combine_checkpoints([tiny, other], tmp_path / "out.pt", "fresunet-pair-tiny")
    texture = tmp_path / "texture.pt"
    save_checkpoint(texture, create_model("fresunet-tiny", ["texture"]), "fresunet-tiny", ["texture"])
    with pytest.raises(CheckpointError, match="every member to detect"):
        combine_checkpoints([tiny, texture], tmp_path / "out.pt", "fresunet-pair-tiny")
    with pytest.raises(CheckpointError, match="neither"):
        combine_checkpoints([tiny, tmp_path / "missing.pt"], tmp_path / "out.pt", "fresunet-pair-tiny")
    assert not (tmp_path / "out.pt").exists()
