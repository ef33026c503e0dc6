"""Speed of the realness classifier on a 1920x1080 image (2 CPU threads), as medians.

Not part of the test run. Times ``score_image`` on decoded pixels (crop grid, crops, network,
patch voting, calibration), with and without the stability check (a JPEG-90 copy and a 1-pixel
shift, which triples the work), and the reference in the same run: one 3x3 convolution of 64
channels over the whole image, so ratios stay comparable on a noisy machine.

    .venv/bin/python benchmarks/bench_realness.py [--model realness-cnn] [--repeats 11]
    .venv/bin/python benchmarks/bench_realness.py --untrained realness-effnet-lite2

``--untrained NAME`` times a registered model with no weights of its own yet, read the way its
recipe reads images (crop size, crops per image): the head's values do not change the time.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from _timing import median_ms  # benchmarks/ is on sys.path when a benchmark runs
from synthdiff.realness import create_model, load_realness_model, score_image
from synthdiff.realness._registry import RealnessSettings
from synthdiff.realness._train import MODEL_DEFAULTS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", default=None, help="checkpoint or shipped name (default: untrained realness-cnn)"
    )
    parser.add_argument("--untrained", default=None, help="a registered model name, timed untrained")
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.untrained:
        recipe = MODEL_DEFAULTS.get(args.untrained, {})
        settings = RealnessSettings(
            tuple(recipe.get("cues", ["fourier"])), recipe.get("crop", 64), recipe.get("max_patches", 96)
        )
        model = create_model(args.untrained, settings)
    else:
        model = load_realness_model(args.model) if args.model else create_model("realness-cnn")
    model.net.eval()
    image = np.random.default_rng(0).random((1080, 1920, 3), dtype=np.float32)
    layer = torch.nn.Conv2d(3, 64, 3, padding=1).eval()
    pixels = torch.from_numpy(image.transpose(2, 0, 1).copy())[None]
    with torch.inference_mode():
        reference = median_ms(lambda: layer(pixels), args.repeats)
    plain = median_ms(lambda: score_image(model, image, check_stability=False), args.repeats)
    stable = median_ms(lambda: score_image(model, image, check_stability=True), args.repeats)
    print(
        json.dumps(
            {
                "model": args.untrained or args.model or "realness-cnn (untrained)",
                "image": "1920x1080",
                "threads": args.threads,
                "crops": model.settings.max_patches,
                "reference_conv_ms": round(reference, 1),
                "score_ms": round(plain, 1),
                "score_with_stability_ms": round(stable, 1),
                "score_ratio_to_reference": round(plain / reference, 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
