"""Small helpers every command shares."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest
import torch
import typer
from torch.utils.data import DataLoader, Dataset
from typer.testing import CliRunner

from synthdiff.cli import app
from synthdiff.cli._common import _given_values, _without_worker_traceback, counted, machine_error
from synthdiff.errors import InvalidArgumentError
from tests.conftest import EXAMPLES

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


def test_a_full_disk_is_one_line_with_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A full disk while the report is written was a traceback of OSError [Errno 28].
    def full(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("synthdiff.io._write.os.fsync", full)
    pair = EXAMPLES / "wrong-light"
    arguments = ["compare", str(pair / "reference.png"), str(pair / "test.png"), "-o", str(tmp_path / "out")]
    result = CliRunner().invoke(app, [*arguments, "--fast", "--realness-model", "none"])
    assert result.exit_code == 2, result.output
    assert result.output.strip() == (
        "error: The system refused: No space left on device. Fix: free some space, or write to another disk."
    )
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.endswith(".tmp")]  # no half-written files
    # What only a bug raises is not dressed up as the machine's doing.
    assert machine_error(FileNotFoundError(errno.ENOENT, "No such file", "x.png")) is None
    said = machine_error(PermissionError(errno.EACCES, "Permission denied", "/srv/out/report.json"))
    assert str(said) == (
        "The system refused ('/srv/out/report.json'): Permission denied. Fix: check the permissions, or use "
        "another place."
    )


def _leaf_commands(command: object) -> list[object]:
    children = getattr(command, "commands", None)
    if children is None:
        return [command]
    return [leaf for child in children.values() for leaf in _leaf_commands(child)]


def test_every_command_notes_repeated_options() -> None:
    leaves = _leaf_commands(typer.main.get_command(app))
    assert len(leaves) >= 16
    assert {type(leaf).__name__ for leaf in leaves} == {"_RepeatNotingCommand"}


_ALIGN_NOTE = "--align was given more than once: the last value, translation"


@pytest.mark.parametrize(
    ("repeated", "note", "used"),
    [
        (["--align", "none", "--align", "translation"], _ALIGN_NOTE, ("align", "translation")),
        (["--align=none", "--align", "translation"], _ALIGN_NOTE, ("align", "translation")),
        (
            ["--sensitivity", "2", "--sensitivity", "0.5"],
            "--sensitivity was given more than once: the last value, 0.5",
            ("sensitivity", 0.5),
        ),
        (
            ["--align", "none", "--align", "none"],
            None,
            ("align", "none"),
        ),  # the same value twice changes nothing
        (["--fast", "--fast"], None, ("fast", True)),
    ],
)
def test_an_option_given_twice_with_different_values_is_noted(
    tmp_path: Path, repeated: list[str], note: str | None, used: tuple[str, object]
) -> None:
    # Click keeps the last value (a script may override what it set earlier) but said nothing.
    pair = EXAMPLES / "wrong-light"
    arguments = ["compare", str(pair / "reference.png"), str(pair / "test.png"), "-o", str(tmp_path / "out")]
    result = CliRunner().invoke(app, [*arguments, "--fast", "--realness-model", "none", *repeated])
    assert result.exit_code == 0, result.output
    assert ("was given more than once" in result.output) == (note is not None)
    if note is not None:
        assert f"note: {note}, is used." in result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["options"][used[0]] == used[1]


def test_the_values_of_each_occurrence_are_read_as_typed() -> None:
    output = next(
        param for param in typer.main.get_command(app).commands["compare"].params if param.name == "output"
    )
    arguments = ["-oa", "--output=b", "-o", "c", "--", "-o", "d"]
    assert _given_values(output, arguments) == ["a", "b", "c"]
