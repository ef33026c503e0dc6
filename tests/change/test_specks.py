"""Changed specks under a minimum area: the mask, the batch version, checkpoints, inference, evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from synthdiff.change import (
    ChangeOutput,
    ChangePairs,
    change_masks,
    create_model,
    detect,
    evaluate,
    hysteresis_mask,
    load_checkpoint,
    remove_specks,
    save_checkpoint,
    set_min_area,
)
from synthdiff.change._infer import predict_maps
from synthdiff.errors import CheckpointError, InvalidArgumentError
from tests.change.test_hysteresis import GivenProbability, rim_and_blob


def blobs() -> np.ndarray:
    """A 3x3 block (9 pixels), a diagonal chain of 3 (one region under 8-neighbours), a lone pixel."""
    mask = np.zeros((10, 10), bool)
    mask[1:4, 1:4] = True
    mask[6, 6] = mask[7, 7] = mask[8, 8] = True
    mask[1, 8] = True
    return mask


def test_remove_specks_keeps_regions_of_at_least_min_area() -> None:
    mask = blobs()
    assert remove_specks(mask, 4).sum() == 9
    assert remove_specks(mask, 3).sum() == 12  # the diagonal chain is one region of 3
    assert remove_specks(mask, 10).sum() == 0
    for keep_all in (0, 1):
        assert remove_specks(mask, keep_all) is mask
    with pytest.raises(InvalidArgumentError, match="0 pixels or more, got -1"):
        remove_specks(mask, -1)


def test_hysteresis_mask_drops_specks_after_growing() -> None:
    probability = rim_and_blob()  # the sure change grows to 13 pixels; the faint blob alone never counts
    assert hysteresis_mask(probability, 0.8, 0.3, min_area=13).sum() == 13
    assert hysteresis_mask(probability, 0.8, 0.3, min_area=14).sum() == 0
    assert hysteresis_mask(probability, 0.8, min_area=10).sum() == 0  # 9 pixels above 0.8 alone


@pytest.mark.parametrize("with_low", [False, True])
def test_change_masks_apply_min_area_to_every_map(with_low: bool) -> None:
    generator = torch.Generator().manual_seed(0)
    probabilities = torch.rand((2, 3, 24, 24), generator=generator)
    high = torch.tensor([0.9, 0.8, 0.95])
    low = torch.tensor([0.7, 0.8, 0.9]) if with_low else None
    masks = change_masks(probabilities, high, low, min_area=3).numpy()
    for b in range(2):
        for f in range(3):
            expected = hysteresis_mask(
                probabilities[b, f].numpy(), float(high[f]), None if low is None else float(low[f]), 3
            )
            np.testing.assert_array_equal(masks[b, f], expected)
    assert masks.sum() < change_masks(probabilities, high, low).sum()


def test_change_output_masks_take_min_area() -> None:
    mask = torch.from_numpy(blobs())[None, None]
    probability = torch.where(mask, torch.tensor(0.9), torch.tensor(0.1))
    output = ChangeOutput(
        torch.zeros_like(probability), torch.zeros_like(probability), torch.logit(probability)
    )
    assert int(output.masks(0.5).change.sum()) == 13
    assert int(output.masks(0.5, change_min_area=4).change.sum()) == 9


def test_checkpoints_keep_min_area(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    save_checkpoint(path, create_model("fresunet-tiny", ["texture"]), "fresunet-tiny", ["texture"])
    assert load_checkpoint(path)[1]["min_area"] == 0  # checkpoints without the field keep every region
    set_min_area(path, 64)
    assert load_checkpoint(path)[1]["min_area"] == 64
    with pytest.raises(InvalidArgumentError, match="got -5"):
        set_min_area(path, -5)
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError):
        set_min_area(tmp_path / "broken.pt", 8)


def test_inference_maps_fractions_and_regions_agree_without_specks() -> None:
    probability = np.zeros((64, 64), np.float32)
    probability[10:30, 10:30] = 0.9  # 400 pixels
    probability[50:53, 50:53] = 0.9  # a 9-pixel speck
    reference = np.zeros((64, 64, 3), np.float32)
    test = np.repeat(probability[..., None], 3, axis=2)
    kept = predict_maps(GivenProbability(), ["texture"], reference, test, threshold=0.5)
    cleaned = predict_maps(GivenProbability(), ["texture"], reference, test, threshold=0.5, min_area=10)
    assert int(kept.changed("texture").sum()) == 409 and int(cleaned.changed("texture").sum()) == 400
    assert cleaned.changed_fractions()["texture"] == round(400 / 64**2, 6)
    assert [r.box for r in cleaned.regions] == [(10, 10, 30, 30)]
    assert cleaned.summary()["min_area"] == 10 and kept.summary()["min_area"] == 0


def test_detect_and_eval_use_the_stored_min_area_unless_given_one(tmp_path: Path) -> None:
    from synthdiff.cli import app
    from tests.change.test_data import fake_dataset
    from tests.conftest import EXAMPLES

    path = tmp_path / "model.pt"
    features = ["illumination", "texture"]
    save_checkpoint(path, create_model("fresunet-tiny", features), "fresunet-tiny", features)
    set_min_area(path, 10**6)  # more than any region of a 256x256 pair: nothing can be marked
    pair = EXAMPLES / "wrong-light"
    stored = detect(pair / "reference.png", pair / "test.png", path, tile=128, threshold=0.0)
    assert stored.maps.min_area == 10**6 and not any(stored.maps.changed_fractions().values())
    given = detect(pair / "reference.png", pair / "test.png", path, tile=128, threshold=0.0, min_area=0)
    assert all(fraction == 1.0 for fraction in given.maps.changed_fractions().values())

    runner = CliRunner()
    args = ["detect", str(pair / "reference.png"), str(pair / "test.png"), "-m", str(path), "--tile", "128"]
    result = runner.invoke(app, [*args, "-o", str(tmp_path / "detect")])
    assert result.exit_code == 0, result.output
    assert "changed regions under 1000000 pixels dropped" in result.output
    assert json.loads((tmp_path / "detect" / "detect.json").read_text())["min_area"] == 10**6
    result = runner.invoke(app, [*args, "-o", str(tmp_path / "detect"), "--min-area", "-1"])
    assert result.exit_code == 2

    data = fake_dataset(tmp_path / "data", pairs=2)  # texture labels only
    texture = tmp_path / "texture.pt"
    save_checkpoint(texture, create_model("fresunet-tiny", ["texture"]), "fresunet-tiny", ["texture"])
    pairs = ChangePairs([str(data)], "val", ["texture"])
    model, _ = load_checkpoint(texture)
    marked = evaluate(model, pairs, threshold=0.0).scores["pooled"]["change"]["texture"]
    none_kept = evaluate(model, pairs, threshold=0.0, change_min_area=10**6).scores["pooled"]["change"][
        "texture"
    ]
    assert marked["recall"] == 1.0 and none_kept["recall"] == 0.0
    set_min_area(texture, 10**6)
    args = [
        "eval",
        "change",
        "--model",
        str(texture),
        "--data",
        str(data),
        "--split",
        "val",
        "--threshold",
        "0",
    ]
    result = runner.invoke(app, [*args, "-o", str(tmp_path / "eval")])
    assert result.exit_code == 0, result.output
    assert "changed regions under 1000000 pixels dropped." in result.output
    report = json.loads((tmp_path / "eval" / "eval.json").read_text())
    assert report["min_area"] == 10**6 and report["schema_version"] == "1.5"
    result = runner.invoke(app, [*args, "--min-area", "0", "-o", str(tmp_path / "eval0")])
    assert result.exit_code == 0, result.output
    assert "pixels dropped" not in result.output
    assert json.loads((tmp_path / "eval0" / "eval.json").read_text())["min_area"] == 0


def test_compare_report_applies_and_names_the_min_area(tmp_path: Path) -> None:
    from synthdiff import compare
    from tests.conftest import EXAMPLES

    path = tmp_path / "model.pt"
    save_checkpoint(path, create_model("fresunet-tiny", ["texture"]), "fresunet-tiny", ["texture"])
    pair = EXAMPLES / "wrong-roughness"
    plain = compare(pair / "reference.png", pair / "test.png", fast=True, change_model=path)
    assert "pixels are dropped" not in plain.save_report(tmp_path / "plain").read_text()
    set_min_area(path, 10**6)
    result = compare(pair / "reference.png", pair / "test.png", fast=True, change_model=path)
    features = result.to_dict()["rendering_features"]
    assert features["min_area"] == 10**6 and features["features"]["texture"]["changed_fraction"] == 0.0
    html = result.save_report(tmp_path / "report").read_text()
    assert "changed regions of fewer than 1000000 pixels are dropped." in html
