"""scripts/make_graphics_images.py: every kind draws a varied image of the chosen size, the same seed and
index give the same image, and a rerun resumes without drawing again."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .conftest import SCRIPTS, load_script

graphics = load_script("make_graphics_images")


@pytest.mark.parametrize("index", range(len(graphics.KINDS)))
def test_every_kind_draws_a_varied_image_of_a_listed_size(index: int) -> None:
    kind, image = graphics.make_image(index, seed=5)
    assert kind == graphics.KINDS[index]
    pixels = np.asarray(image)
    assert image.mode == "RGB" and image.size in graphics.SIZES
    assert pixels.std() > 3, f"{kind} drew a nearly flat image"


def test_the_same_seed_and_index_give_the_same_image() -> None:
    first, second = graphics.make_image(9, seed=3)[1], graphics.make_image(9, seed=3)[1]
    assert np.array_equal(np.asarray(first), np.asarray(second))
    other = graphics.make_image(9, seed=4)[1]
    assert other.size != first.size or not np.array_equal(np.asarray(first), np.asarray(other))


def test_a_rerun_resumes(tmp_path: Path) -> None:
    out = tmp_path / "synthetic" / "graphics"
    command = [sys.executable, str(SCRIPTS / "make_graphics_images.py"), "--out", str(out), "--count", "3"]
    assert "3 written now" in subprocess.run(command, check=True, capture_output=True, text=True).stdout
    assert "0 written now" in subprocess.run(command, check=True, capture_output=True, text=True).stdout
    files = sorted(p.name for p in out.iterdir())
    assert files == ["0000-text.png", "0001-plot.png", "0002-gradient.png"]  # only images in the folder
    manifest = json.loads((tmp_path / "synthetic" / "graphics-images.json").read_text())
    assert manifest["seed"] == 131 and [m["kind"] for m in manifest["images"]] == ["text", "plot", "gradient"]
    with Image.open(out / "0001-plot.png") as image:
        assert image.mode == "RGB"
