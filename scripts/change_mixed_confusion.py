"""Where a change detector goes wrong on mixed pairs, where every feature changes at once (a diagnosis)

On the ``all`` sets each pair changes illumination, reflection, texture and transparency together,
each with its own label map (docs/labels.md), and the detectors score far lower there than on the
single-feature sets. For each feature, pooled over the pairs, this script splits the two kinds of
error at the model's stored thresholds:

- the labelled change pixels it missed: marked as another feature (where that feature is labelled
  too, or not), or marked as nothing, and how faint they are (largest channel difference of the two
  images below 0.02 or 0.05);
- the pixels it marked that the feature's label does not hold: within 4 pixels of that label (an
  outline drawn too wide), on another feature's label (naming the wrong feature for a real change;
  compare with how much of the picture that label covers), on no label at all (a false alarm inside a
  changed pair), and the share of those that fall in pairs whose label for the feature is empty.

It also gives how much the labels overlap (labelled pixels that another feature's label holds too)
and, for each two features, what the model marks on the pixels both labels hold: both, one of them,
or neither; a model that names one feature per pixel, as the single-feature sets (most of training)
teach, marks one. It decides nothing.

    python scripts/change_mixed_confusion.py --model fresunet-wide --data data/change/fresh89-all-v2 \
        --data data/change/fresh97-all-v2 --split val -o runs/mixed-confusion.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy import ndimage

from synthdiff.change._data import ChangePairs
from synthdiff.change._hysteresis import change_masks, threshold_tensor
from synthdiff.change._registry import load_checkpoint

FAINT = (0.02, 0.05)
NEAR = 4  # pixels: a false mark this close to the feature's label counts as an outline drawn too wide


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="fresunet-wide", help="shipped model name or checkpoint")
    parser.add_argument("--data", type=Path, action="append", required=True, help="an `all` dataset")
    parser.add_argument("--split", default="val", choices=("train", "val", "test"))
    parser.add_argument("-o", "--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args()
    torch.set_num_threads(2)
    model, metadata = load_checkpoint(args.model)
    model.eval()
    features = list(metadata["features"])
    high = threshold_tensor(features, metadata["thresholds"])
    low = threshold_tensor(features, metadata["low_thresholds"])
    data = ChangePairs(args.data, args.split, features)
    counts = {name: _zero_counts(features, name) for name in features}
    # For each two features (f < g), on the pixels both labels hold: marked both, only f, only g, neither.
    both = {(f, g): np.zeros(4) for f in range(len(features)) for g in range(f + 1, len(features))}
    pairs = 0
    with torch.inference_mode():
        for index in range(len(data)):
            item = data[index]
            if item["feature"] != "all":
                continue
            pairs += 1
            reference, test = item["reference"][None], item["test"][None]
            probabilities = torch.sigmoid(model(reference, test).change)
            marked = change_masks(probabilities, high, low, metadata["min_area"])[0].numpy()
            labels = item["change"].numpy() > 0.5
            difference = (reference - test).abs().amax(dim=1)[0].numpy()
            for f, name in enumerate(features):
                _count(counts[name], f, features, marked, labels, difference)
            for (f, g), row in both.items():
                shared = labels[f] & labels[g]
                for k, (mark_f, mark_g) in enumerate(
                    ((True, True), (True, False), (False, True), (False, False))
                ):
                    row[k] += (shared & (marked[f] == mark_f) & (marked[g] == mark_g)).sum()
    if pairs == 0:
        raise SystemExit(f"No `all` pairs in the {args.split} split of {', '.join(map(str, args.data))}.")
    report: dict[str, Any] = {"model": args.model, "split": args.split, "pairs": pairs, "features": {}}
    for name in features:
        report["features"][name] = _figures(counts[name], name, features)
    report["both_labelled"] = [
        {
            "features": [features[f], features[g]],
            "pixels": int(row.sum()),
            **dict(
                zip(_both_keys(features[f], features[g]), (row / max(row.sum(), 1)).tolist(), strict=True)
            ),
        }
        for (f, g), row in both.items()
    ]
    _print(report, features)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1))


def _both_keys(first: str, second: str) -> tuple[str, ...]:
    return ("marked_both", f"only_{first}", f"only_{second}", "neither")


def _zero_counts(features: list[str], name: str) -> dict[str, float]:
    others = [other for other in features if other != name]
    keys = ["labelled", "marked", "found", "overlap", "missed_nothing", "false_on_none"]
    keys += ["false_in_empty_pairs", "empty_pairs", "false_near", "pixels"]
    keys += [f"missed_below_{threshold:g}" for threshold in FAINT]
    keys += [f"overlap_{o}" for o in others] + [f"missed_as_{o}" for o in others]
    keys += [f"missed_as_{o}_labelled" for o in others] + [f"false_on_{o}" for o in others]
    keys += [f"false_only_on_{o}" for o in others]
    return dict.fromkeys(keys, 0.0)


def _count(
    row: dict[str, float],
    f: int,
    features: list[str],
    marked: np.ndarray,
    labels: np.ndarray,
    difference: np.ndarray,
) -> None:
    """Add one pair's pixels for feature ``f`` (marked, labels: (F, H, W) bool) to ``row``."""
    label, mark = labels[f], marked[f]
    others = [k for k in range(len(features)) if k != f]
    other_labels = labels[others].any(axis=0)
    missed = label & ~mark
    false = mark & ~label
    row["labelled"] += label.sum()
    row["marked"] += mark.sum()
    row["found"] += (label & mark).sum()
    row["overlap"] += (label & other_labels).sum()
    row["missed_nothing"] += (missed & ~marked[others].any(axis=0)).sum()
    for threshold in FAINT:
        row[f"missed_below_{threshold:g}"] += (missed & (difference < threshold)).sum()
    row["false_on_none"] += (false & ~other_labels).sum()
    row["false_near"] += (false & ndimage.binary_dilation(label, iterations=NEAR)).sum()
    row["pixels"] += label.size
    if not label.any():
        row["empty_pairs"] += 1
        row["false_in_empty_pairs"] += false.sum()
    for k in others:
        other = features[k]
        row[f"overlap_{other}"] += (label & labels[k]).sum()
        row[f"missed_as_{other}"] += (missed & marked[k]).sum()
        row[f"missed_as_{other}_labelled"] += (missed & marked[k] & labels[k]).sum()
        row[f"false_on_{other}"] += (false & labels[k]).sum()
        alone = labels[k] & ~labels[[j for j in others if j != k]].any(axis=0)
        row[f"false_only_on_{other}"] += (false & alone).sum()


