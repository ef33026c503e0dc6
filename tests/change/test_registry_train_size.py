"""A checkpoint keeps the size of its training images; larger pairs run scaled down to it."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthdiff.change import create_model, load_checkpoint, save_checkpoint, set_train_size, shipped_models
from synthdiff.errors import CheckpointError, InvalidArgumentError


def test_checkpoints_keep_their_training_size(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    model = create_model("fresunet-tiny", ["texture"])
    save_checkpoint(path, model, "fresunet-tiny", ["texture"])
    assert load_checkpoint(path)[1]["train_size"] is None  # older checkpoints: every pair at its own size
    save_checkpoint(path, model, "fresunet-tiny", ["texture"], train_size=128)
    assert load_checkpoint(path)[1]["train_size"] == 128
    set_train_size(path, 256)
    assert load_checkpoint(path)[1]["train_size"] == 256
    set_train_size(path, None)
    assert load_checkpoint(path)[1]["train_size"] is None
    for bad in (4, 0, True, 256.0):
        with pytest.raises(InvalidArgumentError, match=r"training image size of at least 8 pixels"):
            set_train_size(path, bad)  # type: ignore[arg-type]
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError):
        set_train_size(tmp_path / "broken.pt", 256)


def test_the_shipped_models_run_larger_pairs_scaled_down_where_that_was_measured_to_help() -> None:
    # All four were trained on synthdiff generate --size 256 sets; on 512x512 val pairs scaling down met
    # the rule of docs/training-logs/scale/rule.md for these two. fresunet and fresunet-attention marked
    # more unchanged pixels scaled down (over 0.1 %), so they run every pair at its own size.
    sizes = {name: load_checkpoint(name)[1]["train_size"] for name in shipped_models()}
    assert sizes == {"changestar": 256, "fresunet": None, "fresunet-attention": None, "fresunet-wide": 256}


def test_a_checkpoint_with_a_damaged_training_size_is_refused_clearly(tmp_path: Path) -> None:
    import torch

    path = tmp_path / "model.pt"
    save_checkpoint(path, create_model("fresunet-tiny", ["texture"]), "fresunet-tiny", ["texture"])
    payload = torch.load(path, weights_only=True)
    payload["train_size"] = "big"
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match=r"Expected a whole number as train_size .* got 'big'"):
        load_checkpoint(path)


def test_the_training_size_of_a_dataset_skips_unreadable_images(tmp_path: Path) -> None:
    from synthdiff.change import ChangePairs
    from tests.change.test_data import fake_dataset

    data = fake_dataset(tmp_path / "data", pairs=3)
    pairs = ChangePairs([data], "train", ["texture"])
    assert pairs.image_side() == 24
    for pair in pairs.pairs:
        (pair.root / pair.record["reference"]).write_bytes(b"not an image")
    assert pairs.image_side() is None
