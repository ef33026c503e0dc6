"""Atomic output writing that never overwrites an input."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from synthdiff.errors import InvalidArgumentError, OutputError
from synthdiff.io import (
    ProtectedInputs,
    atomic_write_text,
    json_text,
    load_image,
    output_folder,
    save_png,
)


def test_png_written_atomically_and_readable(tmp_path: Path) -> None:
    image = np.linspace(0, 1, 48, dtype=np.float32).reshape(4, 4, 3)
    path = save_png(tmp_path / "sub" / "a.png", image, bit_depth=16)
    np.testing.assert_allclose(load_image(path).pixels, image, atol=1 / 65535)
    assert not [p for p in (tmp_path / "sub").iterdir() if p.name.endswith(".tmp")]


def test_png_of_nan_is_refused_and_nothing_written(tmp_path: Path) -> None:
    image = np.full((4, 4, 3), 0.5, np.float32)
    image[1, 2, 0] = np.nan
    with pytest.raises(InvalidArgumentError, match=r"got 1 NaN value\(s\).*Fix: replace them"):
        save_png(tmp_path / "a.png", image)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((4, 4), np.int64), r"float, uint8, uint16 or bool array for a PNG, got int64"),
        (np.zeros((4, 4, 2), np.float32), r"HxWx4 array for a PNG, got shape \(4, 4, 2\)"),
        (np.zeros((2, 4, 4, 3), np.float32), r"got shape \(2, 4, 4, 3\)"),
    ],
)
def test_png_of_other_arrays_is_refused(tmp_path: Path, array: np.ndarray, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        save_png(tmp_path / "a.png", array)


def test_png_of_a_mask_is_black_and_white(tmp_path: Path) -> None:
    mask = np.zeros((4, 4), bool)
    mask[0, 0] = True
    pixels = load_image(save_png(tmp_path / "m.png", mask)).pixels
    assert pixels[0, 0].tolist() == [1.0, 1.0, 1.0] and pixels[1:].max() == 0.0


def test_report_json_is_strict() -> None:
    payload = {
        "f1": float("nan"),
        "psnr": float("inf"),
        "n": np.int64(3),
        "x": np.float32(0.5),
        "rows": [(1, -np.inf), np.array([0.25, np.nan])],
    }
    text = json_text(payload)
    assert text.endswith("}\n") and "NaN" not in text and "Infinity" not in text
    # The standard library's strict parser is what browsers and jq apply.
    strict = json.loads(text, parse_constant=lambda name: pytest.fail(f"non-standard JSON constant {name}"))
    assert strict == {"f1": None, "psnr": None, "n": 3, "x": 0.5, "rows": [[1, None], [0.25, None]]}
    assert json_text({"a": 1}, indent=None) == '{"a": 1}'


def test_refuses_to_overwrite_an_input(tmp_path: Path) -> None:
    source = tmp_path / "input.json"
    source.write_text("original")
    with pytest.raises(OutputError, match=r"it is one of the inputs\. Fix: choose another output folder"):
        atomic_write_text(source, "new", protected=[source])
    assert source.read_text() == "original"


def test_protected_inputs_resolved_once_still_refuse_every_spelling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    images = tmp_path / "images"
    images.mkdir()
    sources = [images / f"{i}.png" for i in range(50)]
    for source in sources:
        source.write_text("original")
    (tmp_path / "link").symlink_to(images)
    resolves = 0
    resolve = Path.resolve

    def counting(self: Path, strict: bool = False) -> Path:
        nonlocal resolves
        resolves += 1
        return resolve(self, strict=strict)

    monkeypatch.setattr(Path, "resolve", counting)
    inputs = ProtectedInputs(sources)
    assert len(inputs) == 50 and resolves == 50
    for i in range(50):  # one output per input, as realness --heatmap writes
        atomic_write_text(tmp_path / "out" / f"{i}.txt", "new", protected=inputs)
    assert resolves == 100  # each write resolves its own target only, not the 50 inputs again
    monkeypatch.chdir(images)
    for spelling in ("3.png", "../link/3.png", str(images / "sub" / ".." / "3.png")):
        with pytest.raises(OutputError, match="it is one of the inputs"):
            atomic_write_text(spelling, "new", protected=inputs)
    assert all(source.read_text() == "original" for source in sources)


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
        ["gap", "{folder}", "{folder}", "-o", "{folder}/out", "--cache-dir", "{file}"],
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
    # The fix names the option that was given (it said -o DIR for --heatmap too).
    option = next((o for o in ("--heatmap", "--cache-dir") if o in command), "-o")
    assert f"already is one ({option} DIR)." in result.output.replace("\n", " ")


def test_a_page_synthdiff_did_not_write_is_refused_and_its_own_is_replaced(tmp_path: Path) -> None:
    from synthdiff.io._write import PAGE_MARKER

    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<!DOCTYPE html><title>My renders</title>")
    for create in (True, False):
        with pytest.raises(
            OutputError, match=r"index\.html' is another page.*Fix: name another folder \(-o DIR\)"
        ):
            output_folder(site, create=create, page="index.html")
    output_folder(site)  # a command that writes no page does not care
    assert (site / "index.html").read_text() == "<!DOCTYPE html><title>My renders</title>"
    # A page from an earlier run is replaced, as a rerun must: marked, or written before the marker.
    for ours in (
        f"<!DOCTYPE html><head>{PAGE_MARKER}",
        "<html><head><title>synthdiff compare: a.png</title>",
    ):
        (site / "index.html").write_text(ours)
        assert output_folder(site, page="index.html") == site
    output_folder(tmp_path / "new", page="index.html")  # no page yet


@pytest.mark.parametrize(
    "command",
    [
        ["detect", "{image}", "{image}", "-o", "{site}"],
        ["compare", "{image}", "{image}", "-o", "{site}", "--fast"],
        ["realness-bench", "{folder}", "--label", "real", "-o", "{site}"],
        ["gap", "{folder}", "{folder}", "-o", "{site}"],
        ["batch", "{folder}", "{others}", "-o", "{site}", "--fast"],
    ],
)
def test_commands_keep_a_page_they_did_not_write(tmp_path: Path, command: list[str]) -> None:
    # "-o ." in a website's folder replaced its index.html with the report.
    from typer.testing import CliRunner

    from synthdiff.cli import app
    from synthdiff.io._write import PAGE_MARKER

    folder = tmp_path / "images"
    folder.mkdir()
    save_png(folder / "image.png", np.random.default_rng(0).random((32, 32, 3), dtype=np.float32))
    (tmp_path / "others").mkdir()
    save_png(tmp_path / "others" / "image.png", np.zeros((32, 32, 3), np.float32))
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("mine")
    values = {"image": str(folder / "image.png"), "folder": str(folder), "site": str(site)}
    values["others"] = str(tmp_path / "others")
    result = CliRunner().invoke(app, [part.format(**values) for part in command])
    assert result.exit_code == 2, result.output
    assert "is another page, which the report would replace" in result.output.replace("\n", " ")
    assert "Traceback" not in result.output
    assert [p.name for p in site.iterdir()] == ["index.html"] and (site / "index.html").read_text() == "mine"
    (site / "index.html").unlink()
    for _ in range(2):  # the page written is marked as synthdiff's, and the next run replaces it
        result = CliRunner().invoke(app, [part.format(**values) for part in command])
        assert result.exit_code == 0, result.output
        assert PAGE_MARKER in (site / "index.html").read_text()


def test_a_file_name_that_is_not_utf8_is_written_as_an_escape(tmp_path: Path) -> None:
    # A Latin-1 name from an old archive reaches Python as a lone surrogate: writing the report that
    # names it was a UnicodeEncodeError traceback.
    name = os.fsdecode(b"caf\xe9.png")
    path = atomic_write_text(tmp_path / "page.html", f"<p>{name}</p>\n")
    assert path.read_bytes() == b"<p>caf\\udce9.png</p>\n"  # valid UTF-8
    assert json.loads(json_text({"path": name})) == {"path": name}  # JSON keeps the exact name
    assert os.fsencode(json.loads(json_text({"path": name}))["path"]) == b"caf\xe9.png"


def test_compare_reports_on_a_file_whose_name_is_not_utf8(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from synthdiff.cli import app
    from tests.conftest import EXAMPLES

    odd = tmp_path / os.fsdecode(b"r\xe9f\xe9rence.png")
    odd.write_bytes((EXAMPLES / "wrong-light" / "reference.png").read_bytes())
    test = EXAMPLES / "wrong-light" / "test.png"
    arguments = ["compare", str(odd), str(test), "-o", str(tmp_path / "out"), "--fast"]
    result = CliRunner().invoke(app, [*arguments, "--realness-model", "none"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["inputs"]["reference"]["path"] == str(odd)  # the exact name, escaped in JSON
    (tmp_path / "out" / "index.html").read_text(encoding="utf-8")  # valid UTF-8
    # A terminal that prints UTF-8 strictly got a UnicodeEncodeError once the work was done.
    strict = subprocess.run(
        [sys.executable, "-m", "synthdiff", *arguments[:3], "-o", str(tmp_path / "again"), "--fast"],
        capture_output=True,
        env={**os.environ, "PYTHONIOENCODING": "utf-8:strict"},
    )
    assert strict.returncode == 0, strict.stderr
    assert b"/r\\udce9f\\udce9rence.png vs " in strict.stdout.splitlines()[0]
