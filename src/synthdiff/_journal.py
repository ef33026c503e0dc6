"""Resumable runs: results appended to ``results.jsonl`` one line at a time, with the settings they
were made with beside them, so that an interrupted run can pick up where it stopped."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from synthdiff.errors import InvalidArgumentError, OutputError

__all__ = ["file_stamp", "folder_lock", "prepare_journal", "read_journal"]


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike[str], command: str) -> Iterator[Path]:
    """Hold ``folder`` for one run: a second run writing into it at the same time is refused.

    Two runs in one output folder (a command started twice, in two terminals) would both append to
    its journal and overwrite each other's files. The lock is an advisory ``flock`` on
    ``folder/.lock``, held until the block ends; the operating system drops it when the process dies,
    so a killed run never leaves the folder locked.

    Args:
        folder: the run's output folder (created if needed).
        command: what runs there, for the message ("batch", "train change").

    Yields:
        The folder.

    Raises:
        OutputError: another process holds the folder, or it cannot be created.
    """
    from synthdiff.io import output_folder

    place = output_folder(folder)
    with open(place / ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputError(
                f"Expected no other {command} run to be writing {str(place)!r}, but one is. "
                "Fix: wait for it to finish, or choose another output folder."
            ) from None
        yield place


def prepare_journal(
    folder: Path,
    settings_name: str,
    settings: dict[str, Any],
    restart: bool,
    describe: Callable[[dict[str, Any]], str],
) -> Path:
    """Make ``folder`` ready for a run and return its ``results.jsonl``.

    The settings are written to ``folder/settings_name``. An earlier journal is kept when it was made
    with the same settings, and deleted with ``restart``.

    Args:
        describe: what the earlier run was, from its settings, for the refusal: "scores of ...".

    Raises:
        InvalidArgumentError: the earlier run in ``folder`` used other settings.
    """
    from synthdiff.io import atomic_write_text, output_folder

    output_folder(folder)
    journal, settings_file = folder / "results.jsonl", folder / settings_name
    if restart:
        journal.unlink(missing_ok=True)
    elif journal.exists() and settings_file.exists():
        try:
            previous = json.loads(settings_file.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise InvalidArgumentError(
                f"'{folder}' holds results whose settings file {settings_name} cannot be read, so they "
                "cannot be checked against this run's. Fix: pass --restart to start over, or choose another "
                "output folder."
            ) from None
        if previous != json.loads(json.dumps(settings)):
            raise InvalidArgumentError(
                f"'{folder}' holds {describe(previous)}. "
                "Fix: pass --restart to start over, or choose another output folder."
            )
    atomic_write_text(settings_file, json.dumps(settings, indent=2) + "\n")
    _drop_cut_line(journal)
    return journal


def _drop_cut_line(journal: Path) -> None:
    """Remove a last line that an interruption cut short, so that the next row starts a line of its own
    (appended to the cut line, it would be unreadable too, and its work done once more)."""
    if not journal.exists() or journal.stat().st_size == 0:
        return
    with journal.open("rb+") as handle:
        end = handle.seek(0, os.SEEK_END)
        handle.seek(end - 1)
        if handle.read(1) == b"\n":
            return
        # Back from the end, a block at a time, to the last complete line's newline.
        position = end
        while position > 0:
            start = max(0, position - 65536)
            handle.seek(start)
            newline = handle.read(position - start).rfind(b"\n")
            if newline >= 0:
                handle.truncate(start + newline + 1)
                return
            position = start
        handle.truncate(0)


def file_stamp(path: str | os.PathLike[str]) -> list[int] | None:
    """``[size, mtime_ns]`` of a file, or None when it cannot be read.

    A journal row records the stamps of the files it was made from, and a resumed run reuses it only
    while they are unchanged: a render replaced since (a student's resubmission) is compared again.
    """
    try:
        status = os.stat(path)
    except OSError:
        return None
    return [status.st_size, status.st_mtime_ns]


def read_journal(journal: Path, key: str) -> dict[str, dict[str, Any]]:
    """The rows of ``journal`` by their ``key`` field; a line cut short by an interruption, or with
    damaged bytes, is left out (so its item is done again)."""
    done: dict[str, dict[str, Any]] = {}
    if not journal.exists():
        return done
    for line in journal.read_text(encoding="utf-8", errors="replace").splitlines():
        if "\ufffd" in line:
            continue  # bytes that are not UTF-8: a damaged row (it raised UnicodeDecodeError)
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and key in row:
            done[row[key]] = row
    return done
