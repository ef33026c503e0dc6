"""Model names, the factory, and checkpoints (weights + config + feature list in one file)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from synthdiff._checkpoint import (
    load_weights,
    read_checkpoint,
    resolve_shipped,
    shipped_names,
    write_checkpoint,
)
from synthdiff.change._ensemble import ProbabilityAverage
from synthdiff.change._hysteresis import check_min_area
from synthdiff.change._models import ChangeStar, FresUNet
from synthdiff.change._views import VIEWS, with_views
from synthdiff.errors import CheckpointError, InvalidArgumentError

__all__ = [
    "DEFAULT_MODEL",
    "ENSEMBLES",
    "FEATURES",
    "MODELS",
    "ModelInfo",
    "combine_checkpoints",
    "create_model",
    "load_checkpoint",
    "resolve_checkpoint",
    "save_checkpoint",
    "set_views",
    "shipped_models",
]

# What `synthdiff detect` and the demo use when no model is named: the shipped model that last won a
# decision on fresh val sets of new scenes, by a rule written before they were scored (FresUNet over
# ChangeStar: docs/training-logs/change-default-fresh11-rule.md; then FresUNet with bottleneck
# attention over plain FresUNet: docs/training-logs/stage7c-rule.md; then the wider FresUNet over it,
# on the fresh seed-31 sets: docs/training-logs/stage12-rule.md; docs/models.md).
DEFAULT_MODEL = "fresunet-wide"

#: The rendering features a change detector can be trained for.
FEATURES = ("illumination", "reflection", "texture", "transparency", "objects")
CHECKPOINT_FORMAT = "synthdiff-change-model"
CHECKPOINT_VERSION = 1


#: Ensemble models by name, with the registered model of each member, in order.
ENSEMBLES: dict[str, tuple[str, ...]] = {
    "fresunet-wide-pair": ("fresunet-wide", "fresunet-wide"),
    "fresunet-pair-tiny": ("fresunet-tiny", "fresunet-tiny"),
}


def _build_ensemble(name: str, features: int) -> ProbabilityAverage:
    return ProbabilityAverage([MODELS[member].build(features) for member in ENSEMBLES[name]])


@dataclass(frozen=True)
class ModelInfo:
    """A registered model: how to build it and what it is."""

    name: str
    description: str
    build: Callable[[int], nn.Module]


MODELS: dict[str, ModelInfo] = {
    info.name: info
    for info in (
        ModelInfo(
            "fresunet",
            "early-fusion residual U-Net, channels 8-128, trained from scratch",
            lambda n: FresUNet(n),
        ),
        ModelInfo(
            "changestar",
            "Siamese EfficientNet-Lite0 (ImageNet) + FPN decoder + symmetric ChangeMixin head",
            lambda n: ChangeStar(n),
        ),
        ModelInfo(
            "fresunet-deep",
            "FresUNet with a second residual block at the three coarsest encoder and two coarsest "
            "decoder levels",
            lambda n: FresUNet(n, extra_encoder=(0, 0, 1, 1, 1), extra_decoder=(1, 1, 0, 0)),
        ),
        ModelInfo(
            "fresunet-attention",
            "FresUNet with a self-attention block over its coarsest level (every position sees the "
            "whole image)",
            lambda n: FresUNet(n, attention_heads=4),
        ),
        ModelInfo(
            "fresunet-ratio",
            "fresunet-attention with the two images' log-ratio of linear light as three more input channels",
            lambda n: FresUNet(n, attention_heads=4, ratio_inputs=True),
        ),
        ModelInfo(
            "fresunet-wide",
            "fresunet-attention with 1.5 times the channels at its four finer levels (12-24-48-96-128)",
            lambda n: FresUNet(n, widths=(12, 24, 48, 96, 128), attention_heads=4),
        ),
        ModelInfo(
            "fresunet-wider",
            "fresunet-attention with channels 16-32-64-112-128 (a third wider than fresunet-wide)",
            lambda n: FresUNet(n, widths=(16, 32, 64, 112, 128), attention_heads=4),
        ),
        ModelInfo(
            "fresunet-wide-pair",
            "two fresunet-wide networks, their probabilities averaged (combine_checkpoints)",
            lambda n: _build_ensemble("fresunet-wide-pair", n),
        ),
        ModelInfo(
            "fresunet-tiny", "FresUNet with channels 4-8-16 (tests)", lambda n: FresUNet(n, widths=(4, 8, 16))
        ),
        ModelInfo(
            "fresunet-pair-tiny",
            "two fresunet-tiny networks, their probabilities averaged (tests)",
            lambda n: _build_ensemble("fresunet-pair-tiny", n),
        ),
        ModelInfo(
            "fresunet-deep-tiny",
            "fresunet-tiny with extra residual blocks at its coarse levels (tests)",
            lambda n: FresUNet(n, widths=(4, 8, 16), extra_encoder=(0, 1, 1), extra_decoder=(1, 0)),
        ),
        ModelInfo(
            "fresunet-attention-tiny",
            "fresunet-tiny with the bottleneck self-attention block (tests)",
            lambda n: FresUNet(n, widths=(4, 8, 16), attention_heads=2),
        ),
        ModelInfo(
            "fresunet-ratio-tiny",
            "fresunet-attention-tiny with the log-ratio input channels (tests)",
            lambda n: FresUNet(n, widths=(4, 8, 16), attention_heads=2, ratio_inputs=True),
        ),
        ModelInfo(
            "fresunet-wide-tiny",
            "fresunet-attention-tiny with wider finer levels (8-12-16; tests)",
            lambda n: FresUNet(n, widths=(8, 12, 16), attention_heads=2),
        ),
        ModelInfo(
            "changestar-tiny",
            "ChangeStar without pretrained weights and a 16-channel decoder (tests)",
            lambda n: ChangeStar(n, decoder_channels=16, pretrained=False),
        ),
    )
}


def shipped_models() -> list[str]:
    """Names of the models whose trained weights ship inside the package (``--model NAME``)."""
    return shipped_names("synthdiff.change", MODELS)


def resolve_checkpoint(spec: str | os.PathLike[str]) -> Path:
    """A checkpoint file from a path, or from the name of a model whose weights ship with synthdiff.

    An existing file wins over a name, so a run folder's ``best.pt`` is never shadowed.

    Raises:
        CheckpointError: neither an existing file nor a shipped model name.
    """
    return resolve_shipped(spec, "synthdiff.change", MODELS, "a checkpoint file", "synthdiff train change")


def _check_features(features: list[str] | tuple[str, ...]) -> list[str]:
    features = list(features)
    unknown = [f for f in features if f not in FEATURES]
    if not features or unknown or len(set(features)) != len(features):
        raise InvalidArgumentError(
            f"Expected features from {', '.join(FEATURES)} (each once, at least one), got {features!r}."
        )
    return features


def create_model(name: str, features: list[str] | tuple[str, ...]) -> nn.Module:
    """Build a registered change-detection model for the given features.

    Raises:
        InvalidArgumentError: unknown model name (the message lists the valid ones) or feature.
    """
    check_model_name(name)
    return MODELS[name].build(len(_check_features(features)))


def check_model_name(name: str) -> None:
    """Raise InvalidArgumentError, listing the registered names, when ``name`` is not one of them."""
    if name not in MODELS:
        raise InvalidArgumentError(f"Expected a model name from {', '.join(MODELS)}, got {name!r}.")


def _read_payload(path: str | os.PathLike[str], device: str = "cpu") -> dict[str, Any]:
    """A change-model checkpoint file's content (a CheckpointError for anything else)."""
    return read_checkpoint(
        Path(path), CHECKPOINT_FORMAT, CHECKPOINT_VERSION, "synthdiff train change", device
    )


