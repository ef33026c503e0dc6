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


def _run(out: Path, count: int) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(SCRIPTS / "make_variety_renders.py"), "--out", str(out)]
    command += ["--count", str(count), "--seed", "7", "--preview"]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)


def test_every_kind_renders_a_picture_and_a_rerun_resumes(tmp_path: Path) -> None:
    out = tmp_path / "synthetic" / "blender-variety"
    result = _run(out, 7)
    assert result.returncode == 0, result.stderr[-2000:]
    files = sorted(out.glob("*.png"))
    assert [f.name for f in files] == [f"variety-{i:04d}.png" for i in range(7)]
    for file in files:
        pixels = np.asarray(Image.open(file).convert("L"), np.float32) / 255.0
        assert pixels.shape == (48, 64)
        assert pixels.std() > 0.01, f"{file.name} is almost uniform"
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
