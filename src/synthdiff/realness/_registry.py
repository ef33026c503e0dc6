"""Realness model names, the factory, and checkpoints (weights + cues + crop + calibration in one file)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from synthdiff._checkpoint import load_weights, read_checkpoint, resolve_shipped, write_checkpoint
from synthdiff.errors import InvalidArgumentError
from synthdiff.realness._calibration import Calibration
from synthdiff.realness._features import CUES
from synthdiff.realness._model import RealnessEffNet, RealnessNet

__all__ = [
    "MODELS",
    "RealnessModel",
    "RealnessSettings",
    "create_model",
    "load_realness_model",
    "save_realness_model",
]

CHECKPOINT_FORMAT = "synthdiff-realness-model"
CHECKPOINT_VERSION = 1
DEFAULT_MODEL = "realness-effnet"

#: Registered architectures: name -> (description, builder taking the cues).
MODELS: dict[str, tuple[str, Callable[[tuple[str, ...]], nn.Module]]] = {
    "realness-cnn": ("ResNet-style CNN, widths 16-32-64-128, from scratch", lambda cues: RealnessNet(cues)),
    # The shipped weights named realness-effnet (the default) are a realness-effnet-lite2 fit since
    # 2026-12-06; a checkpoint names the registered model it was made as, so each loads its own backbone.
    "realness-effnet": (
        "linear head on frozen ImageNet EfficientNet-Lite0 features of RGB crops",
        lambda cues: RealnessEffNet(cues),
    ),
    "realness-effnet-levels": (
        "linear head on frozen EfficientNet-Lite0 features of RGB crops, pooled from all five levels too",
        lambda cues: RealnessEffNet(cues, levels=True),
    ),
    "realness-effnet-mlp": (
        "one hidden layer (32 ReLU units) on frozen EfficientNet-Lite0 features of RGB crops",
        lambda cues: RealnessEffNet(cues, hidden=32),
    ),
    "realness-effnet-traces": (
        "linear head on frozen EfficientNet-Lite0 features of RGB crops and 11 noise and spectrum statistics",
        lambda cues: RealnessEffNet(cues, traces=True),
    ),
    "realness-effnet-tuned": (
        "EfficientNet-Lite0 with its last five blocks fine-tuned on whole images, and a linear head",
        lambda cues: RealnessEffNet(cues, tune_from=11),
    ),
    "realness-effnet-lite1": (
        "linear head on frozen ImageNet EfficientNet-Lite1 features of RGB crops (the backbones extra)",
        lambda cues: RealnessEffNet(cues, backbone="lite1"),
    ),
    "realness-effnet-lite2": (
        "linear head on frozen ImageNet EfficientNet-Lite2 features of RGB crops (the shipped default's)",
        lambda cues: RealnessEffNet(cues, backbone="lite2"),
    ),
    "realness-tiny": ("widths 4-8 (tests)", lambda cues: RealnessNet(cues, widths=(4, 8))),
}


# Crop sides a realness model accepts: a Fourier feature needs some extent; an image smaller than the crop is
# reflect-padded to it, so a crop far beyond any image only costs memory (the published method uses 640x480).
MIN_CROP = 16
MAX_CROP = 2048


@dataclass(frozen=True)
class RealnessSettings:
    """How a realness model reads an image; saved in its checkpoint.

    Attributes:
        cues: per-crop inputs (see :func:`crop_features`).
        crop: crop side in pixels, at native resolution.
        max_patches: crops scored per image at most (an evenly spread subset of a large image's grid).
    """

    cues: tuple[str, ...] = ("fourier",)
    crop: int = 64
    max_patches: int = 96

    def __post_init__(self) -> None:
        cues_known = bool(self.cues) and all(c in CUES for c in self.cues)
        if not cues_known or not MIN_CROP <= self.crop <= MAX_CROP or self.max_patches < 1:
            raise InvalidArgumentError(
                f"Expected cues from {', '.join(CUES)}, crop from {MIN_CROP} to {MAX_CROP} and "
                f"max_patches >= 1, got {list(self.cues)!r}, {self.crop} and {self.max_patches}."
            )


@dataclass
class RealnessModel:
    """A trained realness classifier: the network, how it reads images, and its calibration."""

    name: str
    net: nn.Module
    settings: RealnessSettings
    calibration: Calibration = field(default_factory=Calibration)
    config: dict[str, Any] = field(default_factory=dict)
    #: SHA-256 of the checkpoint file it was loaded from ("" for a model made in memory).
    checkpoint_sha256: str = ""


def create_model(name: str, settings: RealnessSettings | None = None) -> RealnessModel:
    """A new (untrained, uncalibrated) registered realness model.

    Raises:
        InvalidArgumentError: unknown name (the message lists the valid ones).
    """
    if name not in MODELS:
        raise InvalidArgumentError(f"Expected a realness model name from {', '.join(MODELS)}, got {name!r}.")
    settings = settings or RealnessSettings()
    try:
        net = MODELS[name][1](settings.cues)
    except ValueError as error:
        raise InvalidArgumentError(f"{error} Fix: pass cues that model {name!r} reads.") from None
    return RealnessModel(name, net, settings)


def save_realness_model(path: str | os.PathLike[str], model: RealnessModel) -> None:
    """Weights, settings, calibration and training config in one file (written atomically)."""
    write_checkpoint(
        path,
        {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "model": model.name,
            "settings": {**asdict(model.settings), "cues": list(model.settings.cues)},
            "calibration": asdict(model.calibration),
            "config": model.config,
            "state_dict": model.net.state_dict(),
        },
    )


def _resolve(spec: str | os.PathLike[str]) -> Path:
    return resolve_shipped(
        spec, "synthdiff.realness", MODELS, "a realness checkpoint file", "synthdiff train realness"
    )


def load_realness_model(spec: str | os.PathLike[str] = DEFAULT_MODEL, device: str = "cpu") -> RealnessModel:
    """Load shipped weights by name, or a checkpoint written by ``synthdiff train realness``.

    Args:
        device: ``cpu``, ``cuda``, or ``auto`` (the GPU when there is one).

    Raises:
        CheckpointError: missing, damaged or another kind of file.
    """
    from synthdiff._device import resolve_device

    path = _resolve(spec)
    target = resolve_device(device)
    payload = read_checkpoint(path, CHECKPOINT_FORMAT, CHECKPOINT_VERSION, "synthdiff train realness", target)
    stored = payload["settings"]
    settings = RealnessSettings(tuple(stored["cues"]), int(stored["crop"]), int(stored["max_patches"]))
    model = create_model(payload["model"], settings)
    load_weights(model.net, payload["state_dict"], path, payload["model"])
    model.net.to(target).eval()
    model.calibration = Calibration(**payload["calibration"])
    model.config = dict(payload["config"])
    model.checkpoint_sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    return model
