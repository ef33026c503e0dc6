"""scripts/make_variety_renders.py: every scene kind builds and renders a picture, and a rerun resumes.

Runs Blender in a subprocess (as the script is run), at preview size."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .conftest import SCRIPTS

pytestmark = [
    pytest.mark.blender,
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("bpy") is None, reason="the blender extra is not installed"),
]


def _run(out: Path, count: int, *options: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(SCRIPTS / "make_variety_renders.py"), "--out", str(out)]
    command += ["--count", str(count), "--seed", "7", "--preview", *options]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)


def _pictures(out: Path) -> list[Path]:
    """The PNG files in ``out``, each checked to be a 64x48 picture with something in it."""
    files = sorted(out.glob("*.png"))
    for file in files:
        pixels = np.asarray(Image.open(file).convert("L"), np.float32) / 255.0
        assert pixels.shape == (48, 64)
        assert pixels.std() > 0.01, f"{file.name} is almost uniform"
    return files


def test_every_kind_renders_a_picture_and_a_rerun_resumes(tmp_path: Path) -> None:
    out = tmp_path / "synthetic" / "blender-variety"
    result = _run(out, 7)
    assert result.returncode == 0, result.stderr[-2000:]
    files = _pictures(out)
    assert [f.name for f in files] == [f"variety-{i:04d}.png" for i in range(7)]
    records = [
        json.loads(line) for line in (out.parent / "blender-variety-scenes.jsonl").read_text().splitlines()
    ]
    assert sorted(r["kind"] for r in records) == sorted(
        ("closeup", "swatches", "product", "text", "landscape", "classic", "clutter")
    )
    assert not list(out.glob("*.partial.png"))

    before = {f.name: f.stat().st_mtime_ns for f in files}
    rerun = _run(out, 8)  # one more scene: only it is rendered
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert {f.name: f.stat().st_mtime_ns for f in sorted(out.glob("*.png")) if f.name in before} == before
    assert len(list(out.glob("*.png"))) == 8
    assert len((out.parent / "blender-variety-scenes.jsonl").read_text().splitlines()) == 8


def test_styled_renders_take_every_style_in_turns(tmp_path: Path) -> None:
    out = tmp_path / "synthetic" / "blender-styles"
    result = _run(out, 9, "--first", "6", "--styled")  # scenes 6 to 14: groups 0, 1 and 2 of seven
    assert result.returncode == 0, result.stderr[-2000:]
    assert [f.name for f in _pictures(out)] == [f"variety-{i:04d}.png" for i in range(6, 15)]
    records = [
        json.loads(line) for line in (out.parent / "blender-styles-scenes.jsonl").read_text().splitlines()
    ]
    assert [r["style"] for r in records] == ["workbench"] + ["eevee"] * 7 + ["whitted"]
    assert records[-1]["samples"] == 4  # the preview's, not the full render's