def save_checkpoint(
    path: str | os.PathLike[str],
    model: nn.Module,
    name: str,
    features: list[str],
    config: dict[str, Any] | None = None,
    thresholds: dict[str, float] | None = None,
    train_size: int | None = None,
) -> None:
    """Save weights, model name, feature list and training config in one file (written atomically).

    Args:
        thresholds: per-feature change thresholds tuned on the validation split (default 0.5 each).
        train_size: the shorter side of the images the model was trained on: larger pairs are run
            scaled down to it (:func:`~synthdiff.change.working_shape`); None runs every pair as it is.
    """
    payload = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "model": name,
        "features": list(features),
        "config": config or {},
        "state_dict": model.state_dict(),
    }
    if thresholds is not None:
        payload["thresholds"] = {name: float(thresholds[name]) for name in features}
    if train_size is not None:
        payload["train_size"] = _checked_train_size(train_size)
    write_checkpoint(path, payload)


def combine_checkpoints(
    members: list[str | os.PathLike[str]], path: str | os.PathLike[str], name: str
) -> None:
    """Write an ensemble checkpoint that averages the probabilities of trained change models.

    The ensemble's change thresholds are left at 0.5: tune them on the validation split afterwards
    (``synthdiff tune change``), as for a newly trained model.

    Args:
        members: checkpoint files or shipped model names, one per member of ``name``, in order.
        path: the ensemble checkpoint to write.
        name: a registered ensemble (:data:`ENSEMBLES`).

    Raises:
        InvalidArgumentError: ``name`` is not an ensemble, or the number of members does not match it.
        CheckpointError: a member is missing or corrupt, is another model than the ensemble expects,
            or has other features than the first member.
    """
    if name not in ENSEMBLES:
        raise InvalidArgumentError(f"Expected an ensemble name from {', '.join(ENSEMBLES)}, got {name!r}.")
    expected = ENSEMBLES[name]
    if len(members) != len(expected):
        raise InvalidArgumentError(
            f"Expected {len(expected)} member checkpoints for {name!r} ({', '.join(expected)}), "
            f"got {len(members)}."
        )
    payloads: list[tuple[Path, dict[str, Any]]] = []
    for member, model_name in zip(members, expected, strict=True):
        member_path = resolve_checkpoint(member)
        payload = _read_payload(member_path)
        if payload["model"] != model_name:
            raise CheckpointError(
                f"Expected a {model_name!r} checkpoint as a member of {name!r}, got {payload['model']!r} "
                f"in {str(member_path)!r}."
            )
        if payloads and payload["features"] != payloads[0][1]["features"]:
            raise CheckpointError(
                f"Expected every member to detect {payloads[0][1]['features']}, got {payload['features']} "
                f"in {str(member_path)!r}."
            )
        payloads.append((member_path, payload))
    features = payloads[0][1]["features"]
    model = create_model(name, features)
    assert isinstance(model, ProbabilityAverage)
    for network, (member_path, payload) in zip(model.members, payloads, strict=True):
        load_weights(network, payload["state_dict"], member_path, payload["model"])
    config = {"members": [str(member_path) for member_path, _ in payloads]}
    save_checkpoint(path, model, name, features, config=config)


