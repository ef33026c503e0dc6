"""Checkpoint files shared by every model family: one torch file holding weights and settings."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from synthdiff.errors import CheckpointError

__all__ = ["load_weights", "read_checkpoint", "write_checkpoint"]


def write_checkpoint(path: str | os.PathLike[str], payload: dict[str, Any]) -> None:
    """Save ``payload`` (tensors and plain data) atomically: a crash never leaves half a file."""
    path = Path(path)
    temporary = path.with_name(path.name + ".partial")
    torch.save(payload, temporary)
    os.replace(temporary, path)


def read_checkpoint(
    path: Path, file_format: str, version: int, trainer: str, device: str = "cpu"
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
