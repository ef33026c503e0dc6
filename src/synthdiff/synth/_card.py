"""The dataset card (README.md) and contact sheet written beside a generated dataset."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from synthdiff.synth._options import LABEL_FEATURES

__all__ = ["label_statistics", "write_card"]

SHEET_ROWS = 8
THUMB = 160


def label_statistics(records: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per changed label feature: mean and median changed fraction, and the share of empty maps."""
    stats: dict[str, dict[str, float]] = {}
    for name in LABEL_FEATURES:
        fractions = [r["change_fraction"][name] for r in records if name in r["changed_labels"]]
        if not fractions:
            continue
        stats[name] = {
            "pairs": len(fractions),
            "mean_changed_fraction": round(statistics.fmean(fractions), 5),
            "median_changed_fraction": round(statistics.median(fractions), 5),
            "empty_share": round(sum(f == 0 for f in fractions) / len(fractions), 4),
        }
    return stats


def _thumbnail(path: Path) -> Image.Image:
    image = Image.open(path).convert("RGB")
    image.thumbnail((THUMB, THUMB))
    return image


def _overlay(test: Path, masks: list[Path]) -> Image.Image:
    image = np.asarray(Image.open(test).convert("RGB"), dtype=np.float32)
    changed = np.zeros(image.shape[:2], dtype=bool)
    for mask in masks:
        changed |= np.asarray(Image.open(mask)) > 0
    image[changed] = 0.45 * image[changed] + 0.55 * np.array([255, 0, 64], dtype=np.float32)
    result = Image.fromarray(image.astype(np.uint8))
    result.thumbnail((THUMB, THUMB))
    return result


def contact_sheet(out: Path, records: list[dict[str, Any]]) -> Image.Image:
    """Rows of reference | test | changed pixels in red, for the first pairs of a few scenes."""
    chosen = records[:: max(1, len(records) // SHEET_ROWS)][:SHEET_ROWS]
    columns = 3
    sheet = Image.new("RGB", (columns * (THUMB + 8) + 8, 24 + len(chosen) * (THUMB + 24)), "white")
    draw = ImageDraw.Draw(sheet)
    for column, title in enumerate(("reference", "test", "change (red)")):
        draw.text((8 + column * (THUMB + 8), 6), title, fill="black")
    for row, record in enumerate(chosen):
        top = 24 + row * (THUMB + 24)
        masks = [out / record["labels"]["change"][n] for n in record["changed_labels"]]
        tiles = [
            _thumbnail(out / record["reference"]),
            _thumbnail(out / record["test"]),
            _overlay(out / record["test"], masks),
        ]
        for column, tile in enumerate(tiles):
            sheet.paste(tile, (8 + column * (THUMB + 8), top))
        draw.text((8, top + THUMB + 4), record["pair_id"], fill="black")
    return sheet


def write_card(out: Path, settings: dict[str, Any], records: list[dict[str, Any]]) -> None:
    """Write README.md (the dataset card) and contact_sheet.png into the dataset folder."""
    options = settings["options"]
    splits = {name: [r for r in records if r["split"] == name] for name in ("train", "val", "test")}
    lines = [
        f"# synthdiff dataset: {options['feature']}",
        "",
        f"Made by {settings['generator']} (labels version {settings['labels_version']}) with "
        f"{records[0]['render']['engine'] if records else 'Blender Cycles'}.",
        "",
        "| setting | value |",
        "| --- | --- |",
    ]
    for key in (
        "feature",
        "scenes",
        "variants",
        "width",
        "height",
        "samples",
        "denoise",
        "seed",
        "scene_file",
    ):
        lines.append(f"| {key} | {options[key]} |")
    lines += [
        "",
        "## Pairs",
        "",
        "| split | scenes | pairs |",
        "| --- | --- | --- |",
    ]
    for name, chosen in splits.items():
        lines.append(f"| {name} | {len({r['scene_id'] for r in chosen})} | {len(chosen)} |")
    lines.append(f"| all | {len({r['scene_id'] for r in records})} | {len(records)} |")
    stats = label_statistics(records)
    if stats:
        lines += [
            "",
            "## Change labels",
            "",
            "Fraction of the image marked as changed, over the pairs where that feature was changed.",
            "",
            "| label | pairs | mean | median | empty maps |",
            "| --- | --- | --- | --- | --- |",
        ]
        for name, values in stats.items():
            lines.append(
                f"| {name} | {values['pairs']:.0f} | {values['mean_changed_fraction']:.4f} | "
                f"{values['median_changed_fraction']:.4f} | {100 * values['empty_share']:.1f}% |"
            )
    if records:
        lines += [
            "",
            "## Segmentation labels",
            "",
            "Mean fraction of the image where each feature is present.",
            "",
            "| label | reference | test |",
            "| --- | --- | --- |",
        ]
        for name in LABEL_FEATURES:
            reference = statistics.fmean(r["seg_fraction"]["reference"][name] for r in records)
            test = statistics.fmean(r["seg_fraction"]["test"][name] for r in records)
            lines.append(f"| {name} | {reference:.4f} | {test:.4f} |")
    noise = [r["label_noise"]["illumination"] for r in records if "label_noise" in r]
    if noise:
        lines += [
            "",
            "## Label noise",
            "",
            "On these unchanged pairs the illumination rule, applied anyway, marks a mean of "
            f"{statistics.fmean(noise):.5f} of the pixels (max {max(noise):.5f}); "
            "the change maps written are empty.",
        ]
    lines += [
        "",
        "## Files",
        "",
        "`manifest.jsonl` has one line per pair; `splits/{train,val,test}.txt` list pair ids",
        "(split by scene);",
        "the layout and label definitions are in synthdiff's docs/generate.md and docs/labels.md.",
        "",
        "![contact sheet](contact_sheet.png)",
        "",
    ]
    (out / "README.md").write_text("\n".join(lines))
    if records:
        contact_sheet(out, records).save(out / "contact_sheet.png")