def load_checkpoint(
    path: str | os.PathLike[str], device: str = "cpu", views: str | None = None
) -> tuple[nn.Module, dict[str, Any]]:
    """Load a checkpoint saved by :func:`save_checkpoint`, or shipped weights by model name.

    Args:
        views: test-time augmentation (``none``, ``flip``, ``flips``, ``dihedral``; see
            :data:`~synthdiff.change.VIEWS`); default the checkpoint's own (``none`` unless set by
            :func:`set_views`). Other than ``none``, the model is wrapped in a :class:`ViewAverage`.

    Returns:
        The model (in eval mode, on ``device``) and the checkpoint's metadata: model, features,
        config, views, thresholds (per-feature change thresholds tuned on val for those views;
        without tuned ones for them, the checkpoint's thresholds for a single view; 0.5 where the
        checkpoint has none) and low_thresholds (per feature, for hysteresis, see
        :func:`~synthdiff.change.hysteresis_mask`; equal to ``thresholds`` unless tuned with them)
        and min_area (connected changed regions of fewer pixels are not marked; 0, all kept, unless
        set by :func:`set_min_area`) and train_size (the shorter side of the training images, to
        which larger pairs are scaled down; None in checkpoints saved before 2026-12-07 without
        :func:`set_train_size`: every pair runs at its own size).

    Raises:
        CheckpointError: missing, corrupt or not a synthdiff change-model checkpoint.
        InvalidArgumentError: unknown view set.
    """
    path = resolve_checkpoint(path)
    payload = _read_payload(path, device)
    model = create_model(payload["model"], payload["features"])
    load_weights(model, payload["state_dict"], path, payload["model"])
    model.to(device).eval()
    views = views or payload.get("views", "none")
    metadata = {key: payload[key] for key in ("model", "features", "config")}
    metadata["views"] = views
    thresholds = payload.get("view_thresholds", {}).get(views, payload.get("thresholds", {}))
    metadata["thresholds"] = {name: 0.5 for name in payload["features"]} | thresholds
    # Hysteresis: the low thresholds tuned with these thresholds, else the same (single thresholds).
    tuned_for = views if views in payload.get("view_thresholds", {}) else "none"
    lows = payload.get("view_low_thresholds", {}).get(tuned_for, {})
    metadata["low_thresholds"] = metadata["thresholds"] | lows
    metadata["min_area"] = int(payload.get("min_area", 0))
    train_size = payload.get("train_size")
    if train_size is not None and (isinstance(train_size, bool) or not isinstance(train_size, int)):
        raise CheckpointError(f"Expected a whole number as train_size in {str(path)!r}, got {train_size!r}.")
    metadata["train_size"] = train_size
    return with_views(model, views), metadata


