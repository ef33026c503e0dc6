"""Training a change detector on generated datasets (``synthdiff train change``); resumable."""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, RandomSampler, WeightedRandomSampler

from synthdiff._checkpoint import RunState, load_run_state, save_run_state
from synthdiff._config import load_settings, save_or_check_settings
from synthdiff._journal import folder_lock
from synthdiff.change._data import ChangePairs, PairRecord, smallest_recorded_side
from synthdiff.change._evaluate import EvalResult, evaluate, resolve_device, tune_thresholds
from synthdiff.change._metrics import DICE_MODES, change_loss
from synthdiff.change._models import ChangeOutput, FresUNet
from synthdiff.change._registry import (
    FEATURES,
    check_model_name,
    create_model,
    load_checkpoint,
    save_checkpoint,
)
from synthdiff.errors import InvalidArgumentError

__all__ = ["TrainConfig", "TrainResult", "load_config", "train_change"]


@dataclass
class TrainConfig:
    """Everything that decides a training run (saved as config.yaml in the run folder).

    Defaults suit 256x256 datasets on a CPU; a YAML file sets others, command-line flags override it.
    """

    data: list[str] = field(default_factory=list)
    # How often each dataset's pairs are drawn, one weight per ``data`` folder: dataset k makes up
    # weight_k / sum(weights) of each epoch's pairs (drawn with replacement). Empty: every training
    # pair once per epoch, so larger datasets weigh more.
    data_weights: list[float] = field(default_factory=list)
    # Pairs drawn per epoch; 0: as many as there are training pairs. Fewer make shorter epochs, so that a
    # slow model (changestar on a CPU) is validated and checkpointed more often. Without data_weights
    # the draw is a fresh random subset each epoch (without replacement, so at most every pair once).
    epoch_pairs: int = 0
    # Draw some kinds of pair more often within their dataset: {"texture/object": 4.0} draws texture
    # pairs whose changes are all on objects (PairRecord.place) four times as often as the dataset's other
    # pairs, without changing the dataset's share of the epoch. Pairs are then drawn with replacement.
    place_weights: dict[str, float] = field(default_factory=dict)
    # How Dice pools pixels (DICE_MODES): "batch" (each feature over the batch) or "pair" (every pair
    # with a change counts equally, however few pixels it changed).
    dice: str = "batch"
    model: str = "fresunet"
    features: list[str] = field(
        default_factory=lambda: ["illumination", "reflection", "texture", "transparency"]
    )
    epochs: int = 30
    batch_size: int = 8
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    crop: int = 192  # random square crop for training; 0 = whole images
    seg_weight: float = 0.5
    change_weight: float = 1.0
    max_pos_weight: float = 50.0  # cap of the class-balancing weight of changed pixels (>= 1)
    # Weight of a feature's change loss where another feature's change is labelled (1: none; _metrics.
    # attribution_weights): stresses naming every feature that changed at a pixel, and only those.
    attribution_weight: float = 1.0
    swap: float = 0.5
    threshold: float = 0.5
    freeze_encoder: bool = False  # keep a pretrained encoder (changestar) fixed: much faster on a CPU
    seed: int = 0
    device: str = "auto"
    loader_workers: int = 2
    cache: bool = False  # keep the decoded training pairs in memory (then the loader runs in-process)
    # bfloat16: the training forward pass under autocast (weights, optimiser and loss stay float32;
    # validation runs in float32). About 1.6x faster for FresUNet on a CPU with AMX, and on GPUs.
    precision: str = "float32"
    # Start from this checkpoint's weights (same features): a warm restart of the same model, or a
    # larger one that contains it (fresunet-deep from fresunet: the added blocks start as identities).
    init: str | None = None

    def validate(self) -> None:
        if not self.data:
            raise InvalidArgumentError("Expected at least one dataset folder (--data DIR).")
        check_model_name(self.model)  # before any data are read
        unknown = [f for f in self.features if f not in FEATURES]
        if unknown or not self.features:
            raise InvalidArgumentError(
                f"Expected --features from {', '.join(FEATURES)}, got {self.features!r}."
            )
        for name in ("epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise InvalidArgumentError(f"Expected {name} >= 1, got {getattr(self, name)!r}.")
        for name in ("crop", "seed", "loader_workers"):
            if getattr(self, name) < 0:
                raise InvalidArgumentError(f"Expected {name} >= 0, got {getattr(self, name)!r}.")
        if not self.learning_rate > 0 or not self.weight_decay >= 0:
            raise InvalidArgumentError(
                f"Expected learning_rate > 0 and weight_decay >= 0, got {self.learning_rate!r} and "
                f"{self.weight_decay!r}."
            )
        if not self.seg_weight >= 0 or not self.change_weight > 0:
            raise InvalidArgumentError(
                f"Expected seg_weight >= 0 and change_weight > 0, got {self.seg_weight!r} and "
                f"{self.change_weight!r}."
            )
        if not 0.0 <= self.swap <= 1.0 or not 0.0 < self.threshold < 1.0:
            raise InvalidArgumentError("Expected swap in [0, 1] and threshold in (0, 1).")
        if self.precision not in ("float32", "bfloat16"):
            raise InvalidArgumentError(f"Expected precision float32 or bfloat16, got {self.precision!r}.")
        if self.data_weights and (
            len(self.data_weights) != len(self.data) or not all(w > 0 for w in self.data_weights)
        ):
            raise InvalidArgumentError(
                f"Expected one positive data_weights entry per data folder ({len(self.data)}), "
                f"got {self.data_weights!r}."
            )
        for key, weight in self.place_weights.items():
            feature, _, place = str(key).partition("/")
            if feature not in FEATURES or not place or not weight > 0:
                raise InvalidArgumentError(
                    f"Expected place_weights as FEATURE/PLACE: positive weight (for example "
                    f"texture/object: 4.0, features {', '.join(FEATURES)}), got {key!r}: {weight!r}."
                )
        if self.dice not in DICE_MODES:
            raise InvalidArgumentError(f"Expected dice {' or '.join(DICE_MODES)}, got {self.dice!r}.")
        if self.epoch_pairs < 0:
            raise InvalidArgumentError(
                f"Expected epoch_pairs >= 0 (0: every training pair), got {self.epoch_pairs!r}."
            )
        if not self.max_pos_weight >= 1.0:
            raise InvalidArgumentError(f"Expected max_pos_weight >= 1, got {self.max_pos_weight!r}.")
        if not self.attribution_weight > 0:
            raise InvalidArgumentError(
                f"Expected a positive attribution_weight (1: off), got {self.attribution_weight!r}."
            )


def sampling_weights(
    dataset_index: list[int], data_weights: list[float], multipliers: list[float] | None = None
) -> list[float]:
    """Per-pair sampling weights that give dataset k the share data_weights[k] / sum(data_weights)
    of the draws, whatever its size (``dataset_index``: each pair's dataset; empty ``data_weights``:
    each dataset's share is its size). Within a dataset, pair i is drawn in proportion to
    ``multipliers[i]`` (default 1), so multipliers move draws between a dataset's pairs only."""
    datasets = max(dataset_index, default=-1) + 1
    shares = data_weights or [float(dataset_index.count(k)) for k in range(datasets)]
    multipliers = multipliers or [1.0] * len(dataset_index)
    within = [0.0] * len(shares)
    for k, m in zip(dataset_index, multipliers, strict=True):
        within[k] += m
    total = sum(w for w, n in zip(shares, within, strict=True) if n)
    return [shares[k] / total * m / within[k] for k, m in zip(dataset_index, multipliers, strict=True)]


def place_multipliers(pairs: Sequence[PairRecord], place_weights: dict[str, float]) -> list[float]:
    """Each pair's multiplier from ``place_weights`` (``FEATURE/PLACE`` keys; 1 for the others).

    Raises:
        InvalidArgumentError: a key that matches no pair, with the keys these pairs have.
    """
    keys = [f"{pair.feature}/{pair.place}" for pair in pairs]
    unmatched = sorted(set(place_weights) - set(keys))
    if unmatched:
        raise InvalidArgumentError(
            f"Expected place_weights keys that match training pairs, got {', '.join(unmatched)}; "
            f"these pairs have {', '.join(sorted(set(keys)))}."
        )
    return [float(place_weights.get(key, 1.0)) for key in keys]


def load_config(path: str | os.PathLike[str] | None, overrides: dict[str, Any]) -> TrainConfig:
    """Defaults, then the YAML file (if any), then ``overrides`` (flags that were given).

    Raises:
        InvalidArgumentError: unreadable YAML, unknown keys (the message lists the valid ones) or
            invalid values.
    """
    config = load_settings(TrainConfig, path, overrides, defaults=_crop_within_the_data)
    config.data = [str(d) for d in config.data]
    config.validate()
    return config


def _crop_within_the_data(given: dict[str, Any]) -> dict[str, Any]:
    """The default crop, made no larger than the smallest dataset's shorter side (128x128 renders train
    on whole images, 160x120 ones on 120-pixel squares), so that the defaults train on any generated
    set. A crop that was asked for is kept, and refused when too large."""
    default = TrainConfig.crop
    smallest = smallest_recorded_side([str(folder) for folder in given.get("data") or []])
    return {"crop": smallest} if smallest is not None and smallest < default else {}


@dataclass
class TrainResult:
    """Outcome of a run: the best epoch by validation change F1, the per-epoch history, and the
    per-feature change thresholds tuned on the validation split for the best epoch."""

    out: Path
    best_epoch: int
    best_score: float
    history: list[dict[str, Any]]
    seconds: float
    thresholds: dict[str, float] = field(default_factory=dict)


def _seed_everything(seed: int) -> None:
    # numpy randomness (augmentation) uses explicit generators seeded per item; see ChangePairs.
    random.seed(seed)
    torch.manual_seed(seed)


def train_change(
    config: TrainConfig,
    out: str | os.PathLike[str],
    *,
    on_step: Callable[[int, int, int, dict[str, float]], None] | None = None,
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
) -> TrainResult:
    """Train, selecting the checkpoint on the validation split (never the test split).

    Writes into ``out``: config.yaml (resolved), history.jsonl (one line per epoch with the
    training losses and validation scores), best.pt (the selected checkpoint, loadable with
    :func:`load_checkpoint`) and last.pt (for resuming). Running again with the same config
    continues after the last finished epoch. After the last epoch, the best checkpoint gets
    per-feature change thresholds that maximise the validation F1 (:func:`tune_thresholds`).

    Args:
        on_step: called as ``on_step(epoch, step, steps_per_epoch, running)`` for a progress bar.
        on_epoch: called with each epoch's history entry (its losses, validation F1, seconds, best).

    Raises:
        InvalidArgumentError: bad config, or a dataset without train or val pairs.
        OutputError: ``out`` holds a run with another config, or another run is writing into it.
    """
    with folder_lock(out, "train change") as folder:
        return _train_change(config, folder, on_step, on_epoch)


def _train_change(
    config: TrainConfig,
    out: Path,
    on_step: Callable[[int, int, int, dict[str, float]], None] | None,
    on_epoch: Callable[[dict[str, Any]], None] | None,
) -> TrainResult:
    resolved = save_or_check_settings(config, out)

    _seed_everything(config.seed)
    device = resolve_device(config.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed input sizes: let cuDNN pick the fastest kernels
    train_data = ChangePairs(
        config.data,
        "train",
        config.features,
        augment=True,
        swap=config.swap,
        crop=config.crop or None,
        seed=config.seed,
        cache=config.cache,
    )
    val_data = ChangePairs(config.data, "val", config.features, cache=True)  # scored every epoch
    # Kept in the checkpoint: the tools run larger pairs scaled down to it (change.working_shape).
    train_size = train_data.image_side()
    if len(train_data) == 0 or len(val_data) == 0:
        raise InvalidArgumentError(
            f"Expected train and val pairs, found {len(train_data)} and {len(val_data)}. "
            "Fix: pass at least one dataset with train scenes and one with val scenes (the split is by "
            "scene: generate at least 3 scenes, with train and val shares in --split)."
        )
    model = create_model(config.model, config.features).to(device)
    if config.init is not None:
        _warm_start(model, config)
    encoder = getattr(model, "encoder", None)
    if config.freeze_encoder:
        if encoder is None:
            raise InvalidArgumentError(
                f"Expected a model with a pretrained encoder for freeze_encoder, got {config.model!r}."
            )
        encoder.requires_grad_(False)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trainable, lr=config.learning_rate, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=config.epochs)
    last_path = out / "last.pt"
    run = load_run_state(last_path, model, optimiser, scheduler, device, RunState(best_score=-1.0))
    start_epoch, best_epoch, best_score, history = (
        run.start_epoch,
        run.best_epoch,
        run.best_score,
        run.history,
    )

    pair_weights = (
        sampling_weights(
            train_data.dataset_index,
            config.data_weights,
            place_multipliers(train_data.pairs, config.place_weights) if config.place_weights else None,
        )
        if config.data_weights or config.place_weights
        else []
    )
    started = time.perf_counter()
    for epoch in range(start_epoch, config.epochs):
        epoch_started = time.perf_counter()
        model.train()
        if config.freeze_encoder and encoder is not None:
            encoder.eval()  # frozen means its batch-norm statistics stay the ImageNet ones too
        train_data.set_epoch(epoch)
        generator = torch.Generator().manual_seed(config.seed * 1000 + epoch)
        draws = config.epoch_pairs or len(train_data)
        sampler: WeightedRandomSampler | RandomSampler | None = None
        if pair_weights:
            sampler = WeightedRandomSampler(pair_weights, draws, replacement=True, generator=generator)
        elif config.epoch_pairs:
            sampler = RandomSampler(train_data, num_samples=min(draws, len(train_data)), generator=generator)
        loader = DataLoader(
            train_data,
            batch_size=config.batch_size,
            shuffle=sampler is None,
            sampler=sampler,
            generator=generator,
            num_workers=0 if config.cache else config.loader_workers,
            drop_last=(len(sampler) if sampler is not None else len(train_data)) > config.batch_size,
            pin_memory=device.type == "cuda",
        )
        running: dict[str, float] = {}
        for step, batch in enumerate(loader, start=1):
            tensors = {
                k: v.to(device, non_blocking=True) for k, v in batch.items() if isinstance(v, torch.Tensor)
            }
            with torch.autocast(device.type, torch.bfloat16, enabled=config.precision == "bfloat16"):
                output = model(tensors["reference"], tensors["test"])
            output = ChangeOutput(output.seg_ref.float(), output.seg_test.float(), output.change.float())
            loss, parts = change_loss(
                output,
                tensors,
                config.seg_weight,
                config.change_weight,
                config.max_pos_weight,
                config.dice,
                config.attribution_weight,
            )
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            running = {k: running.get(k, v) * 0.9 + v * 0.1 if running else v for k, v in parts.items()}
            if on_step is not None:
                on_step(epoch, step, len(loader), running)
        scheduler.step()
        result: EvalResult = evaluate(
            model, val_data, threshold=config.threshold, batch_size=config.batch_size, device=device
        )
        score = result.mean_change_f1()
        entry = {
            "epoch": epoch,
            **{f"train_{k}": round(v, 5) for k, v in running.items()},
            "val_change_f1": round(score, 5),
            "seconds": round(time.perf_counter() - epoch_started, 1),
        }
        history.append(entry)
        if score > best_score:
            best_epoch, best_score = epoch, score
            save_checkpoint(
                out / "best.pt",
                model,
                config.model,
                config.features,
                {**resolved, "epoch": epoch, "val_change_f1": score},
                train_size=train_size,
            )
        with open(out / "history.jsonl", "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")
        save_run_state(last_path, model, optimiser, scheduler, epoch, best_epoch, best_score, history)
        if on_epoch is not None:
            on_epoch({**entry, "best": best_epoch == epoch})
    thresholds = _tune_best(out / "best.pt", val_data, config, device)
    return TrainResult(out, best_epoch, best_score, history, time.perf_counter() - started, thresholds)


def _warm_start(model: nn.Module, config: TrainConfig) -> None:
    """Load ``config.init`` into ``model``: every tensor of the checkpoint must fit, by name and shape,
    or, for FresUNets, ``model`` must extend the checkpoint's by wider levels or log-ratio inputs
    (:meth:`FresUNet.grow_from`: it then starts with the checkpoint's answers)."""
    assert config.init is not None
    start, metadata = load_checkpoint(config.init, views="none")
    state = model.state_dict()
    misfits = [
        name
        for name, tensor in start.state_dict().items()
        if name not in state or state[name].shape != tensor.shape
    ]
    same_features = metadata["features"] == config.features
    if same_features and misfits and isinstance(model, FresUNet) and isinstance(start, FresUNet):
        model.grow_from(start)  # raises if model does not extend start
        return
    if not same_features or misfits:
        raise InvalidArgumentError(
            f"Expected init to be a checkpoint for {config.features} whose weights all fit {config.model!r}, "
            f"got a {metadata['model']!r} checkpoint for {metadata['features']}"
            + (f" with {len(misfits)} tensors that do not fit (first: {misfits[0]})." if misfits else ".")
        )
    model.load_state_dict(start.state_dict(), strict=False)


def _tune_best(
    path: Path, val_data: ChangePairs, config: TrainConfig, device: torch.device
) -> dict[str, float]:
    """Give best.pt the change thresholds that maximise validation F1 (once; kept on resume)."""
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if "thresholds" in payload:
        return dict(payload["thresholds"])
    model, metadata = load_checkpoint(path, device=str(device), views="none")
    thresholds = tune_thresholds(model, val_data, batch_size=config.batch_size, device=device)
    save_checkpoint(
        path,
        model,
        metadata["model"],
        metadata["features"],
        metadata["config"],
        thresholds,
        train_size=metadata["train_size"],
    )
    return thresholds
