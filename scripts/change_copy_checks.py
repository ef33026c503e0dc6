"""The figures of docs/change.md's "One picture twice has nothing changed": what the change detector marks
on an image compared with itself (with the rule that clears such pairs switched off, as before it
existed, and on), on copies saved again as JPEG, and, on a dataset's test pairs, how much of the
unchanged picture is bit-identical and how many marked pixels lie in regions where the pair is
identical everywhere.

    python scripts/change_copy_checks.py --model fresunet-wide \\
        --handmade data/unseen-640x480 --out docs/training-logs/copy-checks.json

Images: the bundled example renders (320x240: the one reference the three examples share, and their
three test renders) and a seeded white-noise image (256x256, uniform values, seed 0). The rule is
switched off by setting its tolerance to zero (``synthdiff.change._infer.IDENTICAL_TOLERANCE``), so the
model's own answer is what is counted.
"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from scipy import ndimage

import synthdiff.change._infer as infer
from synthdiff.change import ChangePairs, load_checkpoint, predict_maps
from synthdiff.io import load_image

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def detected(model: Any, metadata: dict[str, Any], reference: np.ndarray, test: np.ndarray) -> Any:
    """The pair's change maps as detect makes them (the checkpoint's thresholds and working size)."""
    return predict_maps(
        model,
        metadata["features"],
        reference,
        test,
        threshold=metadata["thresholds"],
        low_threshold=metadata["low_thresholds"],
        min_area=metadata["min_area"],
        work_size=metadata["train_size"],
    )


def marked(model: Any, metadata: dict[str, Any], reference: np.ndarray, test: np.ndarray) -> dict[str, float]:
    """Per feature, the percentage of the pair's pixels marked as changed (as detect marks them)."""
    maps = detected(model, metadata, reference, test)
    return {name: round(100 * float(maps.changed(name).mean()), 4) for name in metadata["features"]}


def jpeg_copy(image: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray((image * 255).round().astype(np.uint8)).save(buffer, format="JPEG", quality=quality)
    return np.asarray(Image.open(buffer).convert("RGB"), np.float32) / 255


def identical_regions(model: Any, metadata: dict[str, Any], folder: Path) -> dict[str, Any]:
    """On ``folder``'s test pairs: the share of all pixels, and of the unchanged ones (no label marks
    them), that are bit-identical in the pair, and the marked pixels of every feature, with those in
    connected marked regions where the pair is bit-identical everywhere."""
    pairs = ChangePairs([folder], "test", metadata["features"])
    pixels = identical = unchanged = identical_unchanged = marked_pixels = in_identical_regions = 0
    for index in range(len(pairs)):
        item = pairs[index]
        reference = item["reference"].numpy().transpose(1, 2, 0)
        test = item["test"].numpy().transpose(1, 2, 0)
        same = (reference == test).all(axis=-1)
        quiet = ~(item["change"].numpy() > 0.5).any(axis=0)
        pixels += same.size
        identical += int(same.sum())
        unchanged += int(quiet.sum())
        identical_unchanged += int((quiet & same).sum())
        maps = detected(model, metadata, reference, test)
        for name in metadata["features"]:
            mask = maps.changed(name)
            marked_pixels += int(mask.sum())
            regions, count = ndimage.label(mask)
            if count:
                differing = ndimage.sum(~same, regions, index=np.arange(1, count + 1))
                sizes = ndimage.sum(mask, regions, index=np.arange(1, count + 1))
                in_identical_regions += int(sizes[differing == 0].sum())
    return {
        "pairs": len(pairs),
        "pixels_identical_percent": round(100 * identical / max(pixels, 1), 1),
        "unchanged_pixels_identical_percent": round(100 * identical_unchanged / max(unchanged, 1), 1),
        "marked_pixels": marked_pixels,
        "marked_in_identical_regions": in_identical_regions,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="fresunet-wide")
    parser.add_argument("--handmade", type=Path, help="a folder of generate datasets (texture, illumination)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    torch.set_num_threads(2)
    model, metadata = load_checkpoint(args.model, device="cpu")
    paths = [EXAMPLES / "wrong-light" / "reference.png", *sorted(EXAMPLES.glob("*/test.png"))]
    images = {str(path.relative_to(EXAMPLES)): load_image(path).pixels for path in paths}
    images["white noise 256x256 (seed 0)"] = np.random.default_rng(0).random((256, 256, 3), dtype=np.float32)
    report: dict[str, Any] = {"model": args.model, "itself_without_rule": {}, "itself": {}, "jpeg": {}}
    tolerance = infer.IDENTICAL_TOLERANCE
    for name, image in images.items():
        infer.IDENTICAL_TOLERANCE = 0.0  # the rule off: nothing is "one picture"
        report["itself_without_rule"][name] = marked(model, metadata, image, image)
        infer.IDENTICAL_TOLERANCE = tolerance
        report["itself"][name] = marked(model, metadata, image, image)
        if "noise" not in name:
            report["jpeg"][name] = {q: marked(model, metadata, image, jpeg_copy(image, q)) for q in (75, 95)}
        print(name, json.dumps({key: report[key].get(name) for key in report if key != "model"}), flush=True)
    if args.handmade is not None:
        report["handmade"] = {
            feature: identical_regions(model, metadata, args.handmade / feature)
            for feature in ("texture", "illumination")
        }
        print(json.dumps(report["handmade"]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
