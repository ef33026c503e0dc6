"""Two change thresholds per feature (hysteresis): the mask, the batch version, checkpoints, inference."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import ndimage
from torch import nn
from typer.testing import CliRunner

from synthdiff.change import (
    ChangeOutput,
    change_masks,
    create_model,
    detect,
    hysteresis_mask,
    load_checkpoint,
    save_checkpoint,
    set_views,
)
from synthdiff.change._infer import predict_maps
from synthdiff.change._report import threshold_text
from synthdiff.errors import InvalidArgumentError


def rim_and_blob() -> np.ndarray:
    """A sure change (0.9) with a faint rim (0.4) touching it diagonally, and an isolated faint blob."""
    probability = np.zeros((12, 12), np.float32)
    probability[2:5, 2:5] = 0.9
    probability[5:7, 5:7] = 0.4  # touches the sure change at one corner only
    probability[9:11, 9:11] = 0.4
    return probability


def test_the_faint_rim_of_a_sure_change_counts_and_an_isolated_faint_blob_does_not() -> None:
    probability = rim_and_blob()
    mask = hysteresis_mask(probability, high=0.8, low=0.3)
    assert mask[2:5, 2:5].all() and mask[5:7, 5:7].all()  # 8-connected, as the regions of detect
    assert not mask[9:11, 9:11].any()
    assert mask.sum() == 9 + 4
    # Equal thresholds (or none low) are the single threshold.
    np.testing.assert_array_equal(hysteresis_mask(probability, 0.3, 0.3), probability > 0.3)
    np.testing.assert_array_equal(hysteresis_mask(probability, 0.8), probability > 0.8)
    assert not hysteresis_mask(np.zeros((4, 4)), 0.8, 0.3).any()


def test_agrees_with_reconstruction_by_dilation_on_random_maps() -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        probability = ndimage.gaussian_filter(rng.random((48, 40)), 2.0)
        probability = (probability - probability.min()) / np.ptp(probability)
        low, high = sorted(rng.uniform(0.2, 0.95, 2))
        # A different algorithm for the same set: grow the seeds inside the candidates until stable.
        expected = ndimage.binary_propagation(
            probability > high, structure=np.ones((3, 3), bool), mask=probability > low
        )
        np.testing.assert_array_equal(hysteresis_mask(probability, high, low), expected)


def test_batches_per_feature_and_errors() -> None:
    rng = np.random.default_rng(5)
    maps = torch.from_numpy(ndimage.gaussian_filter(rng.random((2, 3, 20, 20)), (0, 0, 1.5, 1.5))).float()
    maps = (maps - maps.min()) / (maps.max() - maps.min())
    high, low = torch.tensor([0.7, 0.6, 0.5]), torch.tensor([0.4, 0.6, 0.2])
    masks = change_masks(maps, high, low)
    assert masks.dtype == torch.bool and masks.shape == maps.shape
    for b in range(2):
        for f in range(3):
            expected = hysteresis_mask(maps[b, f].numpy(), float(high[f]), float(low[f]))
            np.testing.assert_array_equal(masks[b, f].numpy(), expected)
    torch.testing.assert_close(change_masks(maps, high), maps > high.view(1, -1, 1, 1))
    message = re.escape("at most its high one, got low [0.8, 0.6, 0.2]")
    with pytest.raises(InvalidArgumentError, match=message):
        change_masks(maps, high, torch.tensor([0.8, 0.6, 0.2]))
    with pytest.raises(InvalidArgumentError, match="low threshold at most the high one"):
        hysteresis_mask(rim_and_blob(), 0.3, 0.8)
    with pytest.raises(InvalidArgumentError, match="one \\(H, W\\) map"):
        hysteresis_mask(np.zeros((1, 4, 4)), 0.8, 0.3)


def test_change_output_masks_take_low_thresholds() -> None:
    probability = torch.from_numpy(rim_and_blob())[None, None]
    output = ChangeOutput(
        torch.zeros_like(probability), torch.zeros_like(probability), torch.logit(probability, 1e-4)
    )
    single = output.masks(0.5, torch.tensor([0.8])).change
    grown = output.masks(0.5, torch.tensor([0.8]), torch.tensor([0.3])).change
    assert int(single.sum()) == 9 and int(grown.sum()) == 13


def test_checkpoints_keep_low_thresholds_with_their_high_ones(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    features = ["illumination", "texture"]
    save_checkpoint(
        path,
        create_model("fresunet-tiny", features),
        "fresunet-tiny",
        features,
        {"illumination": 0.5, "texture": 0.6},
    )
    _, metadata = load_checkpoint(path)
    assert metadata["low_thresholds"] == metadata["thresholds"]  # none stored: single thresholds

    set_views(
        path,
        "none",
        {"none": {"illumination": 0.7, "texture": 0.9}},
        {"none": {"illumination": 0.4, "texture": 0.9}},
    )
    _, metadata = load_checkpoint(path)
    assert metadata["thresholds"] == {"illumination": 0.7, "texture": 0.9}
    assert metadata["low_thresholds"] == {"illumination": 0.4, "texture": 0.9}
    # A view set without its own thresholds runs with the single view's, and so with their low ones.
    _, metadata = load_checkpoint(path, views="flip")
    assert metadata["low_thresholds"] == {"illumination": 0.4, "texture": 0.9}
    # New thresholds for a view set drop the low ones tuned with the old thresholds.
    set_views(path, "flip", {"flip": {"illumination": 0.6, "texture": 0.6}})
    _, metadata = load_checkpoint(path, views="flip")
    assert metadata["low_thresholds"] == metadata["thresholds"] == {"illumination": 0.6, "texture": 0.6}
    _, metadata = load_checkpoint(path, views="none")
    assert metadata["low_thresholds"]["illumination"] == 0.4
    set_views(path, "none", {"none": {"illumination": 0.7, "texture": 0.9}})
    _, metadata = load_checkpoint(path, views="none")
    assert metadata["low_thresholds"] == metadata["thresholds"]

    with pytest.raises(InvalidArgumentError, match="at most its high one"):
        set_views(
            path,
            "none",
            {"none": {"illumination": 0.5, "texture": 0.5}},
            {"none": {"illumination": 0.6, "texture": 0.5}},
        )
    with pytest.raises(InvalidArgumentError, match="only with their high ones"):
        set_views(
            path,
            "none",
            {"none": {"illumination": 0.5, "texture": 0.5}},
            {"flip": {"illumination": 0.4, "texture": 0.5}},
        )
    with pytest.raises(InvalidArgumentError, match="for \\['illumination', 'texture'\\]"):
        set_views(path, "none", {"none": {"illumination": 0.5, "texture": 0.5}}, {"none": {"texture": 0.4}})


class GivenProbability(nn.Module):
    """A 'detector' whose change probability is the test image's first channel (the reference is black)."""

    def forward(self, reference: torch.Tensor, test: torch.Tensor) -> ChangeOutput:
        probability = (test[:, :1] - reference[:, :1]).clamp(1e-4, 1 - 1e-4)
        return ChangeOutput(
            torch.zeros_like(probability), torch.zeros_like(probability), torch.logit(probability)
        )


