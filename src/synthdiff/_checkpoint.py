"""Checkpoint files shared by every model family: one torch file holding weights and settings."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from synthdiff.errors import CheckpointError

__all__ = [
    "RunState",
    "load_run_state",
    "load_weights",
    "read_checkpoint",
    "save_run_state",
    "write_checkpoint",
]


def write_checkpoint(path: str | os.PathLike[str], payload: dict[str, Any]) -> None:
    """Save ``payload`` (tensors and plain data) atomically: a crash never leaves half a file."""
    path = Path(path)
    temporary = path.with_name(path.name + ".partial")
    torch.save(payload, temporary)
    os.replace(temporary, path)


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
    if not isinstance(payload, dict) or payload.get("format") != file_format:
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
    """Restore model, optimiser, scheduler and RNG from ``path`` if it exists, else return ``fresh``."""
    if not path.is_file():
        return fresh
    state = torch.load(path, map_location=device, weights_only=False)
    model.load_state_dict(state["model"])
    optimiser.load_state_dict(state["optimiser"])
    scheduler.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["torch_rng"].cpu())  # map_location moved it to the device
    return RunState(state["epoch"] + 1, state["best_epoch"], state["best_score"], state["history"])
