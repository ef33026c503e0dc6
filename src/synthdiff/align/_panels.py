"""Splitting one image that holds two pictures (a spot-the-difference puzzle) into its two panels."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np

from synthdiff.errors import InvalidArgumentError
from synthdiff.io import LoadedImage, hdr_to_display, load_image

__all__ = ["PANEL_LAYOUTS", "Panels", "panel_source", "split_panels"]

#: ``auto`` tries both layouts and keeps the one whose two halves look most alike.
PANEL_LAYOUTS = ("auto", "left-right", "top-bottom")
# A gutter line is one whose pixels vary by less than this (grey, sRGB-encoded in [0, 1]): a plain
# border, JPEG noise included.
_GUTTER_STD = 0.03
# The gutter is looked for in this middle part of the image only (as fractions of its length).
_GUTTER_BAND = (0.3, 0.7)
# Below this correlation of the two halves they are no picture shown twice.
_MIN_SIMILARITY = 0.5
_SIDE = 96  # the halves are compared at this size
Box = tuple[int, int, int, int]  # (x0, y0, x1, y1), x1 and y1 exclusive


_PANEL_NAME = re.compile(r" \[(left|right|top|bottom)\]$")


def panel_source(path: str) -> str:
    """The file behind an image's name: ``FILE`` for a panel named ``FILE [left]`` (see
    :func:`split_panels`), else the name itself. Outputs must never replace that file.

    Example:
        >>> panel_source("puzzle.jpg [right]"), panel_source("render.png")
        ('puzzle.jpg', 'render.png')
    """
    return _PANEL_NAME.sub("", path)


@dataclass(frozen=True)
class Panels:
    """The two pictures of one image, as a reference and a test image for :func:`synthdiff.compare`.

    Attributes:
        first: the left (or top) panel, with the source's pixels (native values) and a note.
        second: the right (or bottom) panel, cut to the first's size.
        layout: ``left-right`` or ``top-bottom``.
        boxes: each panel's ``(x0, y0, x1, y1)`` in the source image (x1, y1 exclusive): add a
            panel's ``x0, y0`` to a box found in it to place that box on the source.
        gutter: the width of the plain band found between the panels (0 when they touch).
        similarity: the correlation of the two panels' grey thumbnails (1: the same picture).
    """

    first: LoadedImage
    second: LoadedImage
    layout: str
    boxes: tuple[Box, Box]
    gutter: int
    similarity: float


def _gutter(grey: np.ndarray) -> tuple[int, int]:
    """The longest run of plain columns in the middle band of ``grey`` (HxW), as ``(start, end)``,
    or the middle column twice when there is none."""
    width = grey.shape[1]
    low, high = int(_GUTTER_BAND[0] * width), int(np.ceil(_GUTTER_BAND[1] * width))
    plain = grey[:, low:high].std(axis=0) < _GUTTER_STD
    best, start = (width // 2, width // 2), None
    for index, flag in enumerate([*plain, False]):
        if flag and start is None:
            start = index
        elif not flag and start is not None:
            if index - start > best[1] - best[0]:
                best = (low + start, low + index)
            start = None
    return best


def _content_box(grey: np.ndarray) -> tuple[int, int, int, int]:
    """``(x0, y0, x1, y1)`` of ``grey`` without its plain outer rows and columns (a frame around the
    two panels), or the whole image when nothing else would be left."""
    rows = np.flatnonzero(grey.std(axis=1) >= _GUTTER_STD)
    columns = np.flatnonzero(grey.std(axis=0) >= _GUTTER_STD)
    if rows.size < 2 or columns.size < 2:
        return 0, 0, grey.shape[1], grey.shape[0]
    return int(columns[0]), int(rows[0]), int(columns[-1]) + 1, int(rows[-1]) + 1


def _similarity(first: np.ndarray, second: np.ndarray) -> float:
    """Correlation of two grey images' small thumbnails (after the best shift of a few pixels)."""
    size = (_SIDE, max(1, round(_SIDE * first.shape[0] / first.shape[1])))
    a = cv2.resize(first, size, interpolation=cv2.INTER_AREA)
    b = cv2.resize(second, size, interpolation=cv2.INTER_AREA)
    # A panel may sit a few pixels off the other within its frame: the best of small shifts counts.
    margin = 6
    if min(a.shape) <= 2 * margin + 2:
        margin = 0
    inner = a[margin : a.shape[0] - margin, margin : a.shape[1] - margin]
    scores = cv2.matchTemplate(b.astype(np.float32), inner.astype(np.float32), cv2.TM_CCOEFF_NORMED)
    return float(np.nan_to_num(scores.max(), nan=0.0))


