"""Picture panels shared by the reports: heatmaps and boxes drawn on images."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from synthdiff.errors import InvalidArgumentError
from synthdiff.io import encode_png, image_array

__all__ = ["draw_boxes", "encode_panels", "heatmap"]


def encode_panels(makers: Mapping[str, Callable[[], np.ndarray]]) -> dict[str, bytes]:
    """PNG bytes of each panel, by name in the order given, each made by its function when encoded.

    Colour mapping and OpenCV's PNG encoder release the GIL, so the panels are made on a thread per
    core (at most four): a 1080p report's panels take about half the time on two cores. The bytes are
    those of ``encode_png(make())`` one after another.
    """
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        encoded = pool.map(lambda make: encode_png(make()), makers.values())
        return dict(zip(makers, encoded, strict=True))


def heatmap(
    values: np.ndarray, *, vmin: float = 0.0, vmax: float = 1.0, colormap: str = "magma"
) -> np.ndarray:
    """Colour an HxW map with a matplotlib colormap.

    Args:
        values: HxW float array; NaN (no value there) is drawn mid-grey.
        vmin: value shown with the colormap's first colour.
        vmax: value shown with its last colour.
        colormap: matplotlib colormap name.

    Returns:
        HxWx3 uint8 RGB image.
    """
    from matplotlib import colormaps

    span = vmax - vmin if vmax > vmin else 1.0
    values = np.asarray(values, dtype=np.float32)
    missing = np.isnan(values)
    normalised = np.clip((np.where(missing, vmin, values) - vmin) / span, 0.0, 1.0)
    table = (colormaps[colormap](np.linspace(0.0, 1.0, 256))[:, :3] * 255).round().astype(np.uint8)
    coloured = table[np.round(normalised * 255).astype(np.intp)]
    coloured[missing] = 128  # an IndexError before: NaN cast to a huge negative index
    return coloured


def draw_boxes(
    image: np.ndarray,
    boxes: Sequence[tuple[int, int, int, int]],
    *,
    colour: tuple[int, int, int] = (255, 40, 200),
    numbers: Sequence[int] | None = None,
) -> np.ndarray:
    """Draw numbered boxes on a copy of an image.

    Args:
        image: HxWx3 float image, sRGB-encoded in [0, 1] (uint8 and uint16 images are scaled; an HxW
            image is grey).
        boxes: (x0, y0, x1, y1) boxes in the image's pixel coordinates, x1/y1 exclusive.
        colour: RGB outline colour.
        numbers: the number written by each box (a report's row numbers, when the boxes drawn are some
            of its rows); default 1, 2, ...

    Returns:
        HxWx3 uint8 RGB image with the boxes and their numbers.

    Raises:
        InvalidArgumentError: not an image array, or one holding NaN or infinite values
            (:func:`synthdiff.io.image_array`); as many numbers as boxes were not given.
    """
    if numbers is not None and len(numbers) != len(boxes):
        raise InvalidArgumentError(
            f"Expected a number for each of the {len(boxes)} boxes, got {len(numbers)}."
        )
    pixels = image_array(image)
    canvas = np.ascontiguousarray(np.round(np.clip(pixels, 0.0, 1.0) * 255).astype(np.uint8))
    thickness = max(1, round(min(canvas.shape[:2]) / 300))
    scale = max(0.35, min(canvas.shape[:2]) / 800)
    labels = range(1, len(boxes) + 1) if numbers is None else numbers
    for number, (x0, y0, x1, y1) in zip(labels, boxes, strict=True):
        cv2.rectangle(canvas, (x0, y0), (max(x0, x1 - 1), max(y0, y1 - 1)), colour, thickness)
        cv2.putText(
            canvas,
            str(number),
            (x0 + 2, max(y0 - 3, 10)),
            cv2.FONT_HERSHEY_SIMPLEX,
            scale,
            colour,
            thickness,
            cv2.LINE_AA,
        )
    return canvas
