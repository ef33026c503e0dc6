"""Tiled inference on any size: coverage, seamless blending, regions, errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from torch import nn

from synthdiff.change import ChangeOutput, create_model
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