def _gutter_split(grey: np.ndarray, layout: str) -> tuple[Box, Box, int]:
    """The two panels of ``grey`` on either side of its gutter (or middle) for ``layout``, cut to one
    size, as boxes in ``grey``, and the gutter's width."""
    height, width = grey.shape
    if layout == "left-right":
        start, end = _gutter(grey)
        side = min(start, width - end)
        return (0, 0, side, height), (end, 0, end + side, height), end - start
    start, end = _gutter(np.ascontiguousarray(grey.T))
    side = min(start, height - end)
    return (0, 0, width, side), (0, end, width, end + side), end - start


def _picture_split(grey: np.ndarray) -> tuple[str, Box, Box, int] | None:
    """The two largest blobs of ``grey`` that are not its background (the colour of its border), when
    they are two pictures of about one size side by side or one above the other: a title, a caption
    or a frame line around them then stays out of the panels. Returns the layout, the two boxes cut
    to one size, and the gap between them; None when the image is not laid out so."""
    height, width = grey.shape
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    differs = (np.abs(grey - np.median(border)) > 2 * _GUTTER_STD).astype(np.uint8)
    # Close the small gaps a picture's own background-coloured details leave.
    radius = max(1, min(height, width) // 200)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    closed = cv2.morphologyEx(differs, cv2.MORPH_CLOSE, kernel)
    count, _, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    if count < 3:
        return None
    largest = sorted(range(1, count), key=lambda k: stats[k, cv2.CC_STAT_AREA], reverse=True)[:2]
    boxes = [
        (int(x), int(y), int(x + w), int(y + h))
        for x, y, w, h in (stats[k, :4] for k in sorted(largest, key=lambda k: tuple(stats[k, :2])))
    ]
    (ax0, ay0, ax1, ay1), (bx0, by0, _, by1) = boxes
    sizes = [(x1 - x0, y1 - y0) for x0, y0, x1, y1 in boxes]
    if min(w * h for w, h in sizes) < 0.1 * height * width:
        return None
    if any(abs(a - b) > 0.15 * max(a, b) for a, b in zip(sizes[0], sizes[1], strict=True)):
        return None
    side_w, side_h = min(sizes[0][0], sizes[1][0]), min(sizes[0][1], sizes[1][1])
    if bx0 >= ax1:
        layout, gap = "left-right", bx0 - ax1
    elif by0 >= ay1 or ay0 >= by1:
        layout, gap = "top-bottom", max(by0 - ay1, ay0 - by1)
        if ay0 >= by1:  # the upper picture comes first
            (ax0, ay0), (bx0, by0) = (bx0, by0), (ax0, ay0)
    else:
        return None  # overlapping boxes: no two pictures apart
    return layout, (ax0, ay0, ax0 + side_w, ay0 + side_h), (bx0, by0, bx0 + side_w, by0 + side_h), gap


def split_panels(
    image: str | os.PathLike[str] | LoadedImage, layout: str = "auto", **load_options: Any
) -> Panels:
    """Split an image holding two pictures side by side or one above the other into the two.

    The panels are the two largest blobs that differ from the page, when they are two pictures of
    about one size (a title or frame around them then stays out), or the two sides of the widest
    plain band (one colour, a gutter) in the middle of the image, or of its middle when there is none;
    of these, the split whose panels look most alike is kept (``auto``; else the one of the layout
    named). Both panels are cut to the same size (the smaller of the two); a picture placed a few
    pixels off the other within its panel is left for the comparison's alignment (``align="auto"``).

    Args:
        image: a path or a :class:`~synthdiff.io.LoadedImage`.
        layout: ``auto``, ``left-right`` or ``top-bottom``.
        **load_options: passed to :func:`synthdiff.io.load_image` for a path (``alpha``, ...).

    Returns:
        The two panels, to compare as reference and test.

    Raises:
        InvalidArgumentError: an unknown layout, or with ``auto`` halves that are no picture shown
            twice (their thumbnails correlate under 0.5 either way); a layout named is split as told.
        SynthdiffError: the loading errors.

    Example:
        >>> panels = split_panels("puzzle.jpg")  # doctest: +SKIP
        >>> synthdiff.compare(panels.first, panels.second).regions  # doctest: +SKIP
    """
    if layout not in PANEL_LAYOUTS:
        raise InvalidArgumentError(
            f"Expected a layout from {', '.join(PANEL_LAYOUTS)}, got {layout!r}. Fix: pass auto to have it "
            "found."
        )
    loaded = image if isinstance(image, LoadedImage) else load_image(image, **load_options)
    pixels = loaded.pixels
    display = hdr_to_display(pixels) if loaded.info.is_hdr else np.clip(pixels, 0.0, 1.0)
    grey = display[..., :3].mean(axis=2).astype(np.float32)
    # A plain frame around both pictures would put one picture off the other within its panel.
    left, top, right, bottom = _content_box(grey)
    inner = grey[top:bottom, left:right]
    candidates: list[tuple[str, Box, Box, int]] = []
    pictures = _picture_split(grey)
    if pictures is not None and layout in ("auto", pictures[0]):
        candidates.append(pictures)
    for name in ("left-right", "top-bottom"):
        if layout in ("auto", name):
            first, second, gutter = _gutter_split(inner, name)
            shifted = tuple((x0 + left, y0 + top, x1 + left, y1 + top) for x0, y0, x1, y1 in (first, second))
            candidates.append((name, shifted[0], shifted[1], gutter))

    def similarity_of(candidate: tuple[str, Box, Box, int]) -> float:
        (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = candidate[1], candidate[2]
        if min(ax1 - ax0, ay1 - ay0) < 2:
            return 0.0
        return _similarity(grey[ay0:ay1, ax0:ax1], grey[by0:by1, bx0:bx1])

    scored = [(similarity_of(candidate), candidate) for candidate in candidates]
    similarity, (chosen, *boxes, gutter) = max(scored, key=lambda item: item[0])
    if layout == "auto" and similarity < _MIN_SIMILARITY:
        raise InvalidArgumentError(
            "Expected one image holding the same picture twice (left-right or top-bottom), but its halves "
            f"do not look alike (correlation {similarity:.2f}, at least {_MIN_SIMILARITY} expected). Fix: "
            "crop the two pictures into files of their own and compare those, or name the layout "
            "(left-right or top-bottom) to split it anyway."
        )
    panel_width, panel_height = boxes[0][2] - boxes[0][0], boxes[0][3] - boxes[0][1]
    if min(panel_width, panel_height) < 2:
        raise InvalidArgumentError(
            f"Expected two pictures in the {grey.shape[1]}x{grey.shape[0]} image, but a {chosen} split "
            f"leaves panels of {panel_width}x{panel_height} pixels. Fix: pass an image that holds both "
            "pictures, or the other layout."
        )
    names = ("left", "right") if chosen == "left-right" else ("top", "bottom")
    parts = []
    for (x0, y0, x1, y1), name in zip(boxes, names, strict=True):
        note = (
            f"the {name} panel of {loaded.info.path} (x {x0}-{x1}, y {y0}-{y1}; {chosen}, gutter "
            f"{gutter} px): boxes are in the panel's own coordinates"
        )
        info = replace(
            loaded.info,
            path=f"{loaded.info.path} [{name}]",
            width=x1 - x0,
            height=y1 - y0,
            notes=(*loaded.info.notes, note),
        )
        parts.append(LoadedImage(np.ascontiguousarray(pixels[y0:y1, x0:x1]), info))
    return Panels(parts[0], parts[1], chosen, (boxes[0], boxes[1]), gutter, round(similarity, 4))