def _figures(row: dict[str, float], name: str, features: list[str]) -> dict[str, object]:
    labelled, marked, found = row["labelled"], row["marked"], row["found"]
    precision = found / marked if marked else None
    recall = found / labelled if labelled else None
    f1 = 2 * found / (labelled + marked) if labelled + marked else None
    missed = max(labelled - found, 1.0)
    false = max(marked - found, 1.0)
    others = [other for other in features if other != name]
    return {
        "labelled_pixels": int(labelled),
        "marked_pixels": int(marked),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "empty_label_pairs": int(row["empty_pairs"]),
        "labelled_also_other_label": row["overlap"] / max(labelled, 1.0),
        "labelled_also": {o: row[f"overlap_{o}"] / max(labelled, 1.0) for o in others},
        "missed_share_of_labelled": (labelled - found) / max(labelled, 1.0),
        "missed_marked_as": {o: row[f"missed_as_{o}"] / missed for o in others},
        "missed_marked_as_where_labelled": {o: row[f"missed_as_{o}_labelled"] / missed for o in others},
        "missed_marked_nothing": row["missed_nothing"] / missed,
        "missed_faint": {f"below {t:g}": row[f"missed_below_{t:g}"] / missed for t in FAINT},
        "false_share_of_marked": (marked - found) / max(marked, 1.0),
        "false_near_label": row["false_near"] / false,
        "label_cover": labelled / max(row["pixels"], 1.0),
        "false_on_other_label": {o: row[f"false_on_{o}"] / false for o in others},
        "false_only_on_other_label": {o: row[f"false_only_on_{o}"] / false for o in others},
        "false_on_no_label": row["false_on_none"] / false,
        "false_in_empty_label_pairs": row["false_in_empty_pairs"] / false,
    }


