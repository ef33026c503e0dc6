"""The realness-effnet image-level head (``head: images``): the logistic fit, the penalty and the
calibration chosen by leave-one-source-out, the embedding cache, and a run end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from synthdiff.errors import InvalidArgumentError
from synthdiff.realness import load_realness_config, load_realness_model, train_realness
from synthdiff.realness._calibration import fit_calibration
from synthdiff.realness._data import LabelledImage
from synthdiff.realness._evaluate import image_logits
from synthdiff.realness._features import TRACE_NAMES, trace_statistics
from synthdiff.realness._image_head import VARIANTS, EmbeddingCache, fit_image_head, image_embeddings
from synthdiff.realness._patches import extract_patches, patch_grid
from synthdiff.realness._registry import RealnessSettings, create_model
from synthdiff.realness._tune import tune_tail

from .test_train import fake_sources


def _images(sources: dict[str, tuple[int, int]]) -> list[LabelledImage]:
    return [
        LabelledImage(Path(f"/{name}/{i}.png"), label, name, f"{i}.png")
        for name, (label, count) in sources.items()
        for i in range(count)
    ]


def test_the_head_separates_sources_it_never_saw_and_is_calibrated_out_of_source() -> None:
    """Each source has its own offset (its 'content', unrelated to the class); the class lives in a
    few shared directions. New sources, with new offsets, must still be separated."""
    rng = np.random.default_rng(0)
    counts = (20, 12, 6, 30, 8)
    sources = {f"real{i}": (0, n) for i, n in enumerate(counts)} | {
        f"render{i}": (1, n) for i, n in enumerate(counts[::-1])
    }
    images = _images(sources)
    dim, variants = 24, 2
    direction = np.r_[np.ones(3), np.zeros(dim - 3)]

    def embed(labels: np.ndarray, offset: np.ndarray) -> np.ndarray:
        signal = (2 * labels[:, None, None] - 1) * 2.0 * direction
        return offset * (1 - direction) + signal + rng.normal(0, 0.5, (len(labels), variants, dim))

    offsets = {name: rng.normal(0, 1.0, dim) for name in sources}
    embeddings = np.concatenate(
        [embed(np.full(count, label), offsets[name]) for name, (label, count) in sources.items()]
    )
    fit = fit_image_head(embeddings, images, penalties=(1e-3, 1e-1, 10.0))
    assert set(fit.cv_loss) == {1e-3, 1e-1, 10.0} and fit.penalty == min(fit.cv_loss, key=fit.cv_loss.get)
    assert fit.calibration.scale > 0
    accuracies = []
    for _ in range(10):  # ten new sources, each with both classes
        labels = np.repeat([0, 1], 20)
        new = embed(labels, rng.normal(0, 1.0, dim)).mean(axis=1)
        weight, bias = fit.state["weight"][0], fit.state["bias"][0]
        logits = ((new - fit.mean) / np.sqrt(fit.variance + 1e-5)) @ weight + bias
        assert np.allclose(fit.logits(new), logits)  # as BatchNorm1d in eval mode, then the linear layer
        accuracies.append(((logits > 0) == labels).mean())
    assert np.mean(accuracies) > 0.9


def test_a_hidden_layer_learns_what_a_linear_head_cannot() -> None:
    """The class is whether two features share a sign (XOR): no linear head does better than chance
    out of source, one hidden layer does; the penalty is still chosen out of source."""
    rng = np.random.default_rng(1)
    sources = {f"real{i}": (0, 40) for i in range(3)} | {f"render{i}": (1, 40) for i in range(3)}
    images = _images(sources)

    def embed(labels: np.ndarray) -> np.ndarray:
        a = rng.choice([-1.0, 1.0], len(labels))
        b = np.where(labels == 1, a, -a)
        x = np.c_[a, b, rng.normal(0, 1, (len(labels), 4))] + rng.normal(0, 0.2, (len(labels), 6))
        return x[:, None, :]

    labels = np.array([i.label for i in images])
    embeddings = embed(labels)
    linear = fit_image_head(embeddings, images, penalties=(1e-3, 1.0))
    hidden = fit_image_head(embeddings, images, hidden=8, penalties=(1e-3, 1e-1))
    assert set(hidden.state) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    assert hidden.state["0.weight"].shape == (8, 6)
    assert min(hidden.cv_loss.values()) < 0.3 < 0.6 < min(linear.cv_loss.values())
    new_labels = np.repeat([0, 1], 100)
    new = embed(new_labels)[:, 0]
    assert ((hidden.logits(new) > 0) == new_labels).mean() > 0.9
    assert abs(((linear.logits(new) > 0) == new_labels).mean() - 0.5) < 0.15


def test_the_head_needs_two_sources_and_both_classes() -> None:
    images = _images({"only": (0, 4), "other": (0, 4)})
    with pytest.raises(ValueError, match="both classes"):
        fit_image_head(np.zeros((8, 1, 3)), images)


def test_weighted_calibration_equals_repeating_the_examples() -> None:
    logits = np.array([-2.0, -0.5, 0.3, 1.0, 2.5, -1.0])
    labels = np.array([0, 0, 1, 1, 1, 1])
    weights = np.array([1, 2, 1, 3, 1, 1])
    weighted = fit_calibration(logits, labels, weights)
    repeated = fit_calibration(np.repeat(logits, weights), np.repeat(labels, weights))
    assert weighted.scale == pytest.approx(repeated.scale, rel=1e-3)
    assert weighted.bias == pytest.approx(repeated.bias, abs=1e-3)
    with pytest.raises(ValueError, match="non-negative"):
        fit_calibration(logits, labels, -weights)


class _MeanColour(torch.nn.Module):
    """A stand-in network whose embedding is the crop's mean colour and its local variation."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.backbone = torch.nn.Linear(1, 1)
        self.embedding_width = self.width = 6
        self.traces = False
        self.backbone_variant = "lite0"

    def embed(self, crops: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        detail = (crops[..., 1:, :] - crops[..., :-1, :]).abs().mean(dim=(-2, -1))
        return torch.cat([crops.mean(dim=(-2, -1)), detail], dim=1)

    features = embed


def test_embeddings_follow_the_scoring_grid_and_are_cached(tmp_path: Path) -> None:
    real, _ = fake_sources(tmp_path / "data", count=2)
    image = LabelledImage(real / "00.png", 0, "photos", "00.png")
    backbone = _MeanColour()
    cache = EmbeddingCache(tmp_path / "cache", crop=32, max_patches=4)
    rows = cache.get(backbone, image)
    assert rows.shape == (len(VARIANTS), 6) and backbone.calls == len(VARIANTS)
    grey = VARIANTS.index("grey")
    assert np.allclose(rows[grey, 0], rows[grey, 1]) and np.allclose(rows[grey, 1], rows[grey, 2])
    again = cache.get(backbone, image)
    assert backbone.calls == len(VARIANTS) and np.array_equal(rows, again)  # read back, not recomputed
    from synthdiff.realness._data import _load_8bit

    direct = image_embeddings(backbone, _load_8bit(image.path), 32, 4, ["decoded"])
    assert np.allclose(direct[0], rows[0])
    other = tmp_path / "data" / "other.png"
    other.write_bytes(image.path.read_bytes())
    image.path.write_bytes((real / "01.png").read_bytes())  # the file changes under the same name
    calls = backbone.calls
    changed = cache.get(backbone, image)
    assert backbone.calls == calls + len(VARIANTS) and not np.array_equal(rows, changed)
    assert np.array_equal(cache.get(backbone, LabelledImage(other, 0, "photos", "x")), rows)  # same contents
    assert backbone.calls == calls + len(VARIANTS)
    with pytest.raises(ValueError, match="variant"):
        image_embeddings(backbone, _load_8bit(image.path), 32, 4, ["sepia"])
    # A model that also reads the trace statistics reuses the cached embedding and stores them apart.
    backbone.traces = True
    with_traces = cache.get(backbone, image)
    assert backbone.calls == calls + len(VARIANTS) and with_traces.shape == (
        len(VARIANTS),
        6 + len(TRACE_NAMES),
    )
    assert np.array_equal(with_traces[:, :6], changed)
    pixels = torch.from_numpy(_load_8bit(image.path).astype(np.float32) / 255)
    crops = torch.from_numpy(extract_patches(pixels.numpy(), patch_grid(*pixels.shape[:2], 32, 4)))
    assert np.allclose(with_traces[0, 6:], trace_statistics(crops).mean(0).numpy(), atol=1e-5)
    assert np.array_equal(cache.get(backbone, image), with_traces)  # both blocks read back
    # Damaged entries (cut short, or empty, which np.load reports as EOFError) are computed again.
    entries = sorted((tmp_path / "cache").rglob("*.npy"))
    entries[0].write_bytes(entries[0].read_bytes()[:50])
    entries[-1].write_bytes(b"")
    assert np.array_equal(cache.get(backbone, image), with_traces)
    assert np.array_equal(cache.get(backbone, LabelledImage(other, 0, "photos", "x"))[:, :6], rows)


def test_embeddings_of_another_backbone_are_cached_apart(tmp_path: Path) -> None:
    # Lite0 and Lite2 embeddings are both 1,280 wide: only the tag keeps one from being read as the other.
    real, _ = fake_sources(tmp_path / "data", count=1)
    image = LabelledImage(real / "00.png", 0, "photos", "00.png")
    cache = EmbeddingCache(tmp_path / "cache", crop=32, max_patches=4)
    lite0, lite2 = _MeanColour(), _MeanColour()
    lite2.backbone_variant = "lite2"
    cache.get(lite0, image)
    cache.get(lite2, image)
    assert lite2.calls == len(VARIANTS)  # computed, not read from Lite0's entry
    assert len(list((tmp_path / "cache").glob("*-lite2.npy"))) == 1
    cache.get(lite2, image)
    assert lite0.calls == lite2.calls == len(VARIANTS)


def test_the_lite2_model_reads_1280_features_and_saves_only_its_head() -> None:
    net = create_model("realness-effnet-lite2", RealnessSettings(("rgb",), crop=32)).net
    assert net.backbone.variant == "lite2" and net.width == 1280
    with torch.no_grad():
        assert net.embed(torch.rand(2, 3, 40, 40)).shape == (2, 1280)
    assert set(net.state_dict()) == {
        "standardise.running_mean",
        "standardise.running_var",
        "standardise.num_batches_tracked",
        "head.weight",
        "head.bias",
    }


@pytest.mark.slow
def test_an_image_head_run_writes_a_calibrated_effnet_checkpoint(tmp_path: Path) -> None:
    """End to end with the real frozen backbone on tiny fake sources (three per class)."""
    data = tmp_path / "data"
    sources = [fake_sources(data / f"set{i}", count=4, seed=i) for i in range(3)]
    overrides = {
        "real": [f"photos{i}={real}" for i, (real, _) in enumerate(sources)],
        "synthetic": [f"renders{i}={synthetic}" for i, (_, synthetic) in enumerate(sources)],
        "model": "realness-effnet",
        "cues": ["rgb"],
        "head": "images",
        "crop": 64,
        "max_patches": 2,
        "device": "cpu",
    }
    config = load_realness_config(None, overrides)
    result = train_realness(config, tmp_path / "run")
    cv = json.loads((tmp_path / "run" / "cv.json").read_text())
    assert (
        cv["images"] == 24
        and len(cv["sources"]) == 6
        and cv["chosen_penalty"] in [h["penalty"] for h in cv["cv"]]
    )
    model = load_realness_model(tmp_path / "run" / "best.pt")
    assert model.calibration == result.calibration
    from synthdiff.realness._data import _load_8bit

    real_logit = image_logits(model, _load_8bit(sources[0][0] / "00.png"))
    render_logit = image_logits(model, _load_8bit(sources[0][1] / "00.png"))
    assert render_logit > real_logit
    # one cached file per image (its five variants), so a resumed run recomputes nothing
    assert len(list((tmp_path / "run" / "embeddings").glob("*.npy"))) == 24


def test_image_head_needs_the_effnet_model(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="realness-effnet"):
        load_realness_config(None, {"real": ["a"], "synthetic": ["b"], "head": "images"})
    with pytest.raises(InvalidArgumentError, match="crops or images"):
        load_realness_config(None, {"real": ["a"], "synthetic": ["b"], "head": "pixels"})
    mlp = {"real": ["a"], "synthetic": ["b"], "model": "realness-effnet-mlp"}
    assert load_realness_config(None, mlp).head == "images"
    with pytest.raises(InvalidArgumentError, match="head images for realness-effnet-mlp"):
        load_realness_config(None, {**mlp, "head": "crops"})


def test_the_effnet_model_brings_its_own_recipe_unless_told_otherwise(tmp_path: Path) -> None:
    base = {"real": ["a"], "synthetic": ["b"], "model": "realness-effnet"}
    config = load_realness_config(None, base)
    assert (config.cues, config.crop, config.max_patches, config.head) == (["rgb"], 128, 16, "images")
    assert load_realness_config(None, {**base, "crop": 64, "head": "crops"}).crop == 64
    settings = tmp_path / "config.yaml"
    settings.write_text("model: realness-effnet\nmax_patches: 8\n")
    from_file = load_realness_config(settings, {"real": ["a"], "synthetic": ["b"]})
    assert (from_file.max_patches, from_file.crop, from_file.head) == (8, 128, "images")
    assert load_realness_config(None, {"real": ["a"], "synthetic": ["b"]}).crop == 64  # realness-cnn's


def test_the_tuned_model_starts_from_the_frozen_features_and_saves_only_its_tail() -> None:
    tuned = create_model("realness-effnet-tuned", RealnessSettings(("rgb",), 64, 4)).net
    frozen = create_model("realness-effnet", RealnessSettings(("rgb",), 64, 4)).net
    crops = torch.rand((2, 3, 64, 64), generator=torch.Generator().manual_seed(0))
    tuned.eval(), frozen.eval()
    # Equal up to float rounding: the frozen model's backbone has its batch norms folded, the tail not.
    torch.testing.assert_close(tuned.embed(crops), frozen.embed(crops), atol=1e-4, rtol=1e-4)
    keys = tuned.state_dict().keys()
    assert any(k.startswith("tail.blocks.") for k in keys) and not any(k.startswith("backbone") for k in keys)
    trainable = {name.split(".")[0] for name, p in tuned.named_parameters() if p.requires_grad}
    assert trainable == {"tail", "head"}
    assert tuned.trunk(crops).shape == (2, 112, 4, 4)
    with pytest.raises(ValueError, match="tune_from"):
        tune_tail(frozen, [], [], epochs=1, learning_rate=1e-3, weight_decay=0.0, batch_images=2, seed=0,
                  device=torch.device("cpu"))  # fmt: skip


def test_keeping_part_of_the_tuning_step_interpolates_the_tail_towards_imagenet() -> None:
    """keep=0.5 ends exactly half-way between the starting weights and where keep=1 ends (WiSE-FT)."""
    images = _images({"photos": (0, 4), "renders": (1, 4)})
    rng = np.random.default_rng(0)
    trunks = [rng.normal(size=(len(VARIANTS), 2, 112, 4, 4)).astype(np.float16) for _ in images]
    settings = RealnessSettings(("rgb",), 64, 2)
    start, full, half = (create_model("realness-effnet-tuned", settings).net for _ in range(3))
    common = dict(
        epochs=2, learning_rate=1e-3, weight_decay=0.0, batch_images=4, seed=0, device=torch.device("cpu")
    )
    tune_tail(full, trunks, images, **common)  # type: ignore[arg-type]
    tune_tail(half, trunks, images, keep=0.5, **common)  # type: ignore[arg-type]
    moved = 0
    for (name, before), after, middle in zip(
        start.tail.named_parameters(), full.tail.parameters(), half.tail.parameters(), strict=True
    ):
        torch.testing.assert_close(middle, (before + after) / 2, msg=name)
        moved += int(not torch.equal(before, after))
    assert moved > 0  # the full step did change the weights, so the check above has teeth
    with pytest.raises(ValueError, match="keep in"):
        tune_tail(half, trunks, images, keep=0.0, **common)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="tune_keep"):
        load_realness_config(None, {"real": ["a"], "synthetic": ["b"], "tune_keep": 1.5})


