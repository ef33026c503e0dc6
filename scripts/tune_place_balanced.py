"""Choose one feature's change threshold for the mean of its F1s over the places it changed.

Pixel F1 pooled over a single-feature set is ruled by its large changes: for texture, the changes on the
ground cover many more pixels than those on one small object, so the threshold that maximises pooled
F1 can miss most object changes (docs/models.md, stage 16). This script scores every grid threshold
by the mean, over the places where the feature changed (``ground``, ``object``, ``ground+object``: the
``by_place`` groups of ``synthdiff eval change``), of the F1 pooled over that place's pairs, and keeps
the best among the thresholds that mark at most ``--budget`` of the unchanged pairs' pixels as that
feature (ties go to the higher threshold). The other features keep the checkpoint's thresholds.

    python scripts/tune_place_balanced.py --model runs/stage16/stage16-budget.pt --feature texture \\
        --data data/change/texture-v2 --data data/change/fresh67-texture \\
        --none-data data/change/none-v2 --none-data data/change/none-seed7 \\
        --none-data data/change/fresh67-none \\
        -o runs/stage16p/texture-places.json --store runs/stage16p/stage16p.pt

The model runs once per pair. The check at the end scores the stored copy with synthdiff's own
evaluation and stops with an error if its figures differ from the search's. Use the validation split
to choose (stage16p-rule.md); never a test split.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from synthdiff.change import ChangePairs, evaluate, load_checkpoint
from synthdiff.change._evaluate import POOLED
from synthdiff.change._hysteresis import change_masks
from synthdiff.change._tune import THRESHOLD_GRID, _check_tuned_path, _count, _Counts, _f1, _store_copy
from synthdiff.errors import SynthdiffError


@torch.no_grad()
def _counts_by_place(model: Any, data: ChangePairs, feature: str) -> dict[str, _Counts]:
    """Grid counts of the pairs whose own feature is ``feature``, one set of counts per place."""
    model.eval()
    high = torch.full((len(data.features),), 0.5)
    places: dict[str, _Counts] = {}
    for batch in DataLoader(data, batch_size=8, shuffle=False):
        probability = model(batch["reference"], batch["test"]).change.sigmoid()
        changed = batch["change"] > 0.5
        own = change_masks(probability, high)
        for i, set_name in enumerate(batch["feature"]):
            if set_name != feature:
                continue
            counts = places.setdefault(str(batch["place"][i]), _Counts(len(data.features), False))
            counts.update(probability[i : i + 1], changed[i : i + 1], own[i : i + 1], [set_name])
    return places


def _grid(
    places: dict[str, _Counts], quiet: _Counts, f: int, lowest: float, highest: float
) -> list[dict[str, Any]]:
    """Per grid threshold in [lowest, highest]: feature ``f``'s F1 in each place, their mean, and the
    share of the unchanged pairs' pixels it marks."""
    marked = quiet.marked_above()[1][f].numpy() / quiet.pixels
    by_place = {name: counts.marked_above() for name, counts in places.items()}
    rows = []
    for k, threshold in enumerate(THRESHOLD_GRID):
        if not lowest - 1e-6 <= threshold <= highest + 1e-6:
            continue
        scores = {
            name: _f1(float(tp[f, k]), float(fp[f, k]), float(places[name].positives[f])) or 0.0
            for name, (tp, fp) in by_place.items()
        }
        rows.append(
            {
                "threshold": round(float(threshold), 2),
                "mean_place_f1": float(np.mean(list(scores.values()))),
                "place_f1": scores,
                "unchanged_marked": float(marked[k]),
            }
        )
    return rows