def test_inference_marks_and_boxes_the_grown_region_and_reports_both_thresholds() -> None:
    probability = np.zeros((64, 64), np.float32)
    probability[10:20, 10:20] = 0.9
    probability[20:30, 10:20] = 0.4  # the faint half of one change
    probability[45:55, 45:55] = 0.4  # faint and alone
    reference = np.zeros((64, 64, 3), np.float32)
    test = np.repeat(probability[..., None], 3, axis=2)
    single = predict_maps(GivenProbability(), ["texture"], reference, test, threshold={"texture": 0.8})
    grown = predict_maps(
        GivenProbability(),
        ["texture"],
        reference,
        test,
        threshold={"texture": 0.8},
        low_threshold={"texture": 0.3},
    )
    assert [r.box for r in single.regions] == [(10, 10, 20, 20)]
    assert [r.box for r in grown.regions] == [(10, 10, 20, 30)]
    assert int(grown.changed("texture").sum()) == 200 and int(single.changed("texture").sum()) == 100
    summary = grown.summary()
    assert summary["thresholds"] == {"texture": 0.8} and summary["low_thresholds"] == {"texture": 0.3}
    assert single.summary()["low_thresholds"] == {"texture": 0.8}
    assert threshold_text({"illumination": 0.5, "texture": 0.8}, {"illumination": 0.5, "texture": 0.3}) == (
        "illumination 0.50, texture 0.80 (grown to 0.30)"
    )


