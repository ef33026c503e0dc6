"""The report of ``synthdiff compare``: report.json, a self-contained index.html and PNG panels."""

from __future__ import annotations

import base64
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from jinja2 import Environment, PackageLoader, select_autoescape

from synthdiff._text import signed
from synthdiff.align._panels import panel_source
from synthdiff.io import atomic_write_text
from synthdiff.io._write import atomic_write_bytes, output_folder
from synthdiff.metrics import METRICS
from synthdiff.report._panels import draw_boxes, encode_panels, heatmap

if TYPE_CHECKING:
    from synthdiff.diff import Comparison

__all__ = ["render_compare_html", "write_compare_report"]

#: Differences at or above this (in [0, 1] sRGB units) show with the colormap's brightest colour.
DIFFERENCE_SCALE = 0.25
#: Small images are enlarged in the slider/flicker viewer until their longer side nears this (pixels).
VIEWER_SIDE = 640


def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("synthdiff.report", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["signed"] = signed
    return environment


def _panels(comparison: Comparison) -> dict[str, bytes]:
    boxes = [region.box for region in comparison.regions]
    boxes_test = [region.box_test for region in comparison.regions]
    makers: dict[str, Callable[[], np.ndarray]] = {
        "reference.png": lambda: comparison.reference,
        "test.png": lambda: comparison.test,
        "difference.png": lambda: heatmap(comparison.difference, vmax=DIFFERENCE_SCALE, colormap="inferno"),
        "ssim.png": lambda: heatmap(1.0 - comparison.ssim_map, vmax=1.0, colormap="viridis"),
        "boxes_reference.png": lambda: draw_boxes(comparison.reference, boxes),
        "boxes_test.png": lambda: draw_boxes(comparison.test_original, boxes_test),
    }
    flip_map = comparison.flip_map
    if flip_map is not None:
        makers["flip.png"] = lambda: heatmap(flip_map, vmax=1.0, colormap="magma")
    if comparison.feature_maps is not None:
        for name in comparison.feature_maps.features:
            probability = comparison.feature_maps.change[name]
            makers[f"feature_{name}.png"] = partial(heatmap, probability, vmax=1.0, colormap="magma")
    return encode_panels(makers)


def _format(value: float | None) -> str:
    if value is None:
        return "n/a"
    if np.isinf(value):
        return "∞"
    if abs(value) >= 100 or value == int(value):
        return f"{value:.6g}"
    return f"{value:.4f}"


def png_data_uri(data: bytes) -> str:
    """PNG bytes as a ``data:`` URI, so that a page embeds its images and opens offline alone."""
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def render_compare_html(comparison: Comparison, panels: dict[str, bytes]) -> str:
    """The self-contained HTML page for a comparison, with every panel embedded as a data URI."""
    uris = {name: png_data_uri(data) for name, data in panels.items()}
    rows = [
        {
            "name": name,
            "value": _format(value),
            "better": "higher" if METRICS[name].higher_is_better else "lower",
            "description": METRICS[name].description,
            "note": comparison.metric_notes.get(name, ""),
        }
        for name, value in comparison.metrics.items()
    ]
    report = comparison.to_dict()
    height, width = comparison.reference.shape[:2]
    return (
        _environment()
        .get_template("compare.html")
        .render(
            report=report,
            rows=rows,
            uris=uris,
            width=width,
            height=height,
            zoom=viewer_zoom(width, height),
        )
    )


def viewer_zoom(width: int, height: int, target: int = VIEWER_SIDE) -> int:
    """The whole factor by which the slider/flicker viewer enlarges a small image (1 for large ones).

    A whole factor keeps every pixel square and sharp; the enlarged image's longer side stays within
    ``target`` pixels.

    Example:
        >>> viewer_zoom(64, 48), viewer_zoom(300, 200), viewer_zoom(1920, 1080)
        (10, 2, 1)
    """
    return max(1, min(target // width, target // height))


def write_compare_report(comparison: Comparison, directory: Path) -> Path:
    """Write ``report.json``, ``index.html`` and the PNG panels of a comparison.

    Args:
        comparison: the result of :func:`synthdiff.compare`.
        directory: output folder, created if needed.

    Returns:
        The path of ``index.html``.

    Raises:
        OutputError: an output would overwrite an input image, the folder holds an index.html that
            synthdiff did not write, or the folder is not writable.
    """
    protected = [comparison.reference_info.path, comparison.test_info.path]
    # A panel of one image (synthdiff.align.split_panels) is named "FILE [left]": FILE is the input.
    protected = [panel_source(path) for path in protected]
    protected = [path for path in protected if not path.startswith("<")]
    output_folder(directory, page="index.html")
    panels = _panels(comparison)
    for name, data in panels.items():
        atomic_write_bytes(directory / name, data, protected=protected)
    atomic_write_text(directory / "report.json", comparison.to_json() + "\n", protected=protected)
    return atomic_write_text(
        directory / "index.html", render_compare_html(comparison, panels), protected=protected
    )
