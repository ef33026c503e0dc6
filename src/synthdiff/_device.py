"""Choosing the torch device for training and inference."""

from __future__ import annotations

import torch

from synthdiff.errors import InvalidArgumentError

__all__ = ["resolve_device"]


def resolve_device(name: str) -> torch.device:
    """``auto`` -> the GPU when there is one, else the CPU; otherwise the named device.

    Raises:
        InvalidArgumentError: a name torch does not know, or a CUDA device on a machine without one.
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise InvalidArgumentError(
            f"Expected a device named auto, cpu, cuda or cuda:N, got {name!r}."
        ) from None
    if device.type not in ("cpu", "cuda"):
        # torch knows many device types (mps, xla, meta, ...); synthdiff's models are tested on these two.
        raise InvalidArgumentError(f"Expected a device named auto, cpu, cuda or cuda:N, got {name!r}.")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InvalidArgumentError(
            f"Expected a CUDA GPU for device {name!r}, but torch sees none. Fix: use auto or cpu."
        )
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise InvalidArgumentError(
            f"Expected a GPU index below {torch.cuda.device_count()} for device {name!r}. Fix: use cuda:0 "
            "or auto."
        )
    return device
