"""Choose two change thresholds per feature (hysteresis) on the validation split, under a false-alarm budget.

For each feature, every pair (low, high) with low <= high on the grid 0.01 ... 0.99 is scored: a pixel
counts as changed when its probability is above ``low`` and it is connected (8-neighbours) to a pixel
above ``high`` (:func:`synthdiff.change.hysteresis_mask`). The pair kept has the highest pooled change
F1 of that feature over the ``--data`` pairs among those that mark at most ``--budget`` of the pixels
of the unchanged ``--none-data`` pairs; ties go to the higher low threshold (less growth), then to the
high threshold nearer 0.5. ``low == high`` is the single threshold, so the single-threshold optimum is
reported beside it.

``--objective own-set`` scores each feature by its F1 on the pairs of its own single-feature set
instead (the figure issue 5's targets count), among the pairs that also (a) do not raise that
feature's mean false-positive rate on the other single-feature sets (naming the wrong feature) above
the model's stored thresholds', and (b) keep its F1 on the ``all`` pairs at least the stored
thresholds' minus ``--all-slack``.

The search is the library's (``synthdiff tune change --hysteresis``, synthdiff.change._tune); this
script adds the own-set objective and the check. The model runs once per pair; each (feature, low)
needs one labelling of the maps, after which every high threshold is a lookup on the regions' maxima.
Then the choice is scored again with synthdiff's own
evaluation (``evaluate`` with the low thresholds), which must give the same per-feature F1 and
false-alarm share (a check). ``--store CKPT`` writes a copy of the model with the chosen thresholds.

    python scripts/tune_hysteresis.py --model fresunet-wide --data data/change/texture-v2 ... \\
        --none-data data/change/none-v2 --none-data data/change/none-seed7 --budget 0.00025 \\
        -o runs/hysteresis/val.json --store runs/hysteresis/candidate.pt

Use the validation split to choose (never a decision or test split).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from synthdiff.change import ChangePairs, evaluate, load_checkpoint, store_thresholds
from synthdiff.change._evaluate import POOLED
from synthdiff.change._tune import (
    THRESHOLD_GRID,
    TuneResult,
    _choose,
    _count,
    _Groups,
    _search_two_thresholds,
)
from synthdiff.errors import InvalidArgumentError

SINGLE = _Groups.SINGLE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="fresunet-wide", help="shipped model name or checkpoint")
    parser.add_argument("--data", type=Path, action="append", required=True, help="dataset folder (repeat)")
    parser.add_argument("--none-data", type=Path, action="append", required=True, help="unchanged pairs")
    parser.add_argument("--split", default="val", choices=("val",), help="only val: thresholds are chosen")
    parser.add_argument(
        "--budget", type=float, default=0.00025, help="largest share of unchanged pixels marked"
    )
    parser.add_argument(
        "--objective",
        default="pooled",
        choices=("pooled", "own-set"),
        help="pooled: each feature's F1 over every pair; own-set: its F1 on its own single-feature set, "
        "not naming the wrong feature more often and not losing more than --all-slack on the all pairs "
        "than the stored thresholds",
    )
    parser.add_argument("--all-slack", type=float, default=0.02, help="own-set: F1 the all pairs may lose")
    parser.add_argument("-o", "--out", type=Path, required=True, help="JSON report")
    parser.add_argument("--store", type=Path, help="write a copy of the model with the chosen thresholds")
    args = parser.parse_args()
    torch.set_num_threads(2)
    model, metadata = load_checkpoint(args.model)
    features = list(metadata["features"])
    data = ChangePairs(args.data, args.split, features)
    unchanged = ChangePairs(args.none_data, args.split, features)
    if args.objective == "own-set":  # before the model runs over every pair
        try:
            for name in features:
                _Groups.require(name, {pair.feature for pair in data.pairs})
        except InvalidArgumentError as error:
            raise SystemExit(str(error)) from None
    stored = metadata["thresholds"]
    high = torch.tensor([stored[name] for name in features], dtype=torch.float32)
    start = time.perf_counter()
    cpu = torch.device("cpu")
    counts = _count(model, data, high, high, True, 8, cpu, None)
    quiet = _count(model, unchanged, high, high, True, 8, cpu, None)
    print(f"{len(data)} pairs and {len(unchanged)} unchanged pairs in {time.perf_counter() - start:.0f} s")

    def search(name: str, maps: np.ndarray, labels: np.ndarray, quiet_maps: Any) -> Any:
        groups = _Groups(name, counts.sets, labels) if args.objective == "own-set" else None
        found = _search_two_thresholds(
            maps, labels, quiet_maps, args.budget, groups, stored[name], args.all_slack
        )
        print(f"{name}: searched ({time.perf_counter() - start:.0f} s)", flush=True)
        return found

    choice = _choose(counts, quiet, features, high, high, args.budget, True, search)
    report: dict[str, Any] = {
        "model": str(args.model),
        "split": args.split,
        "pairs": len(data),
        "unchanged_pairs": len(unchanged),
        "budget": args.budget,
        "objective": args.objective,
        "stored_thresholds": stored,
        "grid": [float(v) for v in THRESHOLD_GRID[[0, -1]]],
        "features": {},
    }
    score = "own_f1" if args.objective == "own-set" else "f1"
    for name in features:
        found = choice.searched[name]
        entry = {
            "single": vars(choice.single[name]),
            "hysteresis": vars(found["score"])
            | {k: v for k, v in found.items() if k not in ("score", "stored")},
        }
        if "stored" in found:
            entry["stored"] = found["stored"]
        report["features"][name] = entry
        hysteresis = entry["hysteresis"]
        print(
            f"{name}: single {entry['single']['threshold']:.2f} f1 {entry['single']['f1']:.4f}; "
            f"hysteresis {hysteresis['low_threshold']:.2f}-{hysteresis['threshold']:.2f} "
            f"{score} {hysteresis[score]:.4f}"
            + (
                f"; stored {stored[name]:.2f} own_f1 {entry['stored']['own_f1']:.4f}"
                if "stored" in entry
                else ""
            ),
            flush=True,
        )
    high_chosen = {name: choice.chosen[name].threshold for name in features}
    low_chosen = {name: choice.chosen[name].low_threshold for name in features}
    # The check: synthdiff's own evaluation with the chosen thresholds gives the searched figures.
    result = evaluate(model, data, change_thresholds=high_chosen, change_low_thresholds=low_chosen)
    alarms = evaluate(model, unchanged, change_thresholds=high_chosen, change_low_thresholds=low_chosen)
    report["check"] = {}
    for name in features:
        searched = report["features"][name]["hysteresis"]
        check = {
            "f1": result.scores[POOLED]["change"][name]["f1"] or 0.0,
            "unchanged_marked": alarms.scores[POOLED]["change"][name]["false_positive_rate"] or 0.0,
        }
        if "own_f1" in searched:
            others = [g for g in SINGLE if g != name and g in result.scores]
            check["own_f1"] = result.scores[name]["change"][name]["f1"] or 0.0
            check["wrong_rate"] = float(
                np.mean([result.scores[g]["change"][name]["false_positive_rate"] or 0.0 for g in others])
            )
            check["all_f1"] = result.scores["all"]["change"][name]["f1"] or 0.0
        report["check"][name] = check
        disagree = {
            key: (value, searched[key])
            for key, value in check.items()
            if abs(value - (searched[key] or 0.0)) > 1e-6
        }
        if disagree:
            raise SystemExit(
                f"{name}: the evaluation disagrees with the search (evaluation, search): {disagree}."
            )
    print("check: synthdiff's evaluation gives the searched F1 and false alarms for every feature")
    report["thresholds"], report["low_thresholds"] = high_chosen, low_chosen
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    if args.store:
        tuned = TuneResult(
            features=features,
            views="none",
            split=args.split,
            pairs=len(data),
            unchanged_pairs=len(unchanged),
            budget=args.budget,
            hysteresis=True,
            chosen=choice.chosen,
            single=choice.single,
            before=choice.before,
        )
        store_thresholds(args.model, args.store, tuned)
        print(f"stored in {args.store}")


if __name__ == "__main__":
    main()
