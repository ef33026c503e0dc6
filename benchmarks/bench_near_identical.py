"""Time gap's near-identical searches (across two sets, and within one) on random thumbnails.

Not part of the test run. Both searches grow with the square of the set size; this measures them
alone, without reading any image:

    .venv/bin/python benchmarks/bench_near_identical.py [--images 1000 4000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys

import numpy as np

from _timing import median_time  # benchmarks/ is on sys.path when a benchmark runs
from synthdiff.gap._gap import near_identical, near_identical_within
from synthdiff.gap._records import THUMBNAIL, ImageRecord


def records(count: int, seed: int) -> list[ImageRecord]:
    """Records holding only random thumbnails (the searches read nothing else)."""
    rng = np.random.default_rng(seed)
    empty = np.zeros(0, np.float32)
    made = []
    for index in range(count):
        thumbnail = rng.integers(0, 256, (THUMBNAIL, THUMBNAIL, 3), dtype=np.uint8)
        fields = {"grey_histogram": empty, "channel_histograms": empty, "spectrum": empty, "features": empty}
        made.append(
            ImageRecord(
                path=f"{index}.png", width=1, height=1, format="png", bit_depth=8, is_hdr=False,
                clipped_dark=0.0, clipped_bright=0.0, thumbnail=thumbnail, frame=thumbnail.copy(), **fields,
            )
        )  # fmt: skip
    return made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, nargs="+", default=[1000, 4000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    results = {}
    for count in args.images:
        a, b = records(count, 0), records(count, 1)
        across = median_time(lambda a=a, b=b: near_identical(a, b), args.repeats)
        within = median_time(lambda b=b: near_identical_within(b), args.repeats)
        results[count] = {"across_s": round(across, 3), "within_s": round(within, 3)}
    smallest, largest = min(args.images), max(args.images)
    ratio = results[largest]["across_s"] / results[smallest]["across_s"]
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    summary = {
        "machine": machine,
        "repeats": args.repeats,
        "median_seconds": results,
        f"across_{largest}_over_{smallest}": round(ratio, 1),
    }
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
