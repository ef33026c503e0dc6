"""Resumable runs' journals: settings kept beside the rows, cut lines dropped, file stamps."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from synthdiff._journal import file_stamp, prepare_journal, read_journal
from synthdiff.errors import InvalidArgumentError


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
