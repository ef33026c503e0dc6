"""The CSV delimiter is judged from the header line only."""

from __future__ import annotations

import pytest

from synthdiff.io import csv_delimiter


@pytest.mark.parametrize(
    "header, expected",
    [
        ("id,reference,test\n", ","),
        ("\ufeffid;reference;test\r\n", ";"),
        ("id\treference\ttest", "\t"),
        ("reference", ","),  # one column: nothing to tell, the standard comma
        ("id;reference,test", ","),  # a comma wins: ';' may be part of a name
        ("id,reference,test\nx;y;z\n", ","),  # rows are not read: paths may hold any delimiter
    ],
)
def test_csv_delimiter(header: str, expected: str) -> None:
    assert csv_delimiter(header) == expected
