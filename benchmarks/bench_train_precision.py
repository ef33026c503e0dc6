"""Training-step speed of FresUNet in float32 and under bfloat16 autocast (``precision``), as medians.

Not part of the test run. One step is what ``synthdiff train change`` does per batch: forward, the
training loss, backward, an AdamW update, on a batch of whole 256x256 pairs. The float32 step is the
reference in the same run, so the ratio stays comparable on a noisy machine; bfloat16 gains most on
CPUs with AMX or AVX-512 BF16 and on GPUs:

    .venv/bin/python benchmarks/bench_train_precision.py [--repeats 5] [--batch 16]
"""

from __future__ import annotations

import argparse
import json

import torch

from _timing import median_time  # benchmarks/ is on sys.path when a benchmark runs
from synthdiff.change import FEATURES, create_model
from synthdiff.change._metrics import change_loss
from synthdiff.change._models import ChangeOutput


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(0)
    features = [f for f in FEATURES if f != "objects"]
    shape = (args.batch, len(features), 256, 256)
    batch = {
        "reference": torch.rand(args.batch, 3, 256, 256, generator=generator),
        "test": torch.rand(args.batch, 3, 256, 256, generator=generator),
        "seg_ref": (torch.rand(shape, generator=generator) > 0.7).float(),
        "seg_test": (torch.rand(shape, generator=generator) > 0.7).float(),
        "change": (torch.rand(shape, generator=generator) > 0.9).float(),
    }
    model = create_model("fresunet", features).train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def step(bfloat16: bool) -> None:
        with torch.autocast("cpu", torch.bfloat16, enabled=bfloat16):
            output = model(batch["reference"], batch["test"])
        output = ChangeOutput(output.seg_ref.float(), output.seg_test.float(), output.change.float())
        loss, _ = change_loss(output, batch, 0.5, 1.0, 50.0)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()

    seconds = {
        name: median_time(lambda b=b: step(b), args.repeats)
        for name, b in (("float32", False), ("bfloat16", True))
    }
    print(
        json.dumps(
            {
                "threads": args.threads,
                "batch": args.batch,
                "median_s_per_step": {k: round(v, 2) for k, v in seconds.items()},
                "bfloat16_to_float32": round(seconds["bfloat16"] / seconds["float32"], 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
