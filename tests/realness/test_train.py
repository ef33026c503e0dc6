"""Realness training on tiny fake sources: the classes separate, runs resume, calibration is fitted,
evaluation reports per source; bad inputs give clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from synthdiff._journal import folder_lock
from synthdiff._stats import auc
from synthdiff.errors import InvalidArgumentError, OutputError
from synthdiff.realness import (
    create_model,
    evaluate_images,
    list_source,
    load_realness_config,
    load_realness_model,
    split_images,
    train_realness,
)


def fake_sources(root: Path, count: int = 12, seed: int = 0) -> tuple[Path, Path]:
    """'Photos' with sensor-like noise and 'renders' that are smooth gradients, 80x96 pixels."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:80, 0:96] / 96.0
    for kind in ("photos", "renders"):
        (root / kind).mkdir(parents=True)
        for index in range(count):
            base = np.stack([rows * rng.random(), cols * rng.random(), 0.5 * (rows + cols)], axis=-1)
            if kind == "photos":
                base = base + rng.normal(0, 0.08, base.shape)
            pixels = (np.clip(base, 0, 1) * 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / kind / f"{index:02d}.png")
    return root / "photos", root / "renders"


def settings(real: Path, synthetic: Path, **changes: object) -> dict[str, object]:
    values: dict[str, object] = {
        "real": [str(real)],
        "synthetic": [str(synthetic)],
        "model": "realness-tiny",
        "crop": 32,
        "max_patches": 4,
        "epochs": 3,
        "samples_per_epoch": 256,
        "batch_size": 32,
        "learning_rate": 1e-2,
        "val_fraction": 0.3,
        "loader_workers": 0,
        "device": "cpu",
    }
    values.update(changes)
    return values


def test_a_tiny_model_learns_noise_versus_smooth_and_is_calibrated(tmp_path: Path) -> None:
    real, synthetic = fake_sources(tmp_path / "data")
    config = load_realness_config(None, settings(real, synthetic))
    result = train_realness(config, tmp_path / "run")
    assert len(result.history) == 3 and result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    assert result.history[result.best_epoch]["val_loss"] == pytest.approx(result.best_loss, abs=1e-5)
    model = load_realness_model(tmp_path / "run" / "best.pt")
    assert model.calibration == result.calibration and model.calibration.scale > 0
    split = json.loads((tmp_path / "run" / "split.json").read_text())
    val = [
        image
        for image in list_source(real, "real") + list_source(synthetic, "synthetic")
        if str(image.path) in split["val"]
    ]
    evaluation = evaluate_images(model, val)
    assert evaluation.summary["auc"] is not None and evaluation.summary["auc"] > 0.9
    assert set(evaluation.summary["per_source"]) == {"photos", "renders"}
    assert len(evaluation.to_dict()["images"]) == len(val)


def test_training_resumes_and_refuses_another_config(tmp_path: Path) -> None:
    real, synthetic = fake_sources(tmp_path / "data", count=8)
    config = load_realness_config(None, settings(real, synthetic, epochs=2))

    def stop(epoch: int, step: int, steps: int, loss: float) -> None:
        if epoch == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_realness(config, tmp_path / "run", on_step=stop)
    result = train_realness(config, tmp_path / "run")
    assert [h["epoch"] for h in result.history] == [0, 1]
    other = load_realness_config(None, settings(real, synthetic, epochs=5))
    with pytest.raises(OutputError, match="epochs"):
        train_realness(other, tmp_path / "run")


def test_folders_another_run_is_writing_are_refused(tmp_path: Path) -> None:
    real, synthetic = fake_sources(tmp_path / "data", count=4)
    config = load_realness_config(None, settings(real, synthetic, epochs=1))
    with folder_lock(tmp_path / "run", "train realness"):
        with pytest.raises(OutputError, match="no other train realness run to be writing"):
            train_realness(config, tmp_path / "run")
        assert not (tmp_path / "run" / "config.yaml").exists()
    images = list_source(real, "real") + list_source(synthetic, "synthetic")
    refused = pytest.raises(OutputError, match="no other realness-bench run to be writing")
    with folder_lock(tmp_path / "bench", "realness-bench"), refused:
        evaluate_images(create_model("realness-tiny"), images, journal=tmp_path / "bench")
    assert not (tmp_path / "bench" / "results.jsonl").exists()


