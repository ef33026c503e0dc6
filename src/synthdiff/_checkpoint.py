"""Checkpoint files shared by every model family: one torch file holding weights and settings."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import torch
from torch import nn

from synthdiff.errors import CheckpointError, OutputError

__all__ = [
    "RunState",
    "load_run_state",
    "load_weights",
    "read_checkpoint",
    "resolve_shipped",
    "save_run_state",
    "shipped_names",
    "write_checkpoint",
]


# The model families whose weights ship, and the commands that use each (named when one family's model is
# given to another's command, such as a realness model to detect).
_FAMILIES = {
    "synthdiff.change": "detect, and compare or batch --change-model",
    "synthdiff.realness": "realness, realness-bench and compare --realness-model",
}
# Each family's checkpoint format tag (the registries' CHECKPOINT_FORMAT, which import torch models).
_FORMATS = {"synthdiff.change": "synthdiff-change-model", "synthdiff.realness": "synthdiff-realness-model"}


def write_checkpoint(path: str | os.PathLike[str], payload: dict[str, Any]) -> None:
    """Save ``payload`` (tensors and plain data) atomically: a crash never leaves half a file."""
    path = Path(path)
    temporary = path.with_name(path.name + ".partial")
    torch.save(payload, temporary)
    os.replace(temporary, path)


def shipped_names(package: str, names: Iterable[str]) -> list[str]:
    """Those of ``names`` whose trained weights ship as ``package``/weights/NAME.pt, sorted."""
    folder = resources.files(package) / "weights"
    return sorted(name for name in names if (folder / f"{name}.pt").is_file())


def resolve_shipped(
    spec: str | os.PathLike[str], package: str, names: Iterable[str], kind: str, trainer: str
) -> Path:
    """A checkpoint file from a path, or the shipped weights of the registered model named ``spec``.

    An existing file wins over a name, so a run folder's ``best.pt`` is never shadowed.

    Args:
        package: the model family's package, whose ``weights`` folder holds the shipped files.
        names: the family's registered model names.
        kind: what the checkpoint is, for the messages (e.g. ``a realness checkpoint file``).
        trainer: the command that trains these models, for the messages.

    Raises:
        CheckpointError: neither an existing file nor a shipped model's name (a registered model
            whose weights do not ship is named as such, with the command that trains it).
    """
    path = Path(spec)
    if path.is_file():
        return path
    registered = set(names)
    shipped = resources.files(package) / "weights" / f"{spec}.pt"
    if str(spec) in registered and shipped.is_file():
        return Path(str(shipped))
    expected = (
        f"Expected {kind} or a shipped model name ({', '.join(shipped_names(package, registered)) or 'none'})"
    )
    if str(spec) in registered:
        raise CheckpointError(
            f"{expected}, got {str(spec)!r}: a registered model whose weights do not ship. Fix: train it "
            f"({trainer} --model {spec}) and pass the checkpoint it writes."
        )
    for other, commands in _FAMILIES.items():
        if other != package and (resources.files(other) / "weights" / f"{spec}.pt").is_file():
            raise CheckpointError(
                f"{expected}, got {str(spec)!r}, which is a model of another kind, for {commands}. Fix: pass "
                "one of the names above."
            )
    raise CheckpointError(f"{expected}, got {str(spec)!r}, which is neither.")


def read_checkpoint(
    path: Path, file_format: str, version: int, trainer: str, device: str | torch.device = "cpu"
) -> dict[str, Any]:
    """Read a checkpoint written by :func:`write_checkpoint`, checking its format tag and version.

    Args:
        file_format: the tag the payload must carry (e.g. ``synthdiff-change-model``).
        trainer: the command that writes such files, named in the error messages.

    Raises:
        CheckpointError: unreadable, damaged, another kind of file, or another version.
    """
    try:
        payload = torch.load(path, map_location=device, weights_only=True)
    except Exception as error:  # torch raises many types for a damaged file
        raise CheckpointError(
            f"Expected a synthdiff checkpoint, but {str(path)!r} cannot be read ({type(error).__name__}: "
            f"{str(error)[:120]}). Fix: use a checkpoint written by '{trainer}'."
        ) from None
    if isinstance(payload, dict) and "optimiser" in payload and "format" not in payload:
        raise CheckpointError(
            f"Expected a {file_format} checkpoint, but {str(path)!r} is a training run's state (last.pt, for "
            "resuming it). Fix: use best.pt from the same run folder."
        )
    if not isinstance(payload, dict) or payload.get("format") != file_format:
        found = payload.get("format") if isinstance(payload, dict) else None
        other = next((uses for package, uses in _FAMILIES.items() if found == _FORMATS[package]), None)
        if other is not None:  # a realness model given to detect, or a change model to realness
            raise CheckpointError(
                f"Expected a {file_format} checkpoint, but {str(path)!r} is a {found} checkpoint, for "
                f"{other}. Fix: pass it there, or a checkpoint written by '{trainer}'."
            )
        raise CheckpointError(f"Expected a {file_format} checkpoint, but {str(path)!r} is something else.")
    if payload.get("version") != version:
        raise CheckpointError(
            f"Expected checkpoint version {version}, got {payload.get('version')!r} in {str(path)!r}."
        )
    return payload


def load_weights(model: nn.Module, state_dict: dict[str, torch.Tensor], path: Path, name: str) -> None:
    """Load weights strictly (float16 files are cast to the model's dtype by ``load_state_dict``)."""
    try:
        model.load_state_dict(state_dict, strict=True)
    except RuntimeError as error:
        raise CheckpointError(f"The weights in {str(path)!r} do not fit model {name!r}: {error}") from None


@dataclass
class RunState:
    """Where a resumable training run stands: the next epoch, the best epoch and its score (higher
    or lower is better as the trainer decides), and one history entry per finished epoch."""

    start_epoch: int = 0
    best_epoch: int = -1
    best_score: float = 0.0
    history: list[dict[str, Any]] = field(default_factory=list)


def save_run_state(
    path: Path,
    model: nn.Module,
    optimiser: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    epoch: int,
    best_epoch: int,
    best_score: float,
    history: list[dict[str, Any]],
) -> None:
    """Write ``last.pt`` after a finished ``epoch`` (atomically), with the torch RNG state."""
    write_checkpoint(
        path,
        {
            "model": model.state_dict(),
            "optimiser": optimiser.state_dict(),
            "scheduler": scheduler.state_dict(),
            "epoch": epoch,
            "best_epoch": best_epoch,
            "best_score": best_score,
            "history": history,
            "torch_rng": torch.get_rng_state(),
        },
    )


def load_run_state(
    path: Path,
    model: nn.Module,
    optimiser: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    device: torch.device,
    fresh: RunState,
) -> RunState:
    """Restore model, optimiser, scheduler and RNG from ``path`` if it exists, else return ``fresh``.

    Raises:
        OutputError: ``path`` exists but cannot be read as this run's state.
    """
    if not path.is_file():
        return fresh
    try:
        state = torch.load(path, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"].cpu())  # map_location moved it to the device
        return RunState(state["epoch"] + 1, state["best_epoch"], state["best_score"], state["history"])
    except Exception as error:  # torch raises many types for a damaged or foreign file
        raise OutputError(
            f"Expected the state of the interrupted run in {str(path)!r} to resume it, but it cannot be read "
            f"({type(error).__name__}: {error}). Fix: delete it to train this run from the start, or use a "
            "new --out folder."
        ) from None
