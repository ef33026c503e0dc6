"""Realness core: Fourier features on known signals, crop grids on odd and tiny sizes, calibration,
checkpoints and scoring."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from synthdiff.errors import CheckpointError, InvalidArgumentError
from synthdiff.realness import (
    Calibration,
    RealnessSettings,
    create_model,
    crop_features,
    expected_calibration_error,
    extract_patches,
    fit_calibration,
    fourier_log_magnitude,
    high_pass_residual,
    load_realness_model,
    patch_grid,
    save_realness_model,
    score_image,
)
from synthdiff.realness._features import TRACE_NAMES, trace_statistics


def test_a_cosine_puts_its_energy_at_its_frequency_after_the_shift() -> None:
    size, u, v = 32, 5, 3
    rows, cols = np.mgrid[0:size, 0:size]
    wave = 0.5 + 0.25 * np.cos(2 * np.pi * (u * cols + v * rows) / size)
    crops = torch.from_numpy(np.broadcast_to(wave, (1, 3, size, size)).astype(np.float32).copy())
    spectrum = fourier_log_magnitude(crops)[0, 0].numpy()
    peaks = {tuple(p) for p in np.argwhere(spectrum > spectrum.max() - 1e-3)}
    centre = size // 2
    # A real cosine has two conjugate peaks; the mean is removed, so the centre (DC) is at the floor.
    assert peaks == {(centre + v, centre + u), (centre - v, centre - u)}
    assert spectrum[centre, centre] == pytest.approx(np.log(1e-4), abs=1e-2)
    # Orthonormal transform: amplitude 0.25 over size^2 pixels -> |F| = 0.25 * size / 2 at each peak.
    assert np.exp(spectrum.max()) == pytest.approx(0.25 * size / 2, rel=1e-3)


def test_constant_crops_have_no_high_pass_residual_and_cues_stack_in_order() -> None:
    crops = torch.full((2, 3, 16, 16), 0.3)
    assert high_pass_residual(crops).abs().max() < 1e-6
    features = crop_features(crops, ("rgb", "fourier"))
    assert features.shape == (2, 6, 16, 16)
    torch.testing.assert_close(features[:, :3], torch.full((2, 3, 16, 16), -0.4))
    with pytest.raises(ValueError, match="Expected cues"):
        crop_features(crops, ("colour",))


def _traces(crops: torch.Tensor) -> dict[str, np.ndarray]:
    values = trace_statistics(crops).numpy()
    assert values.shape == (len(crops), len(TRACE_NAMES)) and np.isfinite(values).all()
    return dict(zip(TRACE_NAMES, values.T, strict=True))


def test_trace_statistics_of_flat_noisy_and_clipped_crops() -> None:
    generator = torch.Generator().manual_seed(0)
    flat = _traces(torch.full((1, 3, 64, 64), 0.5))
    # A constant crop: no noise (log10 of the 0.1 floor), every neighbour equal, gradients and spectrum flat.
    assert flat["noise_sigma"][0] == pytest.approx(-1.0)
    assert flat["flat_fraction"][0] == 1.0 and flat["clipped_fraction"][0] == 0.0
    assert flat["gradient_kurtosis"][0] == pytest.approx(0.0, abs=1e-6)
    # Grey noise of 4 8-bit steps: the robust estimate finds it, the same in every channel.
    noise = torch.randn((1, 1, 128, 128), generator=generator) * 4 / 255
    grey = _traces((0.5 + noise).expand(1, 3, 128, 128))
    assert 10 ** grey["noise_sigma"][0] - 0.1 == pytest.approx(4.0, rel=0.1)
    assert grey["noise_channel_correlation"][0] == pytest.approx(1.0, abs=1e-3)
    assert grey["flat_fraction"][0] < 0.2
    colour = _traces(0.5 + torch.randn((1, 3, 128, 128), generator=generator) * 4 / 255)
    assert abs(colour["noise_channel_correlation"][0]) < 0.1
    # White noise has a flat spectrum (every band near 0); a smooth ramp has its power at the bottom.
    for band in range(6):
        assert abs(colour[f"spectrum_band_{band}"][0]) < 0.3
    ramp = torch.linspace(0.2, 0.8, 128).expand(1, 3, 128, 128)
    smooth = _traces(ramp)
    assert smooth["spectrum_band_0"][0] > 3.0 and smooth["spectrum_band_5"][0] < -5.0
    half = torch.full((1, 3, 32, 32), 0.5)
    half[..., :16] = 0.0
    assert _traces(half)["clipped_fraction"][0] == pytest.approx(0.5)


def test_trace_statistics_take_odd_sizes_and_batches_independently() -> None:
    crops = torch.rand((3, 3, 17, 17), generator=torch.Generator().manual_seed(1))
    together = trace_statistics(crops)
    torch.testing.assert_close(together[1:2], trace_statistics(crops[1:2]))


@pytest.mark.parametrize(
    ("height", "width"), [(64, 64), (65, 130), (200, 97), (1080, 1920), (37, 50), (5, 300)]
)
def test_the_crop_grid_covers_any_size_with_crops_inside_the_image(height: int, width: int) -> None:
    grid = patch_grid(height, width, 64, max_patches=None)
    covered = np.zeros((max(height, 64), max(width, 64)), bool)
    for top in grid.tops:
        for left in grid.lefts:
            covered[top : top + 64, left : left + 64] = True
    assert covered[:height, :width].all()
    assert grid.padded == (height < 64 or width < 64)
    image = np.random.default_rng(0).random((height, width, 3), dtype=np.float32)
    crops = extract_patches(image, grid)
    assert crops.shape == (len(grid.tops) * len(grid.lefts), 3, 64, 64)
    if not grid.padded:
        np.testing.assert_array_equal(crops[-1], image[-64:, -64:].transpose(2, 0, 1))
    # An 8-bit image (Pillow's) gives the same crops, scaled to [0, 1] (they were 0-255 values).
    eight = extract_patches(np.round(image * 255).astype(np.uint8), grid)
    np.testing.assert_allclose(eight, crops, atol=0.5 / 255 + 1e-7)


def test_large_images_score_an_evenly_spread_bounded_subset() -> None:
    grid = patch_grid(1080, 1920, 64, max_patches=96)
    assert len(grid.chosen) == 96 and grid.chosen[0] == 0 and grid.chosen[-1] == 17 * 30 - 1
    assert patch_grid(1080, 1920, 64, max_patches=96) == grid
    shifted = patch_grid(1080, 1920, 64, max_patches=96, offset=1)
    assert shifted.tops[0] == 1 and shifted.tops[-1] == 1080 - 64
    with pytest.raises(ValueError, match="Expected size >= 8"):
        patch_grid(100, 100, 4)


def test_calibration_recovers_a_known_temperature_and_bias() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, 20000)
    labels = rng.random(20000) < 1 / (1 + np.exp(-(0.5 * logits - 1.0)))
    fitted = fit_calibration(logits, labels)
    assert fitted.scale == pytest.approx(0.5, abs=0.05) and fitted.bias == pytest.approx(-1.0, abs=0.1)
    calibrated = fitted.probability(logits)
    raw = Calibration().probability(logits)
    assert expected_calibration_error(calibrated, labels) < 0.02 < expected_calibration_error(raw, labels)
    with pytest.raises(ValueError, match="both classes"):
        fit_calibration(logits, np.ones_like(labels))


def test_ece_of_a_known_case() -> None:
    # Four predictions at confidence 0.9, three right: |0.9 - 0.75| = 0.15 in the only bin.
    probabilities = np.array([0.9, 0.9, 0.1, 0.1])
    labels = np.array([1, 1, 0, 1])
    assert expected_calibration_error(probabilities, labels) == pytest.approx(0.15)


def test_checkpoints_round_trip_and_bad_ones_are_refused(tmp_path: Path) -> None:
    model = create_model("realness-tiny", RealnessSettings(("fourier", "residual"), crop=32, max_patches=8))
    model.calibration = Calibration(0.7, -0.2)
    save_realness_model(tmp_path / "m.pt", model)
    loaded = load_realness_model(tmp_path / "m.pt")
    assert loaded.settings == model.settings and loaded.calibration == model.calibration
    image = np.random.default_rng(1).random((70, 90, 3), dtype=np.float32)
    first = score_image(model, image, check_stability=False)
    again = score_image(loaded, image, check_stability=False)
    assert again.probability_synthetic == pytest.approx(first.probability_synthetic, abs=1e-6)
    with pytest.raises(CheckpointError, match=r"shipped model name \(realness-cnn, realness-effnet\)"):
        load_realness_model(tmp_path / "missing.pt")
    with pytest.raises(
        CheckpointError, match="'fresunet-wide', which is a model of another kind, for detect"
    ):
        load_realness_model("fresunet-wide")
    with pytest.raises(CheckpointError, match=r"weights do not ship.*--model realness-effnet-mlp"):
        load_realness_model("realness-effnet-mlp")
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot be read"):
        load_realness_model(tmp_path / "bad.pt")
    with pytest.raises(InvalidArgumentError, match="realness model name"):
        create_model("resnet50")
    for crop in (8, 100_000):  # the second was reflect-padded to a 28 GB array before it failed
        with pytest.raises(InvalidArgumentError, match="crop from 16 to 2048"):
            RealnessSettings(crop=crop)


@pytest.mark.parametrize(("height", "width"), [(64, 64), (20, 33), (150, 301)])
def test_scores_are_probabilities_with_a_heatmap_on_the_crop_grid(height: int, width: int) -> None:
    torch.manual_seed(0)
    model = create_model("realness-tiny", RealnessSettings(max_patches=4))
    image = np.random.default_rng(2).random((height, width, 3), dtype=np.float32)
    score = score_image(model, image)
    assert 0.0 <= score.probability_synthetic <= 1.0
    assert score.verdict in {"real", "synthetic", "unsure"} and (score.verdict == "unsure") == bool(
        score.reasons
    )
    assert set(score.perturbed) == ({"jpeg90", "shift1"} if max(height, width) > 64 else {"jpeg90"})
    assert score.grid is not None and score.crop_probabilities is not None
    assert score.crop_probabilities.shape == score.grid.shape
    assert (
        np.isfinite(score.crop_probabilities).sum()
        == score.crops
        == min(4, score.grid.shape[0] * score.grid.shape[1])
    )
    full = score_image(model, image, check_stability=False, all_crops=True)
    assert np.isfinite(full.crop_probabilities).all()


def test_8_and_16_bit_and_grey_arrays_score_as_their_float_copies_and_bad_ones_are_refused() -> None:
    torch.manual_seed(0)
    model = create_model("realness-tiny", RealnessSettings(max_patches=4))
    image = np.round(np.random.default_rng(5).random((70, 90, 3)) * 255) / 255
    expected = score_image(model, image.astype(np.float32), check_stability=False).probability_synthetic
    # An 8-bit array was scored as if 0-255 were intensities (scikit-image's astronaut: 0.001 as floats,
    # 0.05 as uint8).
    for array in (np.round(image * 255).astype(np.uint8), np.round(image * 65535).astype(np.uint16)):
        score = score_image(model, array, check_stability=False)
        assert score.probability_synthetic == pytest.approx(expected, abs=1e-5)
    grey = image[..., 0].astype(np.float32)
    assert score_image(model, grey, check_stability=False).probability_synthetic == pytest.approx(
        score_image(model, np.repeat(grey[..., None], 3, axis=2), check_stability=False).probability_synthetic
    )
    # Floats above 1 (8-bit values as floats, or linear HDR) were clipped to white without a word.
    score = score_image(model, image.astype(np.float32) * 255, check_stability=False)
    assert score.verdict == "unsure" and any(
        "values above 1 (up to 255) were clipped" in r for r in score.reasons
    )
    image[0, 0, 0] = np.nan  # it gave a NaN probability
    with pytest.raises(InvalidArgumentError, match="found 1 NaN or infinite"):
        score_image(model, image)
    with pytest.raises(InvalidArgumentError, match=r"HxWx3 array, got shape \(70, 90, 4\)"):
        score_image(model, np.zeros((70, 90, 4), np.float32))


@pytest.mark.parametrize(("name", "width"), [("realness-effnet", 1280), ("realness-effnet-levels", 1792)])
def test_the_effnet_model_keeps_its_frozen_backbone_out_of_training_and_checkpoints(
    tmp_path: Path, name: str, width: int
) -> None:
    model = create_model(name, RealnessSettings(("rgb",), 128, 4))
    names = set(model.net.state_dict())
    assert names == {"standardise.running_mean", "standardise.running_var", "standardise.num_batches_tracked",
                     "head.weight", "head.bias"}  # fmt: skip
    assert sum(p.numel() for p in model.net.parameters()) == width + 1
    model.net.train()
    assert not model.net.backbone.training  # batch norms of the ImageNet backbone stay frozen
    model.net.to(torch.float64)
    assert next(model.net.backbone.parameters()).dtype == torch.float64
    model.net.to(torch.float32)
    save_realness_model(tmp_path / "m.pt", model)
    assert (tmp_path / "m.pt").stat().st_size < 100_000
    crops = torch.rand(2, 3, 128, 128)
    model.net.eval()
    assert torch.allclose(load_realness_model(tmp_path / "m.pt").net(crops), model.net(crops), atol=1e-5)
    with pytest.raises(InvalidArgumentError, match="cues \\['rgb'\\]"):
        create_model(name, RealnessSettings(("fourier",), 128, 4))


def test_patch_voting_pools_features_so_a_hidden_layer_head_reads_the_mean_embedding(tmp_path: Path) -> None:
    """A linear head's image logit is the mean of its crop logits (as before pooling moved ahead of the
    head); a head with a hidden layer reads the mean embedding, which the mean of its crop logits is not."""
    from synthdiff.realness._score import pooled_logits

    crops = np.random.default_rng(0).random((5, 3, 64, 64), dtype=np.float32)
    linear = create_model("realness-effnet", RealnessSettings(("rgb",), 64, 8))
    torch.nn.init.normal_(linear.net.head.weight, std=0.05)
    per_crop, pooled = pooled_logits(linear, crops, batch_size=2)
    assert per_crop.shape == (5,) and pooled == pytest.approx(float(per_crop.mean()), abs=1e-4)

    mlp = create_model("realness-effnet-mlp", RealnessSettings(("rgb",), 64, 8))
    assert {k for k in mlp.net.state_dict() if k.startswith("head.")} == {
        "head.0.weight",
        "head.0.bias",
        "head.2.weight",
        "head.2.bias",
    }
    assert sum(p.numel() for p in mlp.net.parameters()) == 1280 * 32 + 32 + 32 + 1
    per_crop, pooled = pooled_logits(mlp, crops, batch_size=2)
    with torch.no_grad():
        mean_embedding = mlp.net.embed(torch.from_numpy(crops)).mean(0, keepdim=True)
        expected = float(mlp.net.classify(mean_embedding)[0])
    assert pooled == pytest.approx(expected, abs=1e-5) and abs(pooled - per_crop.mean()) > 1e-4
    save_realness_model(tmp_path / "mlp.pt", mlp)
    assert pooled_logits(load_realness_model(tmp_path / "mlp.pt"), crops)[1] == pytest.approx(
        pooled, abs=1e-5
    )


def test_the_levels_embedding_is_the_pooled_levels_followed_by_the_head_embedding() -> None:
    from synthdiff.backbones import efficientnet_lite0

    backbone = efficientnet_lite0(pretrained=True).eval()
    crops = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        head = backbone.embedding(crops)
        both = backbone.embedding(crops, levels=True)
        maps = backbone.features(crops)
    widths = [level.channels for level in backbone.LEVELS]
    assert head.shape == (2, 1280) and both.shape == (2, sum(widths) + 1280)
    assert torch.allclose(both[:, sum(widths) :], head, atol=1e-6)
    starts = np.cumsum([0, *widths])
    for index, feature_map in enumerate(maps):
        assert torch.allclose(both[:, starts[index] : starts[index + 1]], feature_map.mean(dim=(-2, -1)))


def test_summary_intervals_bracket_their_estimates_and_widen_with_fewer_images() -> None:
    from synthdiff.realness._evaluate import ImageResult, summarise_results

    rng = np.random.default_rng(0)

    def results(count: int) -> list[ImageResult]:
        # Honest probabilities: each label drawn with the probability given, so ECE is near 0.
        probabilities = rng.uniform(0.05, 0.95, count)
        labels = (rng.uniform(size=count) < probabilities).astype(int)
        return [
            ImageResult(f"{i}.png", "s", int(y), float(p), float(p))
            for i, (y, p) in enumerate(zip(labels, probabilities, strict=True))
        ]

    large, small = summarise_results(results(2000)), summarise_results(results(50))
    for summary in (large, small):
        low, high = summary["ece_interval"]
        assert low <= summary["ece"] <= high
    assert large["ece"] < 0.05
    assert np.diff(large["ece_interval"])[0] < np.diff(small["ece_interval"])[0]
    # Under 30 images the bootstrap of a 15-bin ECE says nothing; none is given.
    assert summarise_results(results(29))["ece_interval"] is None
    assert summarise_results(results(30))["ece_interval"] is not None


def test_summary_log_loss_is_the_mean_negative_log_likelihood_pooled_and_per_source() -> None:
    from synthdiff.realness._evaluate import ImageResult, summarise_results

    results = [
        ImageResult("a.png", "renders", 1, 0.8, 0.8),
        ImageResult("b.png", "photos", 0, 0.2, 0.2),
        ImageResult("c.png", "photos", 0, 0.9, 0.9),
        ImageResult("d.png", "renders", 1, 1.0, 1.0),  # clipped, not infinite
    ]
    summary = summarise_results(results)
    expected = -(np.log(0.8) + np.log(0.8) + np.log(0.1) + np.log(1 - 1e-7)) / 4
    assert summary["log_loss"] == pytest.approx(expected)
    assert summary["per_source"]["photos"]["log_loss"] == pytest.approx(-(np.log(0.8) + np.log(0.1)) / 2)
    assert summary["per_source"]["renders"]["log_loss"] == pytest.approx(-np.log(0.8) / 2, abs=1e-6)


@pytest.mark.parametrize(("height", "width"), [(150, 301), (40, 100), (64, 64), (1, 512), (600, 2)])
def test_the_heatmap_carries_its_colour_scale_and_probability_below_the_image(
    height: int, width: int
) -> None:
    from synthdiff.realness._report import heatmap_overlay

    torch.manual_seed(0)
    model = create_model("realness-tiny", RealnessSettings(max_patches=4))
    image = np.random.default_rng(2).random((height, width, 3), dtype=np.float32)
    score = score_image(model, image, check_stability=False, all_crops=True)
    bare = heatmap_overlay(image, score, legend=False)
    assert bare.shape == (height, width, 3) and bare.dtype == np.uint8
    with_legend = heatmap_overlay(image, score)
    # An image narrower than 160 pixels is enlarged by a whole factor first (it had no band at all),
    # unless that makes it taller than 4096 pixels (a sliver 2 pixels wide keeps its size, and no band).
    factor = -(-320 // width) if width < 160 else 1
    if height * factor > 4096:
        np.testing.assert_array_equal(with_legend, bare)
        return
    enlarged = np.repeat(np.repeat(bare, factor, axis=0), factor, axis=1)
    np.testing.assert_array_equal(with_legend[: height * factor], enlarged)
    assert with_legend.shape[1] == width * factor >= 160
    height, width = height * factor, width * factor
    band = with_legend[height:].astype(int)
    assert 24 <= band.shape[0] <= 48
    # The scale runs from blue (real) on the left to red (render) on the right, on its first rows.
    left, right = band[band.shape[0] // 4, 4], band[band.shape[0] // 4, width // 3]
    assert left[2] > left[0] and right[0] > left[0]
    assert (band < 100).all(axis=-1).any()  # its words
