"""scripts/pool_change_sets.py: one split of several generated datasets as one training folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from synthdiff.change import ChangePairs
from tests.change.test_data import fake_dataset
from tests.scripts.conftest import load_script

pool_change_sets = load_script("pool_change_sets")


def _dataset(root: Path, version: str = "2", feature: str = "texture") -> Path:
    fake_dataset(root, pairs=3)  # two train pairs and one val pair
    options = {"feature": feature, "scenes": 1, "seed": 0, "split": [0.7, 0.3, 0.0]}
    (root / "dataset.json").write_text(json.dumps({"labels_version": version, "options": options}))
    return root


def test_the_val_pairs_of_two_datasets_become_train_pairs(tmp_path: Path) -> None:
    first, second = _dataset(tmp_path / "fresh1"), _dataset(tmp_path / "fresh2")
    out = tmp_path / "pooled"
    assert pool_change_sets.pool([first, second], out, "val") == 2

    pairs = ChangePairs([out], "train", ["texture"])
    # Same pair id in both sources; the source's name keeps them apart.
    assert [pairs[i]["pair_id"] for i in range(len(pairs))] == ["fresh1/s00000_v002", "fresh2/s00000_v002"]
    source_image = np.asarray(Image.open(first / "pairs/s00000_v002/test.png"), np.float32) / 255
    assert np.allclose(pairs[0]["test"].permute(1, 2, 0).numpy(), source_image)
    assert pairs[0]["change"].sum() == 6 * 8  # the fake texture square
    assert ChangePairs([out], "val", ["texture"]).pairs == []
    info = json.loads((out / "dataset.json").read_text())
    assert info["pooled"]["pairs"] == 2 and info["options"]["split"] == [1.0, 0.0, 0.0]


def test_mixed_label_versions_or_an_existing_folder_are_refused(tmp_path: Path) -> None:
    first, second = _dataset(tmp_path / "a"), _dataset(tmp_path / "b", version="1")
    with pytest.raises(SystemExit, match="one labels version"):
        pool_change_sets.pool([first, second], tmp_path / "pooled", "val")
    (tmp_path / "exists").mkdir()
    with pytest.raises(SystemExit, match="Expected a new folder"):
        pool_change_sets.pool([first], tmp_path / "exists", "val")
    with pytest.raises(SystemExit, match="Expected test pairs"):
        pool_change_sets.pool([first], tmp_path / "none", "test")
    assert not (tmp_path / "none").exists()
