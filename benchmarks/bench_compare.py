"""Speed and memory of ``synthdiff.compare`` against scikit-image SSIM and flip-evaluator.

Not part of the test run. Times are medians of several runs in this one process, reported as
ratios to references measured in the same run, because absolute times on a shared 2-core machine
are noisy. Peak memory is measured in a fresh child process on a 3840x2160 pair.

    .venv/bin/python benchmarks/bench_compare.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys

import cv2
import numpy as np

from _timing import median_time  # benchmarks/ is on sys.path when a benchmark runs


def make_pair(width: int, height: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A photo-like noisy pair with four pasted rectangles (the spot-the-difference case)."""
    from skimage import data

    rng = np.random.default_rng(seed)
    base = cv2.resize(
        data.astronaut().astype(np.float32) / 255, (width, height), interpolation=cv2.INTER_CUBIC
    )
    donor = cv2.resize(data.chelsea().astype(np.float32) / 255, (width, height))
    reference = np.clip(base + rng.normal(0, 0.03, base.shape), 0, 1).astype(np.float32)
    test = np.clip(base + rng.normal(0, 0.03, base.shape), 0, 1).astype(np.float32)
    for index in range(4):
        w, h = width // 12, height // 10
        x, y = (index + 1) * width // 6, (index % 2 + 1) * height // 4
        test[y : y + h, x : x + w] = donor[y : y + h, x : x + w]
    return reference, test


def peak_memory_child(width: int, height: int) -> dict[str, float]:
    code = f"""
import json, resource, sys
sys.path.insert(0, {str(__file__.rsplit("/", 1)[0])!r})
from bench_compare import make_pair
import synthdiff
reference, test = make_pair({width}, {height})
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
result = synthdiff.compare(reference, test)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"inputs_and_imports_mb": before / 1024, "peak_mb": after / 1024,
                   "regions": len(result.regions)}}))
"""
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import flip_evaluator
    from skimage.metrics import structural_similarity

    import synthdiff

    reference, test = make_pair(1920, 1080)
    timings = {
        "skimage_ssim_full": median_time(
            lambda: structural_similarity(
                reference,
                test,
                channel_axis=2,
                data_range=1.0,
                gaussian_weights=True,
                sigma=1.5,
                use_sample_covariance=False,
                full=True,
            ),
            args.repeats,
        ),
        "flip_evaluator": median_time(
            lambda: flip_evaluator.evaluate(reference, test, "LDR", applyMagma=False), args.repeats
        ),
        "compare_fast": median_time(lambda: synthdiff.compare(reference, test, fast=True), args.repeats),
        "compare_default": median_time(lambda: synthdiff.compare(reference, test), args.repeats),
    }
    stages = synthdiff.compare(reference, test).timings
    memory = peak_memory_child(3840, 2160)
    results = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "repeats": args.repeats,
        "median_seconds_1080p": {k: round(v, 4) for k, v in timings.items()},
        "ratios": {
            "compare_fast / skimage_ssim_full": round(
                timings["compare_fast"] / timings["skimage_ssim_full"], 3
            ),
            "compare_default / flip_evaluator": round(
                timings["compare_default"] / timings["flip_evaluator"], 3
            ),
        },
        "targets": {
            "compare_fast / skimage_ssim_full": 0.5,
            "compare_default / flip_evaluator": 1.0,
            "peak_mb_4k": 1536,
        },
        "stages_seconds_1080p_default": {k: round(v, 4) for k, v in stages.items()},
        "memory_4k": memory,
    }
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
