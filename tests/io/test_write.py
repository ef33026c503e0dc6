"""Atomic output writing that never overwrites an input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from synthdiff.errors import OutputError
from synthdiff.io import atomic_write_text, load_image, save_png


def test_png_written_atomically_and_readable(tmp_path: Path) -> None:
    image = np.linspace(0, 1, 48, dtype=np.float32).reshape(4, 4, 3)
    path = save_png(tmp_path / "sub" / "a.png", image, bit_depth=16)
    np.testing.assert_allclose(load_image(path).pixels, image, atol=1 / 65535)
    assert not [p for p in (tmp_path / "sub").iterdir() if p.name.endswith(".tmp")]


def test_refuses_to_overwrite_an_input(tmp_path: Path) -> None:
    source = tmp_path / "input.json"
    source.write_text("original")
    with pytest.raises(OutputError, match=r"it is one of the inputs\. Fix: choose another output folder"):
        atomic_write_text(source, "new", protected=[source])
    assert source.read_text() == "original"
