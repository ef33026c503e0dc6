"""Tiled inference on any size: coverage, seamless blending, regions, errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from torch import nn

from synthdiff.change import ChangeOutput, create_model, identical_pairs
from synthdiff.change._infer import predict_maps, tile_starts
from synthdiff.errors import InvalidArgumentError, SizeMismatchError


class Pointwise(nn.Module):
    """A 'model' whose outputs at a pixel depend only on that pixel: tiling must not change them."""

    def forward(self, reference: torch.Tensor, test: torch.Tensor) -> ChangeOutput:
        difference = (reference - test).abs().sum(dim=1, keepdim=True)
        return ChangeOutput(reference[:, :1] * 4 - 2, test[:, :1] * 4 - 2, difference * 8 - 1)


@pytest.mark.parametrize(
    ("length", "tile", "overlap"), [(256, 256, 32), (300, 256, 32), (517, 128, 16), (97, 128, 16)]
)
def test_tiles_cover_everything_with_the_overlap(length: int, tile: int, overlap: int) -> None:
    starts = tile_starts(length, tile, overlap)
    size = min(tile, length)
    covered = np.zeros(length, bool)
    for start in starts:
        covered[start : start + size] = True
    assert covered.all() and starts[0] == 0 and starts[-1] + size == length
    assert all(b - a <= size - overlap for a, b in itertools.pairwise(starts))


def test_tiling_leaves_no_seams() -> None:
    rng = np.random.default_rng(0)
    reference = rng.random((150, 97, 3), dtype=np.float32)
    test = reference.copy()
    test[40:70, 20:60] = 1.0
    whole = predict_maps(Pointwise(), ["texture"], reference, test, tile=256)
    tiled = predict_maps(Pointwise(), ["texture"], reference, test, tile=48, overlap=12)
    for key in ("change", "seg_ref", "seg_test"):
        np.testing.assert_allclose(getattr(tiled, key)["texture"], getattr(whole, key)["texture"], atol=1e-5)
    assert [r.box for r in whole.regions] == [(20, 40, 60, 70)]
    # 8-bit arrays, as Pillow gives them, are scaled to [0, 1]: the same maps up to the rounding.
    eight = predict_maps(
        Pointwise(),
        ["texture"],
        *(np.round(image * 255).astype(np.uint8) for image in (reference, test)),
        tile=256,
    )
    assert [r.box for r in eight.regions] == [(20, 40, 60, 70)]
    np.testing.assert_allclose(eight.change["texture"], whole.change["texture"], atol=0.05)
    summary = whole.summary()
    assert summary["features"]["texture"]["regions"] == 1
    assert summary["features"]["texture"]["changed_fraction"] == pytest.approx(30 * 40 / (150 * 97), abs=1e-6)


def test_real_model_on_odd_sizes() -> None:
    model = create_model("fresunet-tiny", ["illumination", "texture"])
    rng = np.random.default_rng(1)
    reference, test = rng.random((2, 83, 131, 3), dtype=np.float32)
    maps = predict_maps(model, ["illumination", "texture"], reference, test, tile=64, overlap=16)
    assert maps.change["texture"].shape == (83, 131)
    assert 0.0 <= float(maps.change["illumination"].min()) <= float(maps.change["illumination"].max()) <= 1.0


def test_errors() -> None:
    image = np.zeros((40, 40, 3), np.float32)
    with pytest.raises(SizeMismatchError, match="one size"):
        predict_maps(Pointwise(), ["texture"], image, np.zeros((40, 41, 3), np.float32))
    with pytest.raises(InvalidArgumentError, match="tile"):
        predict_maps(Pointwise(), ["texture"], image, image, tile=16)
    # detect has no --overlap: the message says which --tile works with the default overlap of 32.
    with pytest.raises(
        InvalidArgumentError, match=r"got tile 40 and overlap 32\. Fix: a tile of at least 65"
    ):
        predict_maps(Pointwise(), ["texture"], image, image, tile=40)
    with pytest.raises(InvalidArgumentError, match="an overlap of 0 or more"):
        predict_maps(Pointwise(), ["texture"], image, image, tile=64, overlap=-1)
    predict_maps(Pointwise(), ["texture"], image, image, tile=65)  # more than twice the overlap: fine


@pytest.mark.parametrize(
    ("size", "work_size", "expected"),
    [
        ((1080, 1920), 256, (256, 455)),
        ((512, 512), 256, (256, 256)),
        ((256, 300), 256, None),
        ((200, 300), 256, None),
        ((1080, 1920), None, None),
    ],
)
def test_working_shape(
    size: tuple[int, int], work_size: int | None, expected: tuple[int, int] | None
) -> None:
    from synthdiff.change import working_shape

    assert working_shape(*size, work_size) == expected


def test_a_pair_larger_than_the_training_size_runs_scaled_down_and_comes_back_full_size() -> None:
    from synthdiff.change import AtWorkingSize

    # A flat pair with a changed block of 64x64 at 2 pixels per training pixel: the block covers
    # whole pixels at the working size too, so the maps scaled back match the full-size ones inside it.
    reference = np.full((192, 320, 3), 0.25, np.float32)
    test = reference.copy()
    test[64:128, 128:192] = 0.75
    full = predict_maps(Pointwise(), ["texture"], reference, test, tile=128, overlap=16)
    scaled = predict_maps(Pointwise(), ["texture"], reference, test, tile=128, overlap=16, work_size=96)
    assert full.scaled_to is None and scaled.scaled_to == (96, 160)
    assert scaled.summary()["scaled_to"] == [160, 96]
    assert scaled.change["texture"].shape == (192, 320)
    np.testing.assert_allclose(
        scaled.change["texture"][70:122, 134:186], full.change["texture"][70:122, 134:186]
    )
    np.testing.assert_allclose(scaled.change["texture"][:50], full.change["texture"][:50], atol=1e-6)
    assert [r.box for r in scaled.regions] == [(128, 64, 192, 128)]
    # A pair no larger than the working size runs as it is.
    small = predict_maps(Pointwise(), ["texture"], reference, test, tile=128, overlap=16, work_size=192)
    assert small.scaled_to is None
    np.testing.assert_array_equal(small.change["texture"], full.change["texture"])
    # The batch form (eval change, tune change) gives what predict_maps gives on a one-tile pair.
    model = create_model("fresunet-tiny", ["illumination", "texture"])
    rng = np.random.default_rng(3)
    pair = rng.random((2, 128, 192, 3), dtype=np.float32)
    maps = predict_maps(model, ["illumination", "texture"], *pair, tile=128, work_size=64)
    with torch.no_grad():
        batch = AtWorkingSize(model, 64)(*(torch.from_numpy(x.transpose(2, 0, 1))[None] for x in pair))
    assert batch.change.shape == (1, 2, 128, 192)
    np.testing.assert_allclose(batch.change.sigmoid()[0, 1].numpy(), maps.change["texture"], atol=1e-5)
    with pytest.raises(InvalidArgumentError, match="positive working size"):
        predict_maps(Pointwise(), ["texture"], reference, test, work_size=0)


class _Alarmed(nn.Module):
    """A detector sure that everything changed, whatever it is shown (as fresunet-wide is on noise)."""

    def forward(self, reference: torch.Tensor, test: torch.Tensor) -> ChangeOutput:
        sure = torch.full_like(reference[:, :1], 5.0)
        return ChangeOutput(sure, -sure, sure)


@pytest.mark.parametrize("work_size", [None, 32])
def test_one_picture_twice_has_nothing_changed(work_size: int | None) -> None:
    image = np.random.default_rng(3).random((40, 56, 3), dtype=np.float32)
    maps = predict_maps(_Alarmed(), ["texture"], image, image + 0.4 / 255, work_size=work_size)
    assert not maps.change["texture"].any() and maps.regions == []
    assert maps.changed_fractions() == {"texture": 0.0}
    assert maps.seg_ref["texture"].min() > 0.99  # the segmentations are the model's, as ever
    # One value of one pixel a step off is another picture: the model's answer stands.
    test = image.copy()
    test[5, 7, 1] += 1 / 255
    assert predict_maps(_Alarmed(), ["texture"], image, test, work_size=work_size).changed_fractions() == {
        "texture": 1.0
    }


def test_identical_pairs_is_per_pair_and_within_half_a_step() -> None:
    reference = torch.rand(3, 3, 8, 8)
    test = reference.clone()
    test[1] += 0.49 / 255
    test[2, 0, 4, 4] += 0.51 / 255
    assert identical_pairs(reference, test).tolist() == [True, True, False]
    output = _Alarmed()(reference, test).without_change(identical_pairs(reference, test))
    assert output.probabilities().change[:, 0].flatten(1).amax(1).tolist() == [
        0.0,
        0.0,
        pytest.approx(0.9933, abs=1e-4),
    ]
    assert output.seg_ref.eq(5.0).all()