def _print(report: dict[str, Any], features: list[str]) -> None:
    table = report["features"]
    print(f"{report['pairs']} `all` pairs, {report['model']}, split {report['split']}")
    rows = []
    for name in features:
        row = table[name]
        scores = ["-" if row[key] is None else f"{row[key]:.3f}" for key in ("precision", "recall", "f1")]
        rows.append(
            [
                name,
                row["labelled_pixels"],
                f"{row['label_cover']:.1%}",
                *scores,
                row["empty_label_pairs"],
                f"{row['labelled_also_other_label']:.1%}",
            ]
        )
    header = [
        "feature",
        "labelled px",
        "share of all px",
        "P",
        "R",
        "F1",
        "pairs with an empty label",
        "labelled also another's",
    ]
    _table("", header, rows)
    rows = []
    for name in features:
        row = table[name]
        cells = _share_cells(row["missed_marked_as"], row["missed_marked_as_where_labelled"], features, name)
        faint = row["missed_faint"]
        rows.append(
            [
                name,
                f"{row['missed_share_of_labelled']:.1%}",
                *cells,
                f"{row['missed_marked_nothing']:.1%}",
                f"{faint['below 0.02']:.1%}",
                f"{faint['below 0.05']:.1%}",
            ]
        )
    header = [
        "feature",
        "missed / labelled",
        *(f"as {o}" for o in features),
        "nothing",
        "difference < 0.02",
        "< 0.05",
    ]
    _table(
        "Missed labelled pixels (share of the missed): marked as another feature (where that one is "
        "labelled too), marked nothing, faint",
        header,
        rows,
    )
    rows = []
    for name in features:
        row = table[name]
        cells = _share_cells(row["false_on_other_label"], row["false_only_on_other_label"], features, name)
        rows.append(
            [
                name,
                f"{row['false_share_of_marked']:.1%}",
                f"{row['false_near_label']:.1%}",
                *cells,
                f"{row['false_on_no_label']:.1%}",
                f"{row['false_in_empty_label_pairs']:.1%}",
            ]
        )
    header = [
        "feature",
        "false / marked",
        f"within {NEAR} px of its label",
        *(f"on {o}" for o in features),
        "on no label",
        "in empty-label pairs",
    ]
    _table(
        "Marked pixels outside the feature's label (share of those): near it, on another feature's label "
        "(that label alone), on no label, in pairs whose label for the feature is empty",
        header,
        rows,
    )
    rows = []
    for entry in report["both_labelled"]:
        first, second = entry["features"]
        shares = [entry[key] for key in ("marked_both", f"only_{first}", f"only_{second}", "neither")]
        rows.append([f"{first} + {second}", entry["pixels"], *(f"{share:.1%}" for share in shares)])
    _table(
        "Pixels two labels both hold: what the model marks there",
        ["features A + B", "pixels", "both", "only A", "only B", "neither"],
        rows,
    )


def _share_cells(
    shares: dict[str, float], within: dict[str, float], features: list[str], name: str
) -> list[str]:
    """One cell per feature: "share (part of it)", and "-" for the feature itself."""
    return ["-" if other == name else f"{shares[other]:.1%} ({within[other]:.1%})" for other in features]


def _table(title: str, header: list[str], rows: list[list[Any]]) -> None:
    if title:
        print()
        print(title)
    print("| " + " | ".join(header) + " |")
    print("| --- " * len(header) + "|")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")


if __name__ == "__main__":
    main()
