"""Tune a change detector's thresholds for each test-time view set on the validation split, and store them.

For every view set asked for (``flip``, ``flips``, ``dihedral``; docs/change.md), the model is run with
those views over the val pairs, the per-feature change thresholds that maximise val F1 are found (as
training finds them for a single view), and the pooled mean change F1 at them is recorded. With
``--store CKPT`` the thresholds are written into that checkpoint file (``set_views``), with ``--default``
as its default view set (``none`` unless given), so that ``load_checkpoint(CKPT, views=...)`` and
``--tta`` use them. Only the validation split is for this; score a stored choice elsewhere.

``--budget RATE --none-data DIR ...`` chooses each feature's threshold for the best val F1 among those
that mark at most ``RATE`` of the pixels of those unchanged val pairs for that feature, as the
thresholds of a model shipped under a false-alarm budget were chosen; use it for such a model, or its
views would be tuned for F1 alone and bring the false alarms back. The choice is the library's
(``synthdiff tune change``, which tunes one view set at a time); this script tunes several and
stores them together.

    python scripts/tune_views.py --model runs/x/best.pt --data data/change/texture-v2 ... \\
        --views flip --views flips --views dihedral -o runs/views/val.json --store runs/x/views.pt
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import Any

import torch

from synthdiff.change import (
    ChangePairs,
    evaluate,
    load_checkpoint,
    resolve_checkpoint,
    set_views,
    tune_change_thresholds,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="shipped model name or checkpoint")
    parser.add_argument("--data", type=Path, action="append", required=True, help="dataset folder (repeat)")
    parser.add_argument("--views", action="append", required=True, help="view set to tune (repeat)")
    parser.add_argument("--split", default="val", choices=("val",), help="only val: thresholds are choices")
    parser.add_argument("-o", "--out", type=Path, required=True, help="JSON report")
    parser.add_argument("--store", type=Path, help="write the thresholds into a copy of the model here")
    parser.add_argument("--default", default="none", help="the stored copy's default view set")
    parser.add_argument("--budget", type=float, help="false-alarm budget per feature (e.g. 0.00025)")
    parser.add_argument("--none-data", type=Path, action="append", help="unchanged pairs for --budget")
    args = parser.parse_args()
    if (args.budget is None) != (args.none_data is None):
        parser.error("--budget and --none-data go together")
    torch.set_num_threads(2)
    _, metadata = load_checkpoint(args.model, views="none")
    features = list(metadata["features"])
    data = ChangePairs(args.data, args.split, features, cache=True)
    unchanged = ChangePairs(args.none_data, args.split, features, cache=True) if args.none_data else None
    report: dict[str, Any] = {"model": str(args.model), "split": args.split, "pairs": len(data), "views": {}}
    report["budget"] = args.budget
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for views in ["none", *args.views]:
        model, loaded = load_checkpoint(args.model, views=views)
        start = time.perf_counter()
        tuned = tune_change_thresholds(
            model, data, unchanged, thresholds=loaded["thresholds"], budget=args.budget, views=views
        )
        # Over the features whose F1 is defined, as EvalResult.mean_change_f1.
        f1 = [score.f1 for score in tuned.chosen.values() if score.f1 is not None]
        report["views"][views] = {
            "thresholds": tuned.thresholds,
            "pooled_mean_change_f1": sum(f1) / len(f1) if f1 else 0.0,
            "seconds": round(time.perf_counter() - start, 1),
        }
        if unchanged is not None:
            alarms = evaluate(model, unchanged, change_thresholds=tuned.thresholds).none_false_positive_rate
            report["views"][views]["unchanged_false_positive_rate"] = alarms
        args.out.write_text(json.dumps(report, indent=1))  # after every view set: an interruption keeps them
        print(
            f"{views}: val pooled mean change F1 {report['views'][views]['pooled_mean_change_f1']:.4f}, "
            f"thresholds {tuned.thresholds}",
            flush=True,
        )
    if args.store:
        shutil.copyfile(resolve_checkpoint(args.model), args.store)
        set_views(args.store, args.default, {v: report["views"][v]["thresholds"] for v in args.views})
        print(f"{args.store}: default views {args.default}")


if __name__ == "__main__":
    main()
