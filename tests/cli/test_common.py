"""Small helpers every command shares."""

from __future__ import annotations

from synthdiff.cli._common import counted


def test_counted_says_one_in_the_singular() -> None:
    assert [counted(n, "image") for n in (0, 1, 2)] == ["0 images", "1 image", "2 images"]
