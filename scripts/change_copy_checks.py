"""The figures of docs/change.md's "One picture twice has nothing changed": what the change detector marks
on an image compared with itself (with the rule that clears such pairs switched off, as before it
existed, and on), on copies saved again as JPEG, and, on a dataset's test pairs, how much of the
unchanged picture is bit-identical and how many marked pixels lie in regions where the pair is
identical everywhere.

    python scripts/change_copy_checks.py --model fresunet-wide \\
        --handmade data/unseen-640x480 --eevee --out docs/training-logs/copy-checks.json

Images: the bundled example renders (320x240: the one reference the three examples share, and their
three test renders) and a seeded white-noise image (256x256, uniform values, seed 0). The rule is
switched off by setting its tolerance to zero (``synthdiff.change._infer.IDENTICAL_TOLERANCE``), so the
model's own answer is what is counted.

``--eevee`` renders the bundled exam scene (examples/exam.blend) with Blender's EEVEE at 320x240, once as
it is and once per change in ``EEVEE_CHANGES`` (in a child process: bpy), and counts, on each pair, the
bit-identical pixels and the marked pixels in connected regions where the pair is identical everywhere:
EEVEE is deterministic, so an unchanged part of a student's render is the reference's pixels exactly.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
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


#: What each EEVEE test render of the exam scene changes: a node input of a material, or an object's place.
EEVEE_CHANGES: dict[str, tuple[str, str, str, Any]] = {
    "reflection: sphere roughness 0.08": ("material", "sphere", "Roughness", 0.08),
    "transparency: cube transmission 0.9": ("material", "cube", "Transmission Weight", 0.9),
    "texture: cube base colour red": ("material", "cube", "Base Color", (0.8, 0.2, 0.2, 1.0)),
    "illumination: key light moved to x -3": ("object", "key", "location.x", -3.0),
}


def _render_eevee(scene: str, folder: str) -> None:
    """Render ``scene`` with EEVEE as it is (reference.png) and with each of EEVEE_CHANGES (N.png)."""
    import bpy

    for index, change in enumerate([None, *EEVEE_CHANGES.values()]):
        bpy.ops.wm.open_mainfile(filepath=scene)
        render = bpy.context.scene.render
        render.engine = "BLENDER_EEVEE"
        render.resolution_x, render.resolution_y, render.resolution_percentage = 320, 240, 100
        if change is not None:
            kind, name, setting, value = change
            if kind == "material":
                bpy.data.materials[name].node_tree.nodes["Principled BSDF"].inputs[
                    setting
                ].default_value = value
            else:
                bpy.data.objects[name].location.x = value
        render.filepath = str(Path(folder) / ("reference.png" if change is None else f"{index}.png"))
        render.image_settings.file_format = "PNG"
        bpy.ops.render.render(write_still=True)


def marked_in_identical_regions(maps: Any, features: list[str], same: np.ndarray) -> tuple[int, int]:
    """All marked pixels of the pair, and those in connected marked regions where it is identical."""
    marked_pixels = in_identical_regions = 0
    for name in features:
        mask = maps.changed(name)
        marked_pixels += int(mask.sum())
        regions, count = ndimage.label(mask)
        if count:
            differing = ndimage.sum(~same, regions, index=np.arange(1, count + 1))
            sizes = ndimage.sum(mask, regions, index=np.arange(1, count + 1))
            in_identical_regions += int(sizes[differing == 0].sum())
    return marked_pixels, in_identical_regions


def eevee_pairs(model: Any, metadata: dict[str, Any]) -> dict[str, Any]:
    """The exam scene rendered with EEVEE, as it is and changed: per change, the share of bit-identical
    pixels, what is marked, and the marked pixels in regions where the pair is identical everywhere."""
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            [sys.executable, __file__, "--render-eevee", folder, "--out", "-"],
            check=True,
            capture_output=True,
        )
        reference = load_image(Path(folder) / "reference.png").pixels
        report = {}
        for index, change in enumerate(EEVEE_CHANGES, start=1):
            test = load_image(Path(folder) / f"{index}.png").pixels
            same = (reference == test).all(axis=-1)
            maps = detected(model, metadata, reference, test)
            marked_pixels, in_identical = marked_in_identical_regions(maps, metadata["features"], same)
            report[change] = {
                "pixels_identical_percent": round(100 * float(same.mean()), 1),
                "marked_percent": {
                    name: round(100 * float(maps.changed(name).mean()), 2) for name in metadata["features"]
                },
                "marked_pixels": marked_pixels,
                "marked_in_identical_regions": in_identical,
            }
    return report


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
        pair_marked, pair_in_identical = marked_in_identical_regions(maps, metadata["features"], same)
        marked_pixels += pair_marked
        in_identical_regions += pair_in_identical
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
    parser.add_argument("--eevee", action="store_true", help="also the exam scene rendered with EEVEE")
    parser.add_argument("--render-eevee", help=argparse.SUPPRESS)  # the child process that renders
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.render_eevee:
        _render_eevee(str(EXAMPLES / "exam.blend"), args.render_eevee)
        return
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
    if args.eevee:
        report["eevee"] = eevee_pairs(model, metadata)
        print(json.dumps(report["eevee"]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