def test_splits_are_stable_and_bad_inputs_are_explained(tmp_path: Path) -> None:
    real, synthetic = fake_sources(tmp_path / "data", count=10)
    images = list_source(real, "real")
    train, val = split_images(images, 0.3)
    assert split_images(images[::-1], 0.3)[1] == val[::-1] or set(split_images(images[::-1], 0.3)[1]) == set(
        val
    )
    assert not set(train) & set(val) and len(train) + len(val) == len(images)
    with pytest.raises(InvalidArgumentError, match="real or synthetic"):
        list_source(real, "fake")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidArgumentError, match="found none"):
        list_source(tmp_path / "empty", "real")
    with pytest.raises(InvalidArgumentError, match="not a folder"):
        list_source(tmp_path / "missing", "real")
    with pytest.raises(InvalidArgumentError, match="--real and one --synthetic"):
        load_realness_config(None, {**settings(real, synthetic), "synthetic": []})
    with pytest.raises(InvalidArgumentError, match="Unknown config keys"):
        load_realness_config(None, settings(real, synthetic, colour=True))
    for bad, message in (
        ({"learning_rate": -1.0}, "learning_rate > 0"),
        ({"max_patches": 0}, "max_patches >= 1"),
        ({"loader_workers": -1}, "loader_workers >= 0"),
        ({"seed": -1}, "seed >= 0"),
        ({"jpeg_probability": 1.5}, r"jpeg_probability in \[0, 1\]"),
    ):
        with pytest.raises(InvalidArgumentError, match=message):
            load_realness_config(None, {**settings(real, synthetic), **bad})
    # Too few images for a val split of each class: the message counts them and names the setting.
    few_real, few_synthetic = fake_sources(tmp_path / "few", count=1)
    with pytest.raises(
        InvalidArgumentError, match=r"got train \d+ real and \d+ synthetic, val .*set val_fraction"
    ):
        train_realness(load_realness_config(None, settings(few_real, few_synthetic)), tmp_path / "few-run")
    # One folder under both labels, or a folder and its parent: refused before any training, naming the
    # file and both sources.
    both = {**settings(real, synthetic), "synthetic": [str(real)]}
    with pytest.raises(
        InvalidArgumentError, match=r"each image once.*\(real\) and in source .* \(synthetic\)"
    ):
        train_realness(load_realness_config(None, both), tmp_path / "both-run")
    nested = {**settings(real, synthetic), "real": [str(real), str(real.parent)]}
    with pytest.raises(
        InvalidArgumentError, match=r"in source 'photos' \(real\) and in source 'data' \(real\)"
    ):
        train_realness(load_realness_config(None, nested), tmp_path / "nested-run")
    # Files that are empty or not images at all are named together, before any training (they stopped
    # the run one at a time, each when it was first decoded), whichever head is trained.
    (real / "empty.png").write_bytes(b"")
    (synthetic / "notes.jpg").write_text("not a picture")
    for head in ({}, {"model": "realness-effnet", "head": "images"}):
        with pytest.raises(
            InvalidArgumentError,
            match=r"2 of the 22 training files cannot be read: .*empty.png' \(empty, 0 bytes\); "
            r".*notes.jpg' \(not an image: starts with b'not a pi'\)\. Fix: re-export or remove them",
        ):
            train_realness(
                load_realness_config(None, {**settings(real, synthetic), **head}), tmp_path / "bad"
            )


def test_images_that_do_not_decode_are_named_together(tmp_path: Path) -> None:
    # Files cut short (an interrupted copy) look like images from their first bytes; each stopped a
    # run in turn when it was decoded, in the middle of training.
    real, synthetic = fake_sources(tmp_path / "data", count=10)
    for folder, name in ((real, "cut-a.png"), (synthetic, "cut-b.png")):
        whole = (folder / "00.png").read_bytes()
        (folder / name).write_bytes(whole[: len(whole) // 2])
    for head, run in (({}, "crops"), ({"model": "realness-effnet", "head": "images"}, "images")):
        with pytest.raises(
            InvalidArgumentError,
            match=r"2 of the 22 training images do not: .*cut-a\.png' is truncated or corrupt \(PNG decoder: "
            r"image file is truncated\); .*cut-b\.png' is truncated .*\)\. Fix: re-export or remove them\.$",
        ):
            train_realness(load_realness_config(None, {**settings(real, synthetic), **head}), tmp_path / run)
        assert not (tmp_path / run / "history.jsonl").exists()  # before any training
    # The image head's features of the 20 good images are cached: the next run computes only the fixed ones.
    assert len(list((tmp_path / "images" / "embeddings").glob("*.npy"))) == 20


def test_auc_of_known_rankings() -> None:
    assert auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == pytest.approx(0.75)
    assert auc(np.array([0.5, 0.5]), np.array([0, 1])) == pytest.approx(0.5)
    assert auc(np.array([0.2, 0.3]), np.array([1, 1])) is None