def grown_checkpoint(tmp_path: Path) -> Path:
    """A tiny untrained model whose illumination threshold 0.7 grows to 0.4; texture's is single."""
    features = ["illumination", "texture"]
    path = tmp_path / "model.pt"
    save_checkpoint(path, create_model("fresunet-tiny", features), "fresunet-tiny", features)
    set_views(
        path,
        "none",
        {"none": {"illumination": 0.7, "texture": 0.9}},
        {"none": {"illumination": 0.4, "texture": 0.9}},
    )
    return path


def test_detect_and_eval_use_the_stored_low_thresholds_unless_given_one_threshold(tmp_path: Path) -> None:
    from synthdiff.cli import app
    from tests.change.test_data import fake_dataset
    from tests.conftest import EXAMPLES

    path = grown_checkpoint(tmp_path)
    pair = EXAMPLES / "wrong-light"
    stored = detect(pair / "reference.png", pair / "test.png", path, tile=128)
    assert stored.maps.low_thresholds == {"illumination": 0.4, "texture": 0.9}
    given = detect(pair / "reference.png", pair / "test.png", path, tile=128, threshold=0.6)
    assert given.maps.low_thresholds == given.maps.thresholds == {"illumination": 0.6, "texture": 0.6}
    runner = CliRunner()
    args = ["detect", str(pair / "reference.png"), str(pair / "test.png"), "-m", str(path), "--tile", "128"]
    result = runner.invoke(app, [*args, "-o", str(tmp_path / "detect")])
    assert result.exit_code == 0, result.output
    assert "change thresholds illumination 0.70 (grown to 0.40), texture 0.90\n" in result.output
    result = runner.invoke(app, [*args, "-o", str(tmp_path / "detect"), "--threshold", "0.6"])
    assert "change thresholds illumination 0.60, texture 0.60\n" in result.output

    data = fake_dataset(tmp_path / "data", pairs=2)  # texture labels only
    path = tmp_path / "texture.pt"
    save_checkpoint(path, create_model("fresunet-tiny", ["texture"]), "fresunet-tiny", ["texture"])
    set_views(path, "none", {"none": {"texture": 0.7}}, {"none": {"texture": 0.4}})
    args = ["eval", "change", "--model", str(path), "--data", str(data), "--split", "val"]
    result = runner.invoke(app, [*args, "-o", str(tmp_path / "eval")])
    assert result.exit_code == 0, result.output
    assert "change thresholds texture 0.70 (grown to 0.40)." in result.output
    report = json.loads((tmp_path / "eval" / "eval.json").read_text())
    assert report["thresholds"] == {"texture": 0.7} and report["low_thresholds"] == {"texture": 0.4}
    result = runner.invoke(app, [*args, "--threshold", "0.6"])
    assert result.exit_code == 0, result.output
    assert "change thresholds texture 0.60." in result.output


def test_compare_report_uses_and_names_the_low_thresholds(tmp_path: Path) -> None:
    from synthdiff import compare
    from tests.conftest import EXAMPLES

    path = grown_checkpoint(tmp_path)
    pair = EXAMPLES / "wrong-roughness"
    result = compare(pair / "reference.png", pair / "test.png", fast=True, change_model=path)
    assert result.to_dict()["rendering_features"]["low_thresholds"] == {"illumination": 0.4, "texture": 0.9}
    html = result.save_report(tmp_path / "report").read_text()
    assert "illumination 0.7, grown over connected pixels above 0.4; texture 0.9;" in html
