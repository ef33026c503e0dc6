"""Resumable runs' journals: settings kept beside the rows, cut lines dropped, file stamps."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from synthdiff._journal import file_stamp, folder_lock, prepare_journal, read_journal
from synthdiff.errors import InvalidArgumentError, OutputError


def _prepare(folder: Path) -> Path:
    return prepare_journal(folder, "settings.json", {"a": 1}, False, lambda previous: "other rows")


@pytest.mark.parametrize("cut", ['{"id": "b", "val', '{"id"', "x" * 70_000])
def test_a_line_cut_short_is_dropped_so_the_next_row_is_readable(tmp_path: Path, cut: str) -> None:
    journal = _prepare(tmp_path)
    journal.write_text(json.dumps({"id": "a"}) + "\n" + cut)  # an interruption mid-write
    journal = _prepare(tmp_path)
    with journal.open("a") as log:
        log.write(json.dumps({"id": "c"}) + "\n")
    # Before, "c" was glued to the cut line and lost as well.
    assert sorted(read_journal(journal, "id")) == ["a", "c"]


def test_a_row_with_damaged_bytes_is_left_out_and_accented_paths_are_kept(tmp_path: Path) -> None:
    journal = tmp_path / "results.jsonl"
    rows = [
        json.dumps({"id": "caf\u00e9/a.png"}, ensure_ascii=False).encode(),
        b'{"id": "b\xff"}',
        b'{"id": "c"}',
    ]
    journal.write_bytes(b"\n".join(rows) + b"\n")  # the second raised UnicodeDecodeError on resume
    assert sorted(read_journal(journal, "id")) == ["c", "caf\u00e9/a.png"]


def test_a_journal_of_one_cut_line_is_emptied(tmp_path: Path) -> None:
    journal = _prepare(tmp_path)
    journal.write_text('{"id": "a", "value"')
    assert _prepare(tmp_path).read_text() == ""


def test_file_stamps_change_with_the_file(tmp_path: Path) -> None:
    path = tmp_path / "render.png"
    path.write_bytes(b"one")
    first = file_stamp(path)
    assert first == [3, path.stat().st_mtime_ns]
    os.utime(path, ns=(first[1] + 1_000_000, first[1] + 1_000_000))
    assert file_stamp(path) != first
    assert file_stamp(tmp_path / "missing.png") is None


def test_an_unreadable_settings_file_is_explained(tmp_path: Path) -> None:
    journal = _prepare(tmp_path)
    journal.write_text(json.dumps({"id": "a"}) + "\n")
    (tmp_path / "settings.json").write_text('{"a": 1')  # damaged by hand
    with pytest.raises(InvalidArgumentError, match=r"settings file settings\.json cannot be read.*--restart"):
        _prepare(tmp_path)


def test_a_folder_held_by_another_process_is_refused_and_freed_when_it_dies(tmp_path: Path) -> None:
    # A second process, as when a command is started twice in two terminals.
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path / "run")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        refused = pytest.raises(OutputError, match=r"no other batch run to be writing '.*run', but one is")
        with refused, folder_lock(tmp_path / "run", "batch"):
            pytest.fail("entered a folder another process holds")
    finally:
        holder.kill()  # killed, not released: the operating system drops its lock
        holder.communicate()
    with folder_lock(tmp_path / "run", "batch") as folder:
        assert folder == tmp_path / "run"
    with folder_lock(tmp_path / "run", "batch"):  # released when the block ended
        pass


HOLD = """
import sys, time
from synthdiff._journal import folder_lock
with folder_lock(sys.argv[1], "batch"):
    print("held", flush=True)
    time.sleep(60)
"""
