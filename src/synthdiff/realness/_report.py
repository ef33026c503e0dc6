"""Realness outputs: heatmap overlays, the bench report (JSON, CSV, contact sheet of mistakes)."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from synthdiff.realness._data import _load_8bit
from synthdiff.realness._evaluate import ECE_INTERVAL_MIN_IMAGES, RealnessEvaluation
from synthdiff.realness._score import RealnessScore

__all__ = ["BENCH_SCHEMA_VERSION", "heatmap_overlay", "write_bench"]

BENCH_SCHEMA_VERSION = "1.3"
THUMB = 160
# Heatmaps narrower than this are enlarged before their legend band (its words need about this much).
_LEGEND_MIN_WIDTH = 160
#: What a narrower image is enlarged to (at least) before its band is added: wide enough for the scale.
_ENLARGED_WIDTH = 320
#: ... unless that would make it taller than this.
_ENLARGED_HEIGHT = 4096


def heatmap_overlay(
    image: np.ndarray, score: RealnessScore, opacity: float = 0.45, legend: bool = True
) -> np.ndarray:
    """The image with each scored crop tinted by its probability (blue real, red synthetic).

    Args:
        image: HxWx3 sRGB in [0, 1], the image that was scored.
        legend: add a band below the image with the colour scale and the image's probability, so that
            the file explains itself. An image narrower than 160 pixels is first enlarged by the smallest
            whole factor that makes it 320 pixels wide or more (each pixel a square block), so the whole
            band fits and the picture can be seen.

    Returns:
        (kH + band)x(kW)x3 uint8, k the enlargement (1 for images 160 pixels wide or more); HxWx3 without
        the legend.
    """
    from matplotlib import colormaps

    if score.grid is None or score.crop_probabilities is None:
        raise ValueError("Expected a score with its crop grid (from score_image).")
    height, width = image.shape[:2]
    colour = np.zeros((height, width, 3), np.float32)
    weight = np.zeros((height, width, 1), np.float32)
    size, colormap = score.grid.size, colormaps["coolwarm"]
    for row, top in enumerate(score.grid.tops):
        for column, left in enumerate(score.grid.lefts):
            value = score.crop_probabilities[row, column]
            if np.isfinite(value):
                colour[top : top + size, left : left + size] += np.asarray(
                    colormap(float(value))[:3], np.float32
                )
                weight[top : top + size, left : left + size] += 1.0
    tinted = np.where(weight > 0, colour / np.maximum(weight, 1.0), image)
    mixed = (1 - opacity * (weight > 0)) * image + opacity * (weight > 0) * tinted
    overlay = (np.clip(mixed, 0, 1) * 255 + 0.5).astype(np.uint8)
    if not legend:
        return overlay
    # Too narrow for the band's words: enlarged to hold the whole band, scale included, pixels kept square
    # (and no taller than _ENLARGED_HEIGHT: a tall sliver of an image keeps its size and gets no band).
    factor = (
        min(-(-_ENLARGED_WIDTH // width), max(1, _ENLARGED_HEIGHT // height))
        if width < _LEGEND_MIN_WIDTH
        else 1
    )
    if width * factor < _LEGEND_MIN_WIDTH:
        return overlay
    if factor > 1:
        overlay = np.repeat(np.repeat(overlay, factor, axis=0), factor, axis=1)
    return np.concatenate([overlay, _legend_band(overlay.shape[1], score, colormap, opacity)], axis=0)


def _legend_band(width: int, score: RealnessScore, colormap: Any, opacity: float) -> np.ndarray:
    """A white band below the overlay: the tint of each probability on mid-grey (as a crop of that grey
    shows it), 0 to 1 left to right and labelled, and the image's own probability and verdict."""
    import cv2

    font = cv2.FONT_HERSHEY_SIMPLEX
    height = max(24, min(48, round(width / 24)))
    band = np.full((height, width, 3), 255, np.uint8)
    margin = max(2, height // 8)
    text = f"p(render) {score.probability_synthetic:.2f}: {score.verdict}"
    text_scale = height / 64
    (text_width, text_height), _ = cv2.getTextSize(text, font, text_scale, 1)
    label_scale = height / 96
    labels = ("real 0", "0.5", "1 render")
    bar_left, bar_right = margin, width - text_width - 4 * margin
    label_widths = [cv2.getTextSize(label, font, label_scale, 1)[0][0] for label in labels]
    if bar_right - bar_left >= sum(label_widths) + 4 * margin:  # else the probability alone
        values = np.linspace(0.0, 1.0, bar_right - bar_left)
        tint = np.asarray([colormap(float(v))[:3] for v in values], np.float32)
        row = np.clip(((1 - opacity) * 0.5 + opacity * tint) * 255 + 0.5, 0, 255).astype(np.uint8)
        band[margin : height // 2, bar_left:bar_right] = row[None]
        middle = (bar_left + bar_right - label_widths[1]) // 2
        for label, left in zip(labels, (bar_left, middle, bar_right - label_widths[2]), strict=True):
            cv2.putText(band, label, (left, height - margin), font, label_scale, (0, 0, 0), 1, cv2.LINE_AA)
    baseline = (height + text_height) // 2
    cv2.putText(
        band, text, (width - text_width - margin, baseline), font, text_scale, (0, 0, 0), 1, cv2.LINE_AA
    )
    return band


def _thumbnail(path: str) -> Image.Image:
    image = Image.fromarray(_load_8bit(Path(path)))
    image.thumbnail((THUMB, THUMB))
    return image


def _mistakes_sheet(evaluation: RealnessEvaluation, count: int = 12) -> Image.Image | None:
    """The most confident wrong answers, with their probability."""
    wrong = [r for r in evaluation.images if (r.probability >= 0.5) != bool(r.label)]
    wrong.sort(key=lambda r: -abs(r.probability - 0.5))
    if not wrong:
        return None
    chosen = wrong[:count]
    columns = min(4, len(chosen))
    rows = -(-len(chosen) // columns)
    sheet = Image.new("RGB", (columns * (THUMB + 8) + 8, rows * (THUMB + 36) + 8), "white")
    draw = ImageDraw.Draw(sheet)
    for index, result in enumerate(chosen):
        x, y = 8 + (index % columns) * (THUMB + 8), 8 + (index // columns) * (THUMB + 36)
        sheet.paste(_thumbnail(result.path), (x, y))
        label = "synthetic" if result.label else "real"
        draw.text((x, y + THUMB + 2), f"{label}, p(syn) {result.probability:.2f}", fill="black")
        draw.text((x, y + THUMB + 16), Path(result.path).name[:26], fill="dimgray")
    return sheet


def write_bench(
    evaluation: RealnessEvaluation, out: str | os.PathLike[str], model: dict[str, object]
) -> None:
    """Write bench.json (summary and every image), scores.csv, mistakes.png (if any) and index.html (a
    self-contained page of them) into ``out``."""
    from synthdiff.io import atomic_write_bytes, atomic_write_text, json_text, output_folder
    from synthdiff.report._bench_report import render_bench_html

    folder = output_folder(out, page="index.html")
    payload = {"schema_version": BENCH_SCHEMA_VERSION, "model": model, **evaluation.to_dict()}
    atomic_write_text(folder / "bench.json", json_text(payload))
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(
        [
            "path",
            "source",
            "label",
            "probability_synthetic",
            "probability_synthetic_jpeg75",
            "correct",
            "notes",
        ]
    )
    for r in evaluation.images:
        writer.writerow(
            [
                r.path,
                r.source,
                "synthetic" if r.label else "real",
                f"{r.probability:.5f}",
                f"{r.probability_jpeg75:.5f}",
                int((r.probability >= 0.5) == bool(r.label)),
                "; ".join(r.notes),
            ]
        )
    atomic_write_text(folder / "scores.csv", text.getvalue())
    sheet = _mistakes_sheet(evaluation)
    mistakes = None
    if sheet is not None:
        buffer = io.BytesIO()
        sheet.save(buffer, "PNG")
        mistakes = buffer.getvalue()
        atomic_write_bytes(folder / "mistakes.png", mistakes)
    else:  # a sheet from an earlier run would show mistakes this one did not make
        (folder / "mistakes.png").unlink(missing_ok=True)
    atomic_write_text(folder / "index.html", render_bench_html(payload, mistakes, ECE_INTERVAL_MIN_IMAGES))
