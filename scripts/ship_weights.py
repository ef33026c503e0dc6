"""Copy a training run's best checkpoint into the package as shipped weights (docs/models.md).

    python scripts/ship_weights.py runs/fresunet/best.pt fresunet
    python scripts/ship_weights.py runs/changestar/best.pt changestar --half

``--half`` stores the floating-point tensors as float16 (half the file; the model is float32 again
when loaded). The shipped file keeps the model name, features and the run's config (its data
folders, epoch and validation score); the optimiser state is not in best.pt to begin with.
Evaluate the shipped file, not the run's: ``synthdiff eval change --model NAME``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from synthdiff.change import MODELS

WEIGHTS = Path(__file__).resolve().parents[1] / "src" / "synthdiff" / "change" / "weights"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("name", choices=sorted(MODELS))
    parser.add_argument("--half", action="store_true")
    args = parser.parse_args()
    payload = torch.load(args.checkpoint, map_location="cpu", weights_only=True)
    if payload.get("model") != args.name:
        parser.error(f"{args.checkpoint} holds model {payload.get('model')!r}, not {args.name!r}")
    if args.half:
        payload["state_dict"] = {
            key: value.half() if value.is_floating_point() else value
            for key, value in payload["state_dict"].items()
        }
    WEIGHTS.mkdir(parents=True, exist_ok=True)
    target = WEIGHTS / f"{args.name}.pt"
    torch.save(payload, target)
    print(f"{target}: {target.stat().st_size / 2**20:.1f} MiB, epoch {payload['config'].get('epoch')}")


if __name__ == "__main__":
    main()
