"""--device: auto, cpu, cuda and cuda:N; anything else is a clear error before any model loads."""

from __future__ import annotations

import pytest
import torch

from synthdiff._device import resolve_device
from synthdiff.errors import InvalidArgumentError


def test_auto_and_cpu() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.parametrize("name", ["tpu", "mps", "meta", "gpu0"])
def test_other_device_types_are_refused(name: str) -> None:
    # "mps" and "meta" are torch device types; "mps" used to pass and fail later as an unreadable checkpoint.
    with pytest.raises(InvalidArgumentError, match=rf"auto, cpu, cuda or cuda:N, got '{name}'"):
        resolve_device(name)


def test_cuda_is_checked_against_the_gpus_there_are() -> None:
    if not torch.cuda.is_available():
        with pytest.raises(InvalidArgumentError, match="torch sees none"):
            resolve_device("cuda:0")
    else:
        assert resolve_device("cuda:0") == torch.device("cuda:0")
    with pytest.raises(InvalidArgumentError, match=r"torch sees none|GPU index below"):
        resolve_device(f"cuda:{torch.cuda.device_count() + 3}")
