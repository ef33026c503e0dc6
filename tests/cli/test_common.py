"""Small helpers every command shares."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from synthdiff.cli._common import _without_worker_traceback, counted
from synthdiff.errors import InvalidArgumentError

MESSAGE = "Expected a readable PNG, but 'a: b.png' cannot be decoded. Fix: generate it again."


def test_counted_says_one_in_the_singular() -> None:
    assert [counted(n, "image") for n in (0, 1, 2)] == ["0 images", "1 image", "2 images"]


class _Broken(Dataset[torch.Tensor]):
    def __len__(self) -> int:
        return 2

    def __getitem__(self, index: int) -> torch.Tensor:
        raise InvalidArgumentError(MESSAGE)


@pytest.mark.parametrize("workers", [0, 1])
def test_an_error_raised_in_a_loader_worker_prints_as_its_own_message(workers: int) -> None:
    # torch re-raises a worker's error with its class but a message holding the worker's traceback.
    iterator = iter(DataLoader(_Broken(), num_workers=workers))
    try:
        next(iterator)
    except InvalidArgumentError as error:
        message = str(error)
    finally:
        del iterator  # shuts its worker down now, not whenever the garbage collector gets to it
    if workers:
        assert message.startswith("Caught InvalidArgumentError in DataLoader worker process 0")
    assert _without_worker_traceback(message) == MESSAGE