@pytest.mark.slow
def test_fine_tuning_lowers_the_loss_and_the_run_writes_a_calibrated_checkpoint(tmp_path: Path) -> None:
    """End to end: the last blocks are tuned on tiny fake sources, then the head is fitted on them."""
    data = tmp_path / "data"
    sources = [fake_sources(data / f"set{i}", count=4, seed=i) for i in range(3)]
    overrides = {
        "real": [f"photos{i}={real}" for i, (real, _) in enumerate(sources)],
        "synthetic": [f"renders{i}={synthetic}" for i, (_, synthetic) in enumerate(sources)],
        "model": "realness-effnet-tuned",
        "crop": 64,
        "max_patches": 2,
        "epochs": 4,
        "batch_size": 6,
        "learning_rate": 1e-3,
        "device": "cpu",
        "precision": "bfloat16",
    }
    config = load_realness_config(None, overrides)
    assert config.head == "images"
    train_realness(config, tmp_path / "run")
    history = [json.loads(line) for line in (tmp_path / "run" / "history.jsonl").read_text().splitlines()]
    assert len(history) == 4 and history[-1]["train_loss"] < history[0]["train_loss"]
    model = load_realness_model(tmp_path / "run" / "best.pt")
    untuned = create_model("realness-effnet-tuned", model.settings).net.state_dict()
    tail = {k: v for k, v in model.net.state_dict().items() if k.startswith("tail.")}
    assert any(not torch.equal(value, untuned[key]) for key, value in tail.items())  # the tail was trained
    from synthdiff.realness._data import _load_8bit

    real_logit = image_logits(model, _load_8bit(sources[0][0] / "00.png"))
    render_logit = image_logits(model, _load_8bit(sources[0][1] / "00.png"))
    assert render_logit > real_logit
    assert len(list((tmp_path / "run" / "embeddings").glob("*-trunk11.npy"))) == 24
    with pytest.raises(InvalidArgumentError, match="precision"):
        load_realness_config(None, {**overrides, "precision": "half"})
