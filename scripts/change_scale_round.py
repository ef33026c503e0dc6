"""Does the change detector need images at the size it was trained on? (docs/training-logs/scale/rule.md)

Scores one checkpoint, at its stored thresholds, with ``synthdiff.change.evaluate`` (pooled pixels, as
``eval change`` counts them) on the val pairs of each dataset given, two ways:

- ``native``: the model on the pairs at their own size (what detect, compare and eval change do);
- ``scaled``: both images scaled down (area averaging) so that their shorter side is ``--size``, the model
  run there, its probabilities scaled back up (bilinear) to the pairs' size and scored against their
  labels (``evaluate(work_size=...)``, as detect, compare and eval change now run larger pairs);
- with ``--up``, ``scaled`` is the other way round, for pairs smaller than ``--size``: both images scaled
  up (bilinear) until their shorter side is ``--size``, the model run there, its probabilities averaged
  back down (area averaging) to the pairs' size (docs/training-logs/scale-up/rule.md).

    python scripts/change_scale_round.py --model fresunet-wide --size 256 \\
        --data /work/scale-data/{illumination,reflection,texture,transparency,none}-512 \\
        --out docs/training-logs/scale/512.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from synthdiff.change import ChangePairs, EvalResult, evaluate, load_checkpoint


class ScaledUp(nn.Module):
    """A change detector run on pairs scaled up until their shorter side is ``size`` (bilinear), its
    probability maps averaged back down to the pairs' size and returned as logits."""

    def __init__(self, model: nn.Module, size: int) -> None:
        super().__init__()
        self.model, self.size = model, size

    def forward(self, reference: torch.Tensor, test: torch.Tensor) -> Any:
        height, width = reference.shape[-2:]
        factor = self.size / min(height, width)
        if factor <= 1:
            return self.model(reference, test)
        shape = (round(height * factor), round(width * factor))

        def up(images: torch.Tensor) -> torch.Tensor:
            return F.interpolate(images, size=shape, mode="bilinear", align_corners=False).clamp(0, 1)

        output = self.model(up(reference), up(test)).probabilities()
        maps = [
            torch.logit(F.interpolate(m, size=(height, width), mode="area"), eps=1e-6)
            for m in (output.seg_ref, output.seg_test, output.change)
        ]
        return type(output)(*maps)


def scores(result: EvalResult, features: list[str]) -> dict[str, Any]:
    """Per set: change P / R / F1 of the set's own feature (on `all` each feature's F1); the none
    pairs' marked share."""
    table: dict[str, Any] = {}
    for group, maps in result.scores.items():
        if group in features:
            table[group] = {k: maps["change"][group][k] for k in ("precision", "recall", "f1", "iou")}
        elif group == "all":  # every feature changes at once: each feature's change F1
            table[group] = {feature: maps["change"][feature]["f1"] for feature in features}
    single = [table[f]["f1"] for f in features if f in table and table[f]["f1"] is not None]
    table["mean_single_feature_f1"] = sum(single) / len(single) if single else None
    table["none_marked"] = result.none_false_positive_rate
    table["pairs"] = result.pairs
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="fresunet-wide")
    parser.add_argument("--data", nargs="+", required=True)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--split", default="val")
    parser.add_argument("--out", required=True)
    parser.add_argument("--scaled-only", action="store_true", help="skip the full-size scoring")
    parser.add_argument("--up", action="store_true", help="scale smaller pairs up to --size instead")
    args = parser.parse_args()
    torch.set_num_threads(2)
    model, metadata = load_checkpoint(args.model, device="cpu")
    features = list(metadata["features"])
    data = ChangePairs(args.data, args.split, features)
    report: dict[str, Any] = {
        "model": args.model,
        "data": args.data,
        "split": args.split,
        "size": args.size,
        "up": args.up,
    }
    ways = (("native", None), ("scaled", args.size))
    for name, work_size in ways[1:] if args.scaled_only else ways:
        start = time.perf_counter()
        with torch.inference_mode():
            result = evaluate(
                ScaledUp(model, work_size) if args.up and work_size else model,
                data,
                work_size=None if args.up else work_size,
                change_thresholds=metadata["thresholds"],
                change_low_thresholds=metadata["low_thresholds"],
                change_min_area=metadata["min_area"],
                batch_size=4,
            )
        report[name] = scores(result, features)
        report[name]["seconds"] = round(time.perf_counter() - start, 1)
        print(name, json.dumps(report[name]), flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
