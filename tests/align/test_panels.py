"""Splitting one image holding two pictures (a spot-the-difference puzzle) into its panels."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from synthdiff import compare
from synthdiff.align import split_panels
from synthdiff.cli import app
from synthdiff.errors import InvalidArgumentError
from tests.conftest import photo, to_uint8

# Where the second picture differs from the first, (x0, y0, x1, y1) in a 192x192 picture.
EDITS = ((20, 30, 36, 46), (120, 110, 140, 126), (50, 150, 66, 172))


def pictures() -> tuple[np.ndarray, np.ndarray]:
    """A photo and a copy with three small edits, 192x192 uint8."""
    first = to_uint8(cv2.resize(photo("astronaut"), (192, 192), interpolation=cv2.INTER_AREA))
    second = first.copy()
    (a, b, c) = EDITS
    second[a[1] : a[3], a[0] : a[2]] = (220, 20, 20)  # a red patch
    second[b[1] : b[3], b[0] : b[2]] = second[b[1] : b[3], b[0] : b[2]][:, ::-1]  # mirrored
    second[c[1] : c[3], c[0] : c[2]] = 15  # a dark patch
    return first, second


def puzzle(layout: str, gutter: int, frame: int, colour: int = 255) -> np.ndarray:
    """The two pictures side by side (``left-right``) or one above the other, with a plain ``gutter``
    between them and a plain ``frame`` around both."""
    first, second = pictures()
    joined = (
        np.concatenate([first, np.full((192, gutter, 3), colour, np.uint8), second], axis=1)
        if layout == "left-right"
        else np.concatenate([first, np.full((gutter, 192, 3), colour, np.uint8), second], axis=0)
    )
    return np.pad(joined, ((frame, frame), (frame, frame), (0, 0)), constant_values=colour)


def _save(path: Path, pixels: np.ndarray) -> Path:
    Image.fromarray(pixels).save(path, quality=92)
    return path


@pytest.mark.parametrize(
    ("layout", "gutter", "frame", "name"),
    [
        ("left-right", 10, 12, "puzzle.jpg"),  # a printed puzzle: white gutter and frame, JPEG
        ("top-bottom", 0, 0, "puzzle.png"),  # two renders stacked, nothing between them
        ("left-right", 6, 0, "dark.png"),
    ],
)
def test_the_panels_are_found_and_their_differences_boxed(
    tmp_path: Path, layout: str, gutter: int, frame: int, name: str
) -> None:
    colour = 0 if name == "dark.png" else 255
    path = _save(tmp_path / name, puzzle(layout, gutter, frame, colour))
    panels = split_panels(path)
    assert panels.layout == layout and panels.gutter == gutter and panels.similarity > 0.9
    offset = 192 + gutter
    first = (frame, frame, frame + 192, frame + 192)
    second = (
        (frame + offset, frame, frame + offset + 192, frame + 192)
        if layout == "left-right"
        else (frame, frame + offset, frame + 192, frame + offset + 192)
    )
    assert panels.boxes == (first, second)
    assert panels.first.pixels.shape == panels.second.pixels.shape == (192, 192, 3)
    assert panels.first.info.path == f"{path} [{'left' if layout == 'left-right' else 'top'}]"
    assert "panel of" in panels.second.info.notes[-1]
    result = compare(panels.first, panels.second, fast=True)
    # Each edit lies in a region found (JPEG's noise may add a speck at a panel's edge, no more).
    for x0, y0, x1, y1 in EDITS:
        assert any(
            r.box[0] <= x0 + 4 and r.box[1] <= y0 + 4 and r.box[2] >= x1 - 4 and r.box[3] >= y1 - 4
            for r in result.regions
        ), (x0, y0, [r.box for r in result.regions])
    assert len(result.regions) <= len(EDITS) + 2


def test_a_title_above_framed_pictures_stays_out_of_the_panels(tmp_path: Path) -> None:
    # A printed puzzle: a line of text over both pictures (across the gutter), each picture in a thin
    # black frame, the second placed a pixel lower. Cut at the gutter, each panel held half the title
    # and the halves correlated at 0.45: refused.
    from PIL import ImageDraw

    first, second = (np.pad(p, ((2, 2), (2, 2), (0, 0))) for p in pictures())  # 196x196 with the frame
    page = np.full((290, 460, 3), 250, np.uint8)
    page[60:256, 20:216] = first
    page[61:257, 247:443] = second
    drawn = Image.fromarray(page)
    ImageDraw.Draw(drawn).text((150, 20), "Find the 3 differences!", fill=(20, 20, 20))
    path = tmp_path / "titled.jpg"
    drawn.save(path, quality=88)
    panels = split_panels(path)
    assert panels.layout == "left-right" and panels.boxes == ((20, 60, 216, 256), (247, 61, 443, 257))
    result = compare(panels.first, panels.second, fast=True)
    assert len(result.regions) == len(EDITS)  # the three edits, nothing of the title
    for x0, y0, x1, y1 in EDITS:  # in the framed picture, 2 pixels further in
        assert any(r.box[0] <= x0 + 6 and r.box[1] <= y0 + 6 and r.box[2] >= x1 - 2 and r.box[3] >= y1 - 2
                   for r in result.regions), (x0, y0, [r.box for r in result.regions])  # fmt: skip


def test_an_image_of_one_picture_is_refused_unless_the_layout_is_named(tmp_path: Path) -> None:
    path = _save(tmp_path / "photo.png", pictures()[0])
    with pytest.raises(InvalidArgumentError, match=r"halves do not look alike \(correlation .*Fix: crop"):
        split_panels(path)
    named = split_panels(path, "top-bottom")
    assert named.layout == "top-bottom" and named.boxes == ((0, 0, 192, 96), (0, 96, 192, 192))
    with pytest.raises(InvalidArgumentError, match="Expected a layout from auto, left-right, top-bottom"):
        split_panels(path, "diagonal")
    # A sliver split the long way: refused, not two empty panels.
    sliver = _save(tmp_path / "sliver.png", pictures()[0][:1])
    with pytest.raises(InvalidArgumentError, match=r"leaves panels of 192x0 pixels"):
        split_panels(sliver, "top-bottom")


def test_compare_takes_the_panels_of_one_image(tmp_path: Path) -> None:
    # The puzzle named like an output and written into the output folder: kept.
    out = tmp_path / "out"
    out.mkdir()
    path = _save(out / "reference.png", puzzle("left-right", 8, 0))
    original = path.read_bytes()
    runner = CliRunner()
    arguments = ["compare", str(path), "-o", str(out), "--fast", "--realness-model", "none"]
    result = runner.invoke(app, [*arguments, "--panels", "auto"])
    assert result.exit_code == 2 and "it is one of the inputs" in result.output
    assert path.read_bytes() == original
    elsewhere = ["compare", str(path), "-o", str(tmp_path / "report"), "--fast", "--realness-model", "none"]
    result = runner.invoke(app, [*elsewhere, "--panels", "auto"])
    assert result.exit_code == 0, result.output
    assert "regions that differ: 3" in result.output and "the right panel of" in result.output
    # No test image and no --panels, or both: refused with the fix.
    result = runner.invoke(app, elsewhere)
    assert result.exit_code == 2 and "pass --panels to compare the two pictures" in result.output
    result = runner.invoke(app, [*elsewhere[:2], str(path), *elsewhere[2:], "--panels", "auto"])
    assert result.exit_code == 2 and "got both. Fix: drop the test image" in result.output


def test_detect_takes_the_panels_of_one_image(tmp_path: Path) -> None:
    import json

    path = _save(tmp_path / "pair.png", puzzle("top-bottom", 4, 0))
    out = tmp_path / "detect"
    result = CliRunner().invoke(app, ["detect", str(path), "--panels", "auto", "-o", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "detect.json").read_text())
    assert (summary["reference"], summary["test"]) == (f"{path} [top]", f"{path} [bottom]")
    assert "the bottom panel of" in result.output
    result = CliRunner().invoke(app, ["detect", str(path), "-o", str(out)])
    assert result.exit_code == 2 and "pass --panels to compare the two pictures" in result.output
