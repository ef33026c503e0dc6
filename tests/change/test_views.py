"""Test-time augmentation: views are undone exactly, averaging is what it says, checkpoints keep it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from synthdiff.change import (
    VIEWS,
    ChangeOutput,
    ViewAverage,
    create_model,
    load_checkpoint,
    save_checkpoint,
    set_views,
    with_views,
)
from synthdiff.change._views import _backward, _forward
from synthdiff.errors import InvalidArgumentError


class Pointwise(nn.Module):
    """A detector whose answer at a pixel depends only on the two images there: every view must give
    back the same maps, so a view turned back wrongly shows as a permuted map."""

    def forward(self, reference: torch.Tensor, test: torch.Tensor) -> ChangeOutput:
        change = (reference - test).abs().sum(1, keepdim=True)
        return ChangeOutput(reference[:, :1], test[:, :1], change)


class ColumnRamp(nn.Module):
    """A detector that answers with the column index, whatever the images: not mirror-invariant."""

    def forward(self, reference: torch.Tensor, test: torch.Tensor) -> ChangeOutput:
        batch, _, height, width = reference.shape
        ramp = torch.arange(width, dtype=torch.float32).expand(batch, 1, height, width)
        return ChangeOutput(ramp, ramp, ramp)


def images(height: int = 7, width: int = 11) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return torch.rand(2, 3, height, width, generator=generator), torch.rand(
        2, 3, height, width, generator=generator
    )


@pytest.mark.parametrize("views", list(VIEWS))
def test_every_view_is_undone_exactly(views: str) -> None:
    reference, _ = images()
    for view in VIEWS[views]:
        torch.testing.assert_close(_backward(_forward(reference, view), view), reference, rtol=0, atol=0)
    assert len(set(VIEWS[views])) == len(VIEWS[views])  # no view counted twice


@pytest.mark.parametrize("views", list(VIEWS))
def test_a_pointwise_detector_gives_the_same_maps_under_every_view_set(views: str) -> None:
    reference, test = images()
    plain = Pointwise()(reference, test)
    averaged = with_views(Pointwise(), views)(reference, test)
    for name in ("seg_ref", "seg_test", "change"):
        torch.testing.assert_close(getattr(averaged, name), getattr(plain, name), rtol=0, atol=1e-6)


def test_mirrored_views_average_a_column_ramp_to_its_middle() -> None:
    reference, test = images(5, 9)
    assert ColumnRamp()(reference, test).change[0, 0, 0].tolist() == list(range(9))
    # Column c and its mirror 8 - c average to 4 everywhere; a quarter turn of a 5x9 image is 9x5,
    # and turned back it is the row-indexed ramp's transpose, so 'dihedral' mixes rows in too.
    flipped = ViewAverage(ColumnRamp(), "flip")(reference, test).change
    torch.testing.assert_close(flipped, torch.full_like(flipped, 4.0))
    dihedral = ViewAverage(ColumnRamp(), "dihedral")(reference, test).change
    # Half the views give columns (mean 4), half rows of the turned image: rows 0-4 mirrored -> mean 2.
    torch.testing.assert_close(dihedral, torch.full_like(dihedral, 3.0))


def test_a_wrapped_model_keeps_swap_symmetry_and_the_input_size() -> None:
    model = with_views(create_model("fresunet-tiny", ["texture", "illumination"]).eval(), "dihedral")
    reference, test = images(24, 40)
    with torch.no_grad():
        forward, backward = model(reference, test), model(test, reference)
    assert forward.change.shape == (2, 2, 24, 40)
    torch.testing.assert_close(forward.change, backward.change, rtol=0, atol=1e-5)
    torch.testing.assert_close(forward.seg_ref, backward.seg_test, rtol=0, atol=1e-5)


def test_unknown_views_are_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="Expected views from none, flip, flips, dihedral"):
        with_views(Pointwise(), "rotate")
    with pytest.raises(InvalidArgumentError, match="got 'rotate'"):
        ViewAverage(Pointwise(), "rotate")


def test_a_checkpoint_keeps_its_default_views_and_thresholds_per_view_set(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    model = create_model("fresunet-tiny", ["texture"])
    save_checkpoint(path, model, "fresunet-tiny", ["texture"], thresholds={"texture": 0.6})
    plain, metadata = load_checkpoint(path)
    assert not isinstance(plain, ViewAverage)
    assert metadata["views"] == "none" and metadata["thresholds"] == {"texture": 0.6}

    set_views(path, "flip", {"flip": {"texture": 0.7}, "dihedral": {"texture": 0.8}})
    wrapped, metadata = load_checkpoint(path)
    assert isinstance(wrapped, ViewAverage) and wrapped.views == "flip"
    assert metadata["views"] == "flip" and metadata["thresholds"] == {"texture": 0.7}
    _, metadata = load_checkpoint(path, views="dihedral")
    assert metadata["thresholds"] == {"texture": 0.8}
    single, metadata = load_checkpoint(path, views="none")
    assert not isinstance(single, ViewAverage) and metadata["thresholds"] == {"texture": 0.6}
    # Views without tuned thresholds fall back to the single view's.
    _, metadata = load_checkpoint(path, views="flips")
    assert metadata["thresholds"] == {"texture": 0.6}

    with pytest.raises(InvalidArgumentError, match="thresholds tuned for the default views 'flips'"):
        set_views(path, "flips", {"flip": {"texture": 0.7}})
    with pytest.raises(InvalidArgumentError, match="for \\['texture'\\]"):
        set_views(path, "flip", {"flip": {"illumination": 0.7}})
    with pytest.raises(InvalidArgumentError, match="Expected views from"):
        load_checkpoint(path, views="mirror")


def test_detect_and_eval_take_tta(tmp_path: Path) -> None:
    from synthdiff.cli import app
    from tests.change.test_data import fake_dataset

    data = fake_dataset(tmp_path / "data", pairs=2)
    path = tmp_path / "model.pt"
    save_checkpoint(path, create_model("fresunet-tiny", ["texture"]), "fresunet-tiny", ["texture"])
    runner = CliRunner()
    common = ["eval", "change", "--model", str(path), "--data", str(data), "--split", "val"]
    result = runner.invoke(app, [*common, "--tta", "flips"])
    assert result.exit_code == 0, result.output
    assert "test-time views flips" in result.output
    result = runner.invoke(app, [*common, "--tta", "sideways"])
    assert result.exit_code == 2 and "Expected views from" in result.output
