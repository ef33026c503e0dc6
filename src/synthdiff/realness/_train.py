"""Training the realness classifier (``synthdiff train realness``); resumable, calibrated on val."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, WeightedRandomSampler

from synthdiff._checkpoint import RunState, load_run_state, save_run_state
from synthdiff._config import load_settings, save_or_check_settings
from synthdiff._device import resolve_device
from synthdiff._journal import folder_lock
from synthdiff.errors import InvalidArgumentError
from synthdiff.realness._calibration import Calibration, fit_calibration
from synthdiff.realness._data import (
    LabelledImage,
    RealnessCrops,
    each_decodable,
    list_source,
    refuse_repeated_images,
    refuse_unreadable_images,
    source_balanced_weights,
    split_images,
)
from synthdiff.realness._evaluate import image_logits
from synthdiff.realness._features import CUES
from synthdiff.realness._model import RealnessEffNet
from synthdiff.realness._registry import MODELS, RealnessSettings, create_model, save_realness_model

__all__ = ["RealnessTrainConfig", "RealnessTrainResult", "load_realness_config", "train_realness"]


#: Models whose network is a fixed feature extractor with a small head, so ``head: images`` applies.
IMAGE_HEAD_MODELS = (
    "realness-effnet",
    "realness-effnet-levels",
    "realness-effnet-mlp",
    "realness-effnet-traces",
    "realness-effnet-tuned",
    "realness-effnet-lite1",
    "realness-effnet-lite2",
)
#: Settings that follow the model when neither the config file nor a flag sets them: the recipe of
#: the shipped realness-effnet weights (docs/models.md), shared by every fixed-feature model; the
#: fine-tuned one adds how its last blocks are tuned (epochs, images per batch, learning rate).
MODEL_DEFAULTS: dict[str, dict[str, Any]] = {
    name: {"cues": ["rgb"], "crop": 128, "max_patches": 16, "head": "images"} for name in IMAGE_HEAD_MODELS
}
MODEL_DEFAULTS["realness-effnet-tuned"].update(
    {"epochs": 6, "batch_size": 16, "learning_rate": 1e-4, "weight_decay": 1e-2}
)


def _has_hidden_layer(model: str) -> bool:
    """Whether a registered fixed-feature model's head is non-linear (asked of the model itself)."""
    return bool(getattr(create_model(model, RealnessSettings(("rgb",))).net, "hidden", 0))


