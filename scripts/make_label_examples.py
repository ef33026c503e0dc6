"""Make the example pictures of docs/labels.md with the generator itself (needs the `blender` extra).

For each feature, one pair of a small dataset: reference | test | seg_ref | seg_test | change.
Run from the repository root:

    .venv/bin/python scripts/make_label_examples.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

from synthdiff.synth import GenerateOptions, generate

OUT = Path(__file__).resolve().parent.parent / "docs" / "images"
SIZE, SAMPLES, SEED = 192, 32, 3
# The label shown for each dataset feature (mixed shows its illumination and texture labels).
SHOWN = {
    "illumination": ["illumination"],
    "reflection": ["reflection"],
    "texture": ["texture"],
    "transparency": ["transparency"],
    "mixed": ["illumination", "texture"],
    "objects": ["objects"],
    "none": ["illumination"],
}


def strip(folder: Path, record: dict, label: str) -> Image.Image:
    paths = [
        ("reference", record["reference"]),
        ("test", record["test"]),
        (f"seg_ref {label}", record["labels"]["seg_ref"][label]),
        (f"seg_test {label}", record["labels"]["seg_test"][label]),
        (f"change {label}", record["labels"]["change"][label]),
    ]
    sheet = Image.new("RGB", (len(paths) * (SIZE + 6) + 6, SIZE + 26), "white")
    draw = ImageDraw.Draw(sheet)
    for column, (title, path) in enumerate(paths):
        left = 6 + column * (SIZE + 6)
        with Image.open(folder / path) as image:
            sheet.paste(image.convert("RGB"), (left, 20))
        draw.rectangle((left - 1, 19, left + SIZE, 20 + SIZE), outline="grey")  # white maps on white paper
        draw.text((6 + column * (SIZE + 6), 4), title, fill="black")
    return sheet


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for feature in SHOWN:  # `all` combines the rules shown for the single features
            folder = Path(tmp) / feature
            options = GenerateOptions(
                feature, scenes=1, variants=1, width=SIZE, height=SIZE, samples=SAMPLES, seed=SEED
            )
            generate(options, folder)
            record = json.loads((folder / "manifest.jsonl").read_text().splitlines()[0])
            for label in SHOWN[feature]:
                name = (
                    f"labels-{feature}.png" if len(SHOWN[feature]) == 1 else f"labels-{feature}-{label}.png"
                )
                strip(folder, record, label).save(OUT / name, optimize=True)
                print(name, json.dumps(record["changes"]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
