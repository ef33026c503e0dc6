"""Atomic output writing that never overwrites an input."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from synthdiff.errors import OutputError
from synthdiff.io import atomic_write_text, load_image, output_folder, save_png


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


def test_output_folders_are_made_or_refused_clearly(tmp_path: Path) -> None:
    assert output_folder(tmp_path / "a" / "b") == tmp_path / "a" / "b" and (tmp_path / "a" / "b").is_dir()
    assert output_folder(tmp_path / "a") == tmp_path / "a"  # an existing folder is fine
    output_folder(tmp_path / "later", create=False)  # only checked
    assert not (tmp_path / "later").exists()
    (tmp_path / "report.png").write_bytes(b"kept")
    for target, create in itertools.product(
        (tmp_path / "report.png", tmp_path / "report.png" / "sub"), (True, False)
    ):
        with pytest.raises(OutputError, match=r"but '.*report\.png' is a file\. Fix: name a folder"):
            output_folder(target, create=create)
    with pytest.raises(OutputError, match=r"is a folder\. Fix: name a file"):
        atomic_write_text(tmp_path / "a", "text")
    with pytest.raises(OutputError, match=r"report\.png' is a file"):
        save_png(tmp_path / "report.png" / "panel.png", np.zeros((2, 2, 3), np.float32))
    assert (tmp_path / "report.png").read_bytes() == b"kept"


@pytest.mark.parametrize(
    "command",
    [
        ["realness", "{image}", "--heatmap", "{file}"],
        ["detect", "{image}", "{image}", "-o", "{file}"],
        ["compare", "{image}", "{image}", "-o", "{file}", "--fast"],
        ["realness-bench", "{folder}", "--label", "real", "-o", "{file}"],
        ["gap", "{folder}", "{folder}", "-o", "{file}/sub"],
        ["train", "realness", "--real", "{folder}", "--synthetic", "{folder}", "--out", "{file}"],
    ],
)
def test_commands_refuse_an_output_folder_that_is_a_file(tmp_path: Path, command: list[str]) -> None:
    from typer.testing import CliRunner

    from synthdiff.cli import app

    folder = tmp_path / "images"
    folder.mkdir()
    save_png(folder / "image.png", np.random.default_rng(0).random((32, 32, 3), dtype=np.float32))
    file = tmp_path / "notes.txt"
    file.write_text("kept")
    values = {"image": str(folder / "image.png"), "folder": str(folder), "file": str(file)}
    result = CliRunner().invoke(app, [part.format(**values) for part in command])
    assert result.exit_code == 2 and "is a file. Fix: name a folder" in result.output.replace("\n", " ")
    assert "Traceback" not in result.output and file.read_text() == "kept"