@dataclass
class RealnessTrainConfig:
    """Everything that decides a realness training run (saved as config.yaml in the run folder).

    ``real`` and ``synthetic`` list source folders; a source is named after its folder, or
    ``NAME=PATH`` names it. Sources to test on are simply not listed here (hold them out).

    ``head`` is how the model is fitted: ``crops`` trains the network by SGD on random crops (epochs
    chosen on a val split, calibrated on it); ``images`` (the ``realness-effnet`` models only) fits
    their head on whole-image embeddings, with the penalty and the calibration chosen by
    leave-one-source-out inside the training sources (epochs, batch and learning-rate settings do
    not apply; see ``synthdiff.realness._image_head``), except for ``realness-effnet-tuned``, whose
    last backbone blocks are first fine-tuned on whole images for ``epochs`` epochs of
    ``batch_size`` images (``synthdiff.realness._tune``). ``embedding_cache`` is where ``images``
    keeps its embeddings (default: the run folder's ``embeddings/``). ``precision: bfloat16`` runs
    the fine-tuning under bfloat16 autocast; ``tune_keep`` below 1 keeps only that fraction of the
    fine-tuning step (weights interpolated towards ImageNet's, WiSE-FT).
    """

    real: list[str] = field(default_factory=list)
    synthetic: list[str] = field(default_factory=list)
    model: str = "realness-cnn"
    cues: list[str] = field(default_factory=lambda: ["fourier"])
    crop: int = 64
    max_patches: int = 96
    epochs: int = 20
    samples_per_epoch: int = 8192  # crops per epoch, drawn class- and source-balanced
    batch_size: int = 128
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    val_fraction: float = 0.25
    jpeg_probability: float = 0.6
    grey_probability: float = 0.15
    seed: int = 0
    device: str = "auto"
    loader_workers: int = 2
    head: str = "crops"
    embedding_cache: str = ""
    precision: str = "float32"
    tune_keep: float = 1.0

    def validate(self) -> None:
        if not self.real or not self.synthetic:
            raise InvalidArgumentError("Expected at least one --real and one --synthetic folder.")
        if self.model not in MODELS:
            raise InvalidArgumentError(
                f"Expected a realness model name from {', '.join(MODELS)}, got {self.model!r}."
            )
        if not self.cues or any(c not in CUES for c in self.cues):
            raise InvalidArgumentError(f"Expected cues from {', '.join(CUES)}, got {self.cues!r}.")
        if self.epochs < 1 or self.batch_size < 1 or self.samples_per_epoch < self.batch_size:
            raise InvalidArgumentError("Expected epochs >= 1 and samples_per_epoch >= batch_size >= 1.")
        if self.head not in ("crops", "images"):
            raise InvalidArgumentError(f"Expected head crops or images, got {self.head!r}.")
        if self.head == "images" and self.model not in IMAGE_HEAD_MODELS:
            raise InvalidArgumentError(
                f"Expected model {', '.join(IMAGE_HEAD_MODELS)} with head images (a small head on "
                f"fixed features), got {self.model!r}."
            )
        if self.head == "crops" and self.model in IMAGE_HEAD_MODELS and _has_hidden_layer(self.model):
            raise InvalidArgumentError(
                f"Expected head images for {self.model}, got crops: a non-linear head scores the "
                "mean embedding of an image's crops, so it must be fitted on those, not on single crops."
            )
        if self.precision not in ("float32", "bfloat16"):
            raise InvalidArgumentError(f"Expected precision float32 or bfloat16, got {self.precision!r}.")
        if not 0.0 < self.tune_keep <= 1.0:
            raise InvalidArgumentError(f"Expected tune_keep in (0, 1], got {self.tune_keep}.")
        if not 0.0 < self.val_fraction < 1.0:
            raise InvalidArgumentError(f"Expected val_fraction in (0, 1), got {self.val_fraction}.")
        for name, floor in (("max_patches", 1), ("seed", 0), ("loader_workers", 0)):
            if getattr(self, name) < floor:
                raise InvalidArgumentError(f"Expected {name} >= {floor}, got {getattr(self, name)!r}.")
        if not self.learning_rate > 0 or not self.weight_decay >= 0:
            raise InvalidArgumentError(
                f"Expected learning_rate > 0 and weight_decay >= 0, got {self.learning_rate!r} and "
                f"{self.weight_decay!r}."
            )
        for name in ("jpeg_probability", "grey_probability"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise InvalidArgumentError(f"Expected {name} in [0, 1], got {getattr(self, name)!r}.")


def load_realness_config(
    path: str | os.PathLike[str] | None, overrides: dict[str, Any]
) -> RealnessTrainConfig:
    """Defaults, the chosen model's own defaults (``MODEL_DEFAULTS``), then the YAML file (if any),
    then the flags that were given."""
    config = load_settings(
        RealnessTrainConfig,
        path,
        overrides,
        lambda given: MODEL_DEFAULTS.get(str(given.get("model", RealnessTrainConfig.model)), {}),
    )
    config.real, config.synthetic = [str(p) for p in config.real], [str(p) for p in config.synthetic]
    config.cues = list(config.cues)
    config.validate()
    return config


@dataclass
class RealnessTrainResult:
    """The best epoch (lowest validation crop loss), the history and the fitted calibration.

    With ``head: images``: ``best_loss`` is the out-of-source log loss of the chosen ``penalty``, and
    the history has one entry per penalty tried.
    """

    out: Path
    best_epoch: int
    best_loss: float
    history: list[dict[str, Any]]
    calibration: Calibration
    seconds: float
    penalty: float | None = None


def _sources(config: RealnessTrainConfig) -> list[LabelledImage]:
    images = []
    for label, folders in (("real", config.real), ("synthetic", config.synthetic)):
        for spec in folders:
            name, _, path = spec.rpartition("=") if "=" in spec else ("", "", spec)
            images += list_source(path, label, name or None)
    refuse_repeated_images(images)
    refuse_unreadable_images(images)
    return images


def _pixels_of(*parts: RealnessCrops) -> Callable[[int], np.ndarray]:
    """Decodes the i-th image of the parts taken one after another, keeping it in its part."""

    def decode(index: int) -> np.ndarray:
        for part in parts:
            if index < len(part.images):
                return part.pixels(index)
            index -= len(part.images)
        raise IndexError(index)

    return decode


def train_realness(
    config: RealnessTrainConfig,
    out: str | os.PathLike[str],
    *,
    on_step: Callable[[int, int, int, float], None] | None = None,
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
) -> RealnessTrainResult:
    """Train, select the epoch on validation crops, then fit the calibration on validation images.

    Writes into ``out``: config.yaml, history.jsonl, best.pt (the selected, calibrated model, loadable
    with :func:`load_realness_model`), last.pt (for resuming) and split.json (the train/val images).

    Raises:
        InvalidArgumentError: bad config, missing folders, or a class without validation images.
        OutputError: ``out`` holds a run with another config, or another run is writing into it.
    """
    with folder_lock(out, "train realness") as folder:
        return _train_realness(config, folder, on_step, on_epoch)


def _train_realness(
    config: RealnessTrainConfig,
    out: Path,
    on_step: Callable[[int, int, int, float], None] | None,
    on_epoch: Callable[[dict[str, Any]], None] | None,
) -> RealnessTrainResult:
    resolved = save_or_check_settings(config, out)
    torch.manual_seed(config.seed)
    device = resolve_device(config.device)
    if config.head == "images":
        return _train_image_head(config, resolved, out, device, on_epoch)
    train_images, val_images = split_images(_sources(config), config.val_fraction, config.seed)
    if {i.label for i in val_images} != {0, 1} or {i.label for i in train_images} != {0, 1}:
        counts = ", ".join(
            f"{split} {sum(i.label == 0 for i in part)} real and {sum(i.label == 1 for i in part)} synthetic"
            for split, part in (("train", train_images), ("val", val_images))
        )
        raise InvalidArgumentError(
            f"Expected real and synthetic images in both the train and the val split, got {counts} "
            f"(val_fraction {config.val_fraction}). Fix: add images, or set val_fraction in the --config "
            "YAML so that each class has images on both sides."
        )
    (out / "split.json").write_text(
        json.dumps(
            {
                name: [str(i.path) for i in part]
                for name, part in (("train", train_images), ("val", val_images))
            },
            indent=1,
        )
    )
    crops_per_image = max(1, -(-config.samples_per_epoch // len(train_images)))

    def make_crops(images: list[LabelledImage], per_image: int, seed: int) -> RealnessCrops:
        return RealnessCrops(
            images,
            config.crop,
            per_image,
            jpeg_probability=config.jpeg_probability,
            grey_probability=config.grey_probability,
            seed=seed,
        )

    train_data = make_crops(train_images, crops_per_image, config.seed)
    # Fixed validation crops (the same every epoch), augmented like training so that the selection
    # also rewards robustness to re-encoding.
    val_data = make_crops(val_images, 16, config.seed + 1)
    # Decoded here, once: the loader's workers, started each epoch, inherit these images rather than
    # decoding them again, and every image that does not decode is named before any training.
    each_decodable([*train_images, *val_images], _pixels_of(train_data, val_data))
    settings = RealnessSettings(tuple(config.cues), config.crop, config.max_patches)
    model = create_model(config.model, settings)
    model.config = resolved
    net = model.net.to(device)
    optimiser = torch.optim.AdamW(net.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=config.epochs)
    last_path = out / "last.pt"
    run = load_run_state(last_path, net, optimiser, scheduler, device, RunState(best_score=float("inf")))
    start_epoch, best_epoch, best_loss, history = run.start_epoch, run.best_epoch, run.best_score, run.history
    weights = np.repeat(source_balanced_weights(train_images), crops_per_image).tolist()
    started = time.perf_counter()
    for epoch in range(start_epoch, config.epochs):
        epoch_started = time.perf_counter()
        net.train()
        train_data.set_epoch(epoch)
        sampler = WeightedRandomSampler(
            weights,
            config.samples_per_epoch,
            replacement=True,
            generator=torch.Generator().manual_seed(config.seed * 1000 + epoch),
        )
        loader = DataLoader(
            train_data,
            batch_size=config.batch_size,
            sampler=sampler,
            num_workers=config.loader_workers,
            drop_last=True,
        )
        running = None
        for step, (crops, labels) in enumerate(loader, start=1):
            logits = net(crops.to(device))
            loss = F.binary_cross_entropy_with_logits(logits, labels.to(device))
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            value = float(loss.detach())
            running = value if running is None else 0.9 * running + 0.1 * value
            if on_step is not None:
                on_step(epoch, step, len(loader), running)
        scheduler.step()
        val_loss, val_accuracy = _crop_scores(net, val_data, config.batch_size, device)
        entry = {
            "epoch": epoch,
            "train_loss": round(running or 0.0, 5),
            "val_loss": round(val_loss, 5),
            "val_crop_accuracy": round(val_accuracy, 5),
            "seconds": round(time.perf_counter() - epoch_started, 1),
        }
        history.append(entry)
        if val_loss < best_loss:
            best_epoch, best_loss = epoch, val_loss
            save_realness_model(out / "best.pt", model)
        with open(out / "history.jsonl", "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")
        save_run_state(last_path, net, optimiser, scheduler, epoch, best_epoch, best_loss, history)
        if on_epoch is not None:
            on_epoch({**entry, "best": best_epoch == epoch})
    calibration = _calibrate(out / "best.pt", val_images, device)
    return RealnessTrainResult(
        out, best_epoch, best_loss, history, calibration, time.perf_counter() - started
    )


@torch.no_grad()
def _crop_scores(
    net: torch.nn.Module, data: RealnessCrops, batch_size: int, device: torch.device
) -> tuple[float, float]:
    """Class-balanced log loss and accuracy of the fixed validation crops."""
    net.eval()
    losses, correct, labels_all = [], [], []
    for crops, labels in DataLoader(data, batch_size=batch_size):
        logits = net(crops.to(device)).cpu()
        losses.append(F.binary_cross_entropy_with_logits(logits, labels, reduction="none"))
        correct.append((logits > 0).float() == labels)
        labels_all.append(labels)
    loss, right, label = torch.cat(losses), torch.cat(correct).float(), torch.cat(labels_all).bool()
    balanced = 0.5 * (loss[label].mean() + loss[~label].mean())
    accuracy = 0.5 * (right[label].mean() + right[~label].mean())
    return float(balanced), float(accuracy)


def _calibrate(path: Path, val_images: list[LabelledImage], device: torch.device) -> Calibration:
    """Fit Platt scaling on the validation images, each as decoded and re-encoded as JPEG quality 75
    (so that the probabilities stay calibrated on re-compressed images); stored in best.pt."""
    from synthdiff.realness._data import _load_8bit
    from synthdiff.realness._registry import load_realness_model

    model = load_realness_model(path, device=str(device))
    logits, labels = [], []
    for image in val_images:
        pixels = _load_8bit(image.path)
        for quality in (None, 75):
            logits.append(image_logits(model, pixels, jpeg_quality=quality))
            labels.append(image.label)
    model.calibration = fit_calibration(np.array(logits), np.array(labels))
    save_realness_model(path, model)
    return model.calibration


def _train_image_head(
    config: RealnessTrainConfig,
    resolved: dict[str, Any],
    out: Path,
    device: torch.device,
    on_epoch: Callable[[dict[str, Any]], None] | None,
) -> RealnessTrainResult:
    """``head: images``: embed every training image (cached), fit the head with its penalty and
    calibration chosen by leave-one-source-out, write best.pt and cv.json."""
    from synthdiff.realness._image_head import VARIANTS, EmbeddingCache, fit_image_head

    started = time.perf_counter()
    images = _sources(config)
    if {i.label for i in images} != {0, 1}:
        raise InvalidArgumentError("Expected real and synthetic training images.")
    (out / "split.json").write_text(json.dumps({"train": [str(i.path) for i in images], "val": []}, indent=1))
    model = create_model(config.model, RealnessSettings(tuple(config.cues), config.crop, config.max_patches))
    model.config = resolved
    net = cast(RealnessEffNet, model.net.to(device).eval())
    folder = config.embedding_cache or out / "embeddings"
    tuning: list[dict[str, float]] = []
    if net.tail is not None:  # fine-tune the last blocks first, then fit the head on their features
        from synthdiff.realness._tune import TrunkCache, tail_embeddings, tune_tail

        trunk_cache = TrunkCache(folder, config.crop, config.max_patches)
        trunks = each_decodable(images, lambda i: trunk_cache.get(net, images[i]))
        tuning = tune_tail(
            net, trunks, images, epochs=config.epochs, learning_rate=config.learning_rate,
            weight_decay=config.weight_decay, batch_images=config.batch_size, seed=config.seed,
            device=device, bfloat16=config.precision == "bfloat16", keep=config.tune_keep,
            on_epoch=None if on_epoch is None else lambda entry: on_epoch(dict(entry)),
        )  # fmt: skip
        embeddings = tail_embeddings(net, trunks, device)
        with open(out / "history.jsonl", "w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(entry) + "\n" for entry in tuning)
    else:
        cache = EmbeddingCache(folder, config.crop, config.max_patches)
        embeddings = np.stack(each_decodable(images, lambda i: cache.get(net, images[i])))

    def on_fold(source: str) -> None:
        if on_epoch is not None:
            on_epoch({"held_out_source": source})

    fit = fit_image_head(embeddings, images, hidden=net.hidden, on_fold=on_fold)
    state = net.state_dict()
    state["standardise.running_mean"] = torch.as_tensor(fit.mean, dtype=torch.float32)
    state["standardise.running_var"] = torch.as_tensor(fit.variance, dtype=torch.float32)
    for name, value in fit.state.items():
        state[f"head.{name}"] = torch.as_tensor(value, dtype=torch.float32)
    net.load_state_dict(state)
    model.calibration = fit.calibration
    save_realness_model(out / "best.pt", model)
    history = [{"penalty": p, "cv_log_loss": round(v, 5)} for p, v in fit.cv_loss.items()]
    (out / "cv.json").write_text(
        json.dumps(
            {
                "variants": list(VARIANTS),
                "images": len(images),
                "sources": sorted({i.source for i in images}),
                "chosen_penalty": fit.penalty,
                "cv": history,
                "calibration": {"scale": fit.calibration.scale, "bias": fit.calibration.bias},
            },
            indent=1,
        )
    )
    return RealnessTrainResult(
        out, 0, fit.cv_loss[fit.penalty], history, fit.calibration, time.perf_counter() - started, fit.penalty
    )
