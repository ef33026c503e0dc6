"""Reading the text files users write by hand or export: CSV tables, YAML settings, JSON records."""

from __future__ import annotations

import os
from pathlib import Path

from synthdiff.errors import InvalidArgumentError, SynthdiffError

__all__ = ["csv_delimiter", "read_utf8_text"]


def read_utf8_text(
    path: str | os.PathLike[str], what: str, error: type[SynthdiffError] = InvalidArgumentError
) -> str:
    """The text of a UTF-8 file (a byte-order mark is dropped), or ``error`` naming the line and byte
    that are not UTF-8 (a settings file saved as Latin-1 or Windows-1252 raised UnicodeDecodeError, a
    traceback in every command).

    Args:
        what: what the file is, for the message ("YAML config", "dataset manifest").

    Raises:
        error: the file is not UTF-8. OSError: it cannot be read (the caller says what that means).
    """
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as problem:
        line = data[: problem.start].count(b"\n") + 1
        raise error(
            f"Expected a UTF-8 {what} at {str(path)!r}, but byte {problem.start} (line {line}) is not UTF-8 "
            f"({problem.reason}). Fix: save it as UTF-8 (a damaged file: restore or remake it)."
        ) from None


def csv_delimiter(header: str) -> str:
    """The delimiter of a CSV file, judged from its header line.

    ``,`` unless the header holds no comma and is separated by ``;`` (how spreadsheets in many
    locales save CSV) or by tabs. Only the header is read, since paths in the rows may hold any of
    the three.

    Args:
        header: the file's first line (a byte-order mark or line ending may be left on).

    Example:
        >>> csv_delimiter("reference;test")
        ';'
    """
    header = header.split("\n", 1)[0]
    if "," in header:
        return ","
    return next((candidate for candidate in (";", "\t") if candidate in header), ",")
