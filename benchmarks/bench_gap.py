"""Time ``synthdiff gap`` on two sets of 256x256 images, with a cold and a warm cache.

Not part of the test run. Writes two seeded synthetic sets (noisy colour fields vs flat-shaded discs)
into a temporary folder, then runs the full report twice with one cache folder. The reference in the
same run is decoding every image once with Pillow, so ratios stay comparable on a noisy machine:

    .venv/bin/python benchmarks/bench_gap.py [--images 1000] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from synthdiff.gap import gap


def write_sets(root: Path, count: int) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    rows, cols = np.mgrid[0:256, 0:256] / 256.0
    for name in ("photos", "renders"):
        (root / name).mkdir()
        for index in range(count):
            if name == "photos":
                base = np.stack(
                    [rows * rng.random(), cols * rng.random(), np.full_like(rows, rng.random())], -1
                )
                pixels = np.clip(base + rng.normal(0, 0.08, base.shape), 0, 1)
            else:
                pixels = np.repeat(rows[..., None], 3, axis=2) * 0.5
                centre = rng.integers(40, 216, 2)
                pixels[(rows * 256 - centre[0]) ** 2 + (cols * 256 - centre[1]) ** 2 < 2000] = rng.random(3)
            Image.fromarray((pixels * 255).astype(np.uint8)).save(root / name / f"{index:04d}.png")
    return root / "photos", root / "renders"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        photos, renders = write_sets(root, args.images)
        start = time.perf_counter()
        for path in sorted(photos.iterdir()) + sorted(renders.iterdir()):
            with Image.open(path) as image:
                image.load()
        decode = time.perf_counter() - start
        timings = {}
        for run in ("cold", "warm"):
            start = time.perf_counter()
            report = gap(photos, renders, cache_dir=root / "cache")
            report.save(root / f"out-{run}")
            timings[run] = time.perf_counter() - start
    print(
        json.dumps(
            {
                "images_per_set": args.images,
                "threads": args.threads,
                "reference_decode_s": round(decode, 2),
                "cold_s": round(timings["cold"], 1),
                "warm_s": round(timings["warm"], 1),
                "cold_ratio_to_reference": round(timings["cold"] / decode, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
