"""Speed of ``synthdiff generate`` and the stability of its labels against the sample count.

Not part of the test run (it takes several minutes). Run from the repository root:

    .venv/bin/python benchmarks/bench_generate.py [--scenes 2] [--variants 19]

1. Label stability: the same pairs (same seeds, so the same parameters) rendered at a few sample
   counts and at 64 samples; the IoU of each change map with its 64-sample version, and the label
   noise of the illumination rule on unchanged (`none`) pairs.
2. Speed: labelled pairs per minute at 256x256 with the chosen sample count, for 1 and 2 worker
   processes, and the time a 2,000-pair dataset would take.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from synthdiff.synth import GenerateOptions, generate


def _change(folder: Path, record: dict) -> dict[str, np.ndarray]:
    return {
        n: np.asarray(Image.open(folder / record["labels"]["change"][n])) > 0
        for n in record["changed_labels"]
    }


def _records(folder: Path) -> dict[str, dict]:
    return {r["pair_id"]: r for r in map(json.loads, (folder / "manifest.jsonl").read_text().splitlines())}


def stability(root: Path, samples: list[int], reference_samples: int, size: int, features: list[str]) -> None:
    print(
        f"## Label stability at {size}x{size} "
        f"(IoU of each change map with its {reference_samples}-sample version)"
    )
    print()
    print("| feature | samples | pairs | median IoU | min IoU | seconds |")
    print("| --- | --- | --- | --- | --- | --- |")
    for feature in features:
        folders = {}
        for count in [reference_samples, *samples]:
            folder = root / f"stability-{feature}-{count}"
            start = time.perf_counter()
            generate(
                GenerateOptions(feature, scenes=1, variants=6, width=size, height=size, samples=count), folder
            )
            folders[count] = (folder, time.perf_counter() - start)
        reference = _records(folders[reference_samples][0])
        for count in samples:
            folder, seconds = folders[count]
            ious = []
            for pair, record in _records(folder).items():
                if record["attempts"] != reference[pair]["attempts"]:
                    continue  # different parameters were drawn; not comparable
                ours, theirs = (
                    _change(folder, record),
                    _change(folders[reference_samples][0], reference[pair]),
                )
                for name in ours:
                    union = (ours[name] | theirs[name]).sum()
                    if union:
                        ious.append(float((ours[name] & theirs[name]).sum() / union))
            if ious:
                print(
                    f"| {feature} | {count} | {len(ious)} | {statistics.median(ious):.3f} | "
                    f"{min(ious):.3f} | {seconds:.0f} |"
                )
    for count in samples:
        folder = root / f"noise-{count}"
        generate(
            GenerateOptions("none", scenes=2, variants=4, width=size, height=size, samples=count), folder
        )
        noise = [r["label_noise"]["illumination"] for r in _records(folder).values()]
        print(
            f"\nLabel noise at {count} samples on 8 unchanged pairs: illumination rule marks "
            f"mean {statistics.fmean(noise):.5f}, max {max(noise):.5f} of the pixels."
        )
    print()


def _speed_row(
    root: Path, feature: str, workers: int, samples: int, size: int, scenes: int, variants: int
) -> float:
    folder = root / f"speed-{feature}-{workers}-{samples}"
    options = GenerateOptions(
        feature, scenes=scenes, variants=variants, width=size, height=size, samples=samples
    )
    result = generate(options, folder, workers=workers)
    rate = result.pairs_per_minute
    print(
        f"| {feature} | {samples} | {workers} | {result.rendered} | {result.seconds:.1f} | {rate:.1f} | "
        f"{2000 / rate:.0f} |",
        flush=True,
    )
    return rate


def speed(root: Path, scenes: int, variants: int, samples: int, size: int) -> None:
    print(f"## Speed at {size}x{size}, denoised, {scenes} scenes x {variants} variants")
    print()
    print("| feature | samples | workers | pairs | seconds | pairs/min | 2,000 pairs (min) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    rates = {w: _speed_row(root, "mixed", w, samples, size, scenes, variants) for w in (1, 2)}
    best = max(rates, key=lambda w: rates[w])
    for feature in ("illumination", "reflection", "texture", "transparency", "objects", "none"):
        _speed_row(root, feature, best, samples, size, scenes, variants)
    _speed_row(root, "illumination", best, 2 * samples, size, scenes, variants)
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=2)
    parser.add_argument("--variants", type=int, default=19)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--samples", type=int, default=8, help="sample count for the speed runs")
    parser.add_argument("--skip-stability", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument(
        "--stability-features",
        default="illumination,reflection,texture,transparency,objects",
        help="comma-separated",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_stability:
            stability(Path(tmp), [8, 16], 64, args.size, args.stability_features.split(","))
        if not args.skip_speed:
            speed(Path(tmp), args.scenes, args.variants, args.samples, args.size)


if __name__ == "__main__":
    main()
