"""Reading the CSV files users write by hand or export from a spreadsheet."""

from __future__ import annotations

__all__ = ["csv_delimiter"]


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