def set_views(
    path: str | os.PathLike[str],
    views: str,
    thresholds: dict[str, dict[str, float]],
    low_thresholds: dict[str, dict[str, float]] | None = None,
) -> None:
    """Store in a checkpoint file the view set it runs by default and val-tuned thresholds per view set.

    Args:
        views: the default view set (``none`` keeps the single view).
        thresholds: {view set: {feature: threshold}}, tuned on the validation split with those views;
            ``none``'s go to the checkpoint's plain ``thresholds``.
        low_thresholds: {view set: {feature: low threshold}} for hysteresis
            (:func:`~synthdiff.change.hysteresis_mask`), tuned together with ``thresholds`` on the
            same split; a view set given thresholds here without low ones loses any it had (they were
            tuned with other thresholds).

    Raises:
        CheckpointError: not a change-model checkpoint. InvalidArgumentError: unknown view set,
            thresholds missing for the default or for some feature, low thresholds for a view set
            without thresholds, or a low threshold above its high one.
    """
    payload = _read_payload(path)
    low_thresholds = low_thresholds or {}
    unknown = [name for name in [views, *thresholds, *low_thresholds] if name not in VIEWS]
    if unknown:
        raise InvalidArgumentError(f"Expected views from {', '.join(VIEWS)}, got {unknown!r}.")
    if views != "none" and views not in thresholds:
        raise InvalidArgumentError(f"Expected thresholds tuned for the default views {views!r}, got none.")
    for name, per_feature in [*thresholds.items(), *low_thresholds.items()]:
        if sorted(per_feature) != sorted(payload["features"]):
            raise InvalidArgumentError(
                f"Expected {name!r} thresholds for {payload['features']}, got {sorted(per_feature)}."
            )
    for name, per_feature in low_thresholds.items():
        if name not in thresholds:
            raise InvalidArgumentError(
                f"Expected low thresholds only with their high ones, got low ones for {name!r} alone."
            )
        above = {f: (low, thresholds[name][f]) for f, low in per_feature.items() if low > thresholds[name][f]}
        if above:
            raise InvalidArgumentError(
                f"Expected each low threshold at most its high one, got (low, high) {above} for {name!r}."
            )
    payload["views"] = views
    stored = {name: {f: float(t) for f, t in per_feature.items()} for name, per_feature in thresholds.items()}
    if "none" in stored:
        payload["thresholds"] = stored.pop("none")
    payload["view_thresholds"] = payload.get("view_thresholds", {}) | stored
    # Low thresholds of view sets whose thresholds were not rewritten stay; the others are replaced.
    kept = payload.get("view_low_thresholds", {})
    stored_lows = {name: kept[name] for name in kept if name not in thresholds}
    for name, per_feature in low_thresholds.items():
        stored_lows[name] = {f: float(t) for f, t in per_feature.items()}
    payload["view_low_thresholds"] = stored_lows
    write_checkpoint(path, payload)


def set_min_area(path: str | os.PathLike[str], min_area: int) -> None:
    """Store in a checkpoint file the smallest connected changed region its masks keep.

    ``detect``, ``compare``, ``batch`` and ``eval change`` then drop changed regions of fewer pixels
    from its masks (:func:`~synthdiff.change.remove_specks`); 0 keeps them all. ``tune change`` chooses
    thresholds without the removal and carries the value to the tuned copy.

    Raises:
        CheckpointError: not a change-model checkpoint. InvalidArgumentError: a negative area.
    """
    check_min_area(min_area)
    payload = _read_payload(path)
    payload["min_area"] = int(min_area)
    write_checkpoint(path, payload)


def _checked_train_size(size: int) -> int:
    if isinstance(size, bool) or not isinstance(size, int) or size < 8:
        raise InvalidArgumentError(
            f"Expected a training image size of at least 8 pixels, got {size!r}. Fix: the shorter side of "
            "the images the model was trained on (256 for synthdiff generate's default)."
        )
    return size


def set_train_size(path: str | os.PathLike[str], size: int | None) -> None:
    """Store in a checkpoint file the shorter side of the images its model was trained on.

    ``detect``, ``compare``, ``batch``, ``eval change`` and ``tune change`` then run pairs whose shorter
    side is larger scaled down to it, and bring the maps back to the pair's size
    (:func:`~synthdiff.change.working_shape`); None runs every pair at its own size. ``train change``
    stores it itself.

    Raises:
        CheckpointError: not a change-model checkpoint. InvalidArgumentError: a size under 8.
    """
    payload = _read_payload(path)
    if size is None:
        payload.pop("train_size", None)
    else:
        payload["train_size"] = _checked_train_size(size)
    write_checkpoint(path, payload)