def _best(rows: list[dict[str, Any]], budget: float) -> dict[str, Any] | None:
    """The row with the highest mean place F1 among those within the budget; ties go to the higher
    threshold (fewer marks for the same score). None when no row is within the budget."""
    allowed = [row for row in rows if row["unchanged_marked"] <= budget]
    if not allowed:
        return None
    return max(allowed, key=lambda row: (round(row["mean_place_f1"], 12), row["threshold"]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--model", required=True, help="a change-model checkpoint (its other thresholds are kept)"
    )
    parser.add_argument("--feature", required=True, help="the feature whose threshold is chosen")
    parser.add_argument("--data", type=Path, action="append", required=True, help="sets of that feature")
    parser.add_argument("--none-data", type=Path, action="append", required=True, help="unchanged pairs")
    parser.add_argument("--split", default="val", choices=("val",))
    parser.add_argument("--budget", type=float, default=0.00025, help="share of unchanged pixels marked")
    parser.add_argument("--lowest", type=float, default=0.30)
    parser.add_argument("--highest", type=float, default=0.95)
    parser.add_argument("-o", "--out", type=Path, required=True, help="the record of the choice (JSON)")
    parser.add_argument("--store", type=Path, help="write a copy of the model with the chosen threshold")
    args = parser.parse_args()
    torch.set_num_threads(2)
    if args.store:
        try:  # before the model runs over every pair
            _check_tuned_path(args.model, args.store)
        except SynthdiffError as error:
            sys.exit(str(error))
    start = time.perf_counter()
    model, metadata = load_checkpoint(args.model)
    features = list(metadata["features"])
    if args.feature not in features:
        sys.exit(f"Expected --feature to be one of {features}, got {args.feature!r}.")
    f = features.index(args.feature)
    data = ChangePairs(args.data, args.split, features)
    unchanged = ChangePairs(args.none_data, args.split, features)
    places = _counts_by_place(model, data, args.feature)
    if not places:
        sys.exit(f"Expected pairs of the {args.feature} set in --data, found none.")
    stored = dict(metadata["thresholds"])
    quiet = _count(
        model,
        unchanged,
        torch.tensor([stored[n] for n in features]),
        torch.tensor([stored[n] for n in features]),
        False,
        8,
        torch.device("cpu"),
        None,
    )
    print(f"{len(data)} pairs and {len(unchanged)} unchanged pairs in {time.perf_counter() - start:.0f} s")

    rows = _grid(places, quiet, f, args.lowest, args.highest)
    best = _best(rows, args.budget)
    if best is None:
        sys.exit(
            f"No threshold in [{args.lowest}, {args.highest}] marks at most {args.budget} of the "
            "unchanged pixels."
        )
    chosen = dict(stored, **{args.feature: best["threshold"]})
    pairs: dict[str, int] = {}  # from the evaluation below
    report: dict[str, Any] = {
        "model": str(args.model),
        "feature": args.feature,
        "split": args.split,
        "data": [str(p) for p in args.data],
        "none_data": [str(p) for p in args.none_data],
        "budget": args.budget,
        "stored_thresholds": stored,
        "chosen": best,
        "thresholds": chosen,
        "grid": rows,
    }
    print(
        f"{args.feature}: stored {stored[args.feature]:.2f}, chosen {best['threshold']:.2f}: mean place F1 "
        f"{best['mean_place_f1']:.4f} ({', '.join(f'{k} {v:.3f}' for k, v in best['place_f1'].items())}), "
        f"unchanged marked {100 * best['unchanged_marked']:.4f} %"
    )
    at_stored = next((row for row in rows if abs(row["threshold"] - stored[args.feature]) < 1e-6), None)
    if at_stored is not None:
        print(
            f"at the stored {stored[args.feature]:.2f}: mean place F1 {at_stored['mean_place_f1']:.4f}, "
            f"unchanged marked {100 * at_stored['unchanged_marked']:.4f} %"
        )
    # The check: synthdiff's own evaluation at the chosen thresholds gives the searched figures.
    result = evaluate(model, data, change_thresholds=chosen)
    alarms = evaluate(model, unchanged, change_thresholds=chosen)
    for name, score in best["place_f1"].items():
        entry = result.by_place[f"{args.feature}/{name}"]
        pairs[name] = entry["pairs"]
        if abs((entry["change"]["f1"] or 0.0) - score) > 1e-6:
            sys.exit(
                f"{name}: the evaluation's F1 {entry['change']['f1']} disagrees with the search's {score}."
            )
    rate = alarms.scores[POOLED]["change"][args.feature]["false_positive_rate"] or 0.0
    if abs(rate - best["unchanged_marked"]) > 1e-9:
        sys.exit(
            f"The evaluation's false-alarm rate {rate} disagrees with the search's "
            f"{best['unchanged_marked']}."
        )
    report["place_pairs"] = pairs
    print("check: synthdiff's evaluation gives the searched place F1s and false alarms")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    if args.store:
        _store_copy(args.model, args.store, "none", chosen)
        print(f"stored in {args.store}")


if __name__ == "__main__":
    main()
