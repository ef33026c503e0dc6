"""Inference speed of the change detectors on 256x256 pairs (2 CPU threads), as medians.

Not part of the test run. The reference in the same run is one 3x3 convolution layer of 64 channels
over the pair (timed before and after the models, the lower median kept), so ratios stay comparable
on a noisy machine. ``--tta`` also times every FresUNet model timed with test-time views
(``fresunet+flip``, ``fresunet-wide+flip`` etc.; docs/change.md); ``--hysteresis`` times cutting the four
change maps of a pair with two thresholds per feature (``change_masks``; docs/change.md) against one:

    .venv/bin/python benchmarks/bench_change.py [--repeats 15] [--tta flip --tta dihedral] [--hysteresis]
    .venv/bin/python benchmarks/bench_change.py --models fresunet-wide --tta flip   # the default's views
    python benchmarks/bench_change.py --device cuda --models fresunet-wide,fresunet-wider  # a GPU
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

import torch

from _timing import median_ms  # benchmarks/ is on sys.path when a benchmark runs
from synthdiff.change import FEATURES, change_masks, create_model, with_views

MODEL_NAMES = (
    "fresunet",
    "fresunet-deep",
    "fresunet-attention",
    "fresunet-ratio",
    "fresunet-wide",
    "fresunet-wider",
    "fresunet-wide-pair",
    "changestar",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tta", action="append", default=[], help="also time each FresUNet with these views")
    parser.add_argument("--models", default=",".join(MODEL_NAMES), help="comma-separated model names")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (absolute GPU times: a GPU machine)")
    parser.add_argument(
        "--hysteresis", action="store_true", help="also time two thresholds per feature against one"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    generator = torch.Generator().manual_seed(0)
    reference = torch.rand(1, 3, 256, 256, generator=generator).to(device)
    test = torch.rand(1, 3, 256, 256, generator=generator).to(device)
    features = [f for f in FEATURES if f != "objects"]
    layer = torch.nn.Conv2d(6, 64, 3, padding=1).eval().to(device)

    def timed(function: Callable[[], object]) -> float:
        def call() -> None:
            function()
            if device.type == "cuda":  # kernels run asynchronously: wait for them
                torch.cuda.synchronize()

        return median_ms(call, args.repeats)

    results = {}
    with torch.inference_mode():
        pair = torch.cat([reference, test], dim=1)
        before = timed(lambda: layer(pair))
        names = args.models.split(",")
        models = {name: create_model(name, features).eval().to(device) for name in names}
        models |= {
            f"{name}+{views}": with_views(models[name], views)
            for name in names
            if name.startswith("fresunet")
            for views in args.tta
        }
        for name, model in models.items():
            results[name] = timed(lambda model=model: model(reference, test))
        if args.hysteresis:
            # Maps with the structure of real ones: a smoothed random field per feature, in [0, 1].
            field = torch.nn.functional.avg_pool2d(
                torch.rand(1, len(features), 256, 256, generator=generator), 9, 1, 4
            )
            maps = ((field - field.min()) / (field.max() - field.min())).to(device)
            high = torch.full((len(features),), 0.8, device=device)
            low = torch.full((len(features),), 0.45, device=device)
            results["one threshold (4 maps)"] = timed(lambda: change_masks(maps, high))
            results["hysteresis (4 maps)"] = timed(lambda: change_masks(maps, high, low))
        # Timed before and after the models: a machine still busy or slow to clock up at the start
        # once made the first timing five times the second (docs/performance.md); the lower counts.
        baseline = min(before, timed(lambda: layer(pair)))
    print(
        json.dumps(
            {
                "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
                "threads": args.threads,
                "median_ms_per_256px_pair": {k: round(v, 1) for k, v in results.items()},
                "reference_conv_ms": round(baseline, 2),
                "ratio_to_reference": {k: round(v / baseline, 1) for k, v in results.items()},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
