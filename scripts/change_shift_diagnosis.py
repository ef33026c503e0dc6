"""What a small misalignment does to the change detector, on unchanged pairs (a diagnosis; decides nothing).

For every pair of the given ``--feature none`` datasets (all splits), the test image is shifted right by each
of ``--shifts`` pixels (bilinear, edges replicated), as a student's render with its camera a little off
would be. Each shifted pair is scored twice with the same model at its stored thresholds:

- ``detect``: the model on the pair as it is (``synthdiff detect --align none``; before detect had
  ``--align``, this was all it did);
- ``compare``: ``synthdiff compare --change-model`` (it registers the test image onto the reference first,
  as ``synthdiff detect`` now does by default).

Nothing changed in these pairs, so every marked pixel is a false alarm. The figure is the share of all
pixels marked as changed for some feature, pooled over the pairs, and the share of pairs with any marked
pixel.

    python scripts/change_shift_diagnosis.py --data data/change/fresh211-none data/change/fresh223-none \\
        --out runs/shift-diagnosis.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from synthdiff import compare
from synthdiff.change._data import read_manifest
from synthdiff.change._infer import predict_maps
from synthdiff.change._registry import load_checkpoint
from synthdiff.io import load_image


def shifted(image: np.ndarray, pixels: float) -> np.ndarray:
    """``image`` moved right by ``pixels`` (bilinear; the uncovered edge repeats the first column)."""
    height, width = image.shape[:2]
    matrix = np.array([[1.0, 0.0, pixels], [0.0, 1.0, 0.0]], np.float32)
    return cv2.warpAffine(
        image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def marked(masks: dict[str, np.ndarray]) -> np.ndarray:
    """Pixels marked as changed for some feature."""
    return np.logical_or.reduce(list(masks.values()))


def diagnose(folders: list[str], model_name: str, shifts: list[float]) -> dict[str, Any]:
    """Marked pixels and pairs per shift, for ``detect`` and ``compare``, over the pairs of ``folders``."""
    model, metadata = load_checkpoint(model_name, device="cpu")
    features = list(metadata["features"])
    pairs = [pair for folder in folders for pair in read_manifest(folder)]
    totals = {
        path: {s: {"marked": 0, "pixels": 0, "pairs_marked": 0} for s in shifts}
        for path in ("detect", "compare")
    }
    for pair in pairs:
        reference = load_image(pair.root / pair.record["reference"]).pixels
        test = load_image(pair.root / pair.record["test"]).pixels
        for shift in shifts:
            moved = shifted(test, shift)
            maps = predict_maps(
                model,
                features,
                reference,
                moved,
                threshold=metadata["thresholds"],
                low_threshold=metadata["low_thresholds"],
                min_area=metadata["min_area"],
            )
            aligned = compare(reference, moved, fast=True, change_model=model_name, device="cpu")
            assert aligned.feature_maps is not None
            for path, masks in (
                ("detect", {f: maps.changed(f) for f in features}),
                ("compare", {f: aligned.feature_maps.changed(f) for f in features}),
            ):
                any_marked = marked(masks)
                entry = totals[path][shift]
                entry["marked"] += int(any_marked.sum())
                entry["pixels"] += any_marked.size
                entry["pairs_marked"] += int(any_marked.any())
    return {
        "model": model_name,
        "data": folders,
        "pairs": len(pairs),
        "shifts": shifts,
        "results": {
            path: {
                str(shift): {
                    "marked_fraction": entry["marked"] / entry["pixels"] if entry["pixels"] else None,
                    "pairs_with_marks": entry["pairs_marked"],
                }
                for shift, entry in by_shift.items()
            }
            for path, by_shift in totals.items()
        },
    }


def table(result: dict[str, Any]) -> str:
    """A markdown table: one row per shift, marked share and pairs with marks for both paths."""
    lines = [
        f"{result['pairs']} unchanged pairs, model `{result['model']}`.",
        "",
        "| test image shifted by | as given (detect --align none): pixels marked | pairs with marks "
        "| aligned first (compare, detect): pixels marked | pairs with marks |",
        "| --- | --- | --- | --- | --- |",
    ]
    for shift in result["shifts"]:
        detect, aligned = (result["results"][path][str(shift)] for path in ("detect", "compare"))
        lines.append(
            f"| {shift:g} px | {100 * detect['marked_fraction']:.3f} % | {detect['pairs_with_marks']} | "
            f"{100 * aligned['marked_fraction']:.3f} % | {aligned['pairs_with_marks']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", nargs="+", required=True, help="Datasets of unchanged pairs (generate --feature none)."
    )
    parser.add_argument("--model", default="fresunet-wide")
    parser.add_argument("--shifts", default="0,0.5,1,2,4", help="Shifts in pixels, comma-separated.")
    parser.add_argument(
        "--out", type=Path, required=True, help="JSON file for the figures (a .md table beside it)."
    )
    args = parser.parse_args()
    result = diagnose(args.data, args.model, [float(s) for s in args.shifts.split(",")])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(table(result) + "\n")
    print(table(result))


if __name__ == "__main__":
    main()
