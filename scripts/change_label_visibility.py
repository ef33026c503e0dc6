"""How visible are the changes the labels count, and which of them does a detector find? (a diagnosis)

For the changed feature of each single-feature pair, the labelled change pixels are binned by how
much the picture changed there (the largest channel difference between the two images, 0-1), and for
each bin the script gives the share of labelled pixels and the detector's recall at its stored
threshold. Low-contrast bins with many labelled pixels and low recall say that part of the gap to a
target lies in changes a viewer can hardly see. With ``--figure``, a picture of the pairs with the
most strongly visible unlabelled marks and the most visible missed labels of ``--figure-feature``
(per row: reference, test, 4x their difference, and white found, red missed, blue marked but not
labelled). It also says what the missed pixels were called instead (another feature, or nothing), in
all and split by where the pair's changes were (``ground``, ``object`` or both: the targets in the
manifest). It decides nothing.

    python scripts/change_label_visibility.py --model fresunet --data data/change/reflection --split val \
        --figure docs/images/reflection-errors.jpg --figure-feature reflection
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from synthdiff.change._data import ChangePairs
from synthdiff.change._hysteresis import change_masks, threshold_tensor
from synthdiff.change._registry import load_checkpoint

EDGES = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 1.01)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="fresunet", help="shipped model name or checkpoint")
    parser.add_argument("--data", type=Path, action="append", required=True, help="single-feature dataset")
    parser.add_argument("--split", default="val", choices=("train", "val", "test"))
    parser.add_argument("-o", "--out", type=Path, help="write the table as JSON here")
    parser.add_argument("--figure", type=Path, help="write example pairs (JPEG or PNG) here")
    parser.add_argument("--figure-feature", default="reflection", help="whose pairs the figure shows")
    parser.add_argument("--examples", type=int, default=3, help="pairs of each kind in the figure")
    args = parser.parse_args()
    torch.set_num_threads(2)
    model, metadata = load_checkpoint(args.model)
    model.eval()
    features = list(metadata["features"])
    high = threshold_tensor(features, metadata["thresholds"])
    low = threshold_tensor(features, metadata["low_thresholds"])
    data = ChangePairs(args.data, args.split, features)
    bins = len(EDGES) - 1
    labelled = {name: np.zeros(bins) for name in features}
    found = {name: np.zeros(bins) for name in features}
    marked_outside = {name: np.zeros(bins) for name in features}
    outside = {name: np.zeros(bins) for name in features}
    worst: list[tuple[int, int, int]] = []  # (visible unlabelled marks, visible missed labels, index)
    # Per feature and place: labelled pixels, found, and the missed ones marked as each other feature / none.
    called: dict[str, dict[str, dict[str, float]]] = {}
    with torch.inference_mode():
        for index in range(len(data)):
            item = data[index]
            name = item["feature"]
            if name not in features:
                continue
            f = features.index(name)
            reference, test = item["reference"][None], item["test"][None]
            probabilities = torch.sigmoid(model(reference, test).change[0]).numpy()
            # The model's change masks as it is stored (its low thresholds and minimum area too).
            stored = change_masks(torch.from_numpy(probabilities)[None], high, low, metadata["min_area"])
            every = stored[0].numpy()
            marked = every[f]
            label = item["change"][f].numpy() > 0.5
            difference = (reference - test).abs().amax(dim=1)[0].numpy()
            which = np.clip(np.digitize(difference, EDGES) - 1, 0, bins - 1)
            labelled[name] += np.bincount(which[label], minlength=bins)
            found[name] += np.bincount(which[label & marked], minlength=bins)
            outside[name] += np.bincount(which[~label], minlength=bins)
            marked_outside[name] += np.bincount(which[~label & marked], minlength=bins)
            missed = label & ~marked
            elsewhere = {other: int((missed & every[k]).sum()) for k, other in enumerate(features) if k != f}
            counts = {
                "labelled": int(label.sum()),
                "found": int((label & marked).sum()),
                **elsewhere,
                "nothing": int((missed & ~every.any(axis=0)).sum()),
            }
            for place in ("all", data.pairs[index].place):
                row = called.setdefault(name, {}).setdefault(place, {})
                for key, value in counts.items():
                    row[key] = row.get(key, 0) + value
                row["pairs"] = row.get("pairs", 0) + 1
            if name == args.figure_feature:
                strong = difference > 0.2
                worst.append(
                    (int((~label & marked & strong).sum()), int((label & ~marked & strong).sum()), index)
                )
    table = {}
    for name in features:
        if labelled[name].sum() == 0:
            continue
        rows = []
        for b in range(bins):
            rows.append(
                {
                    "difference": f"{EDGES[b]:g}-{min(EDGES[b + 1], 1.0):g}",
                    "share_of_labelled": labelled[name][b] / labelled[name].sum(),
                    "recall": found[name][b] / labelled[name][b] if labelled[name][b] else None,
                    "share_of_false_marks": marked_outside[name][b] / max(marked_outside[name].sum(), 1),
                }
            )
        table[name] = {
            "labelled_pixels": int(labelled[name].sum()),
            "recall": found[name].sum() / labelled[name].sum(),
            "rows": rows,
        }
        print(f"{name}: {int(labelled[name].sum())} labelled pixels, recall {table[name]['recall']:.3f}")
        print("| image difference | share of labelled | recall | share of false marks |")
        print("| --- | --- | --- | --- |")
        for row in rows:
            recall = "-" if row["recall"] is None else f"{row['recall']:.3f}"
            print(
                f"| {row['difference']} | {row['share_of_labelled']:.1%} | {recall} | "
                f"{row['share_of_false_marks']:.1%} |"
            )
    for name, places in called.items():
        others = [other for other in features if other != name]
        print(f"{name}: what the labelled change pixels were called (share of the labelled pixels)")
        print(f"| changes on | pairs | found as {name} | " + " | ".join(f"missed, marked {o}" for o in others)
              + " | missed, marked nothing |")  # fmt: skip
        print("| --- " * (len(others) + 4) + "|")
        for place, row in sorted(places.items(), key=lambda item: item[0] != "all"):
            total = max(row["labelled"], 1)
            shares = " | ".join(f"{row[o] / total:.1%}" for o in [*others, "nothing"])
            print(f"| {place} | {row['pairs']} | {row['found'] / total:.1%} | {shares} |")
    if args.figure and worst:
        chosen = [w[2] for w in sorted(worst, key=lambda w: -w[0])[: args.examples]]
        chosen += [w[2] for w in sorted(worst, key=lambda w: -w[1]) if w[2] not in chosen][: args.examples]
        strips = [
            _figure_row(model, data, index, (high, low), args.figure_feature, features) for index in chosen
        ]
        args.figure.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.concatenate(strips, axis=0)).save(args.figure, quality=85)
        print(f"figure: {args.figure} ({', '.join(data[i]['pair_id'] for i in chosen)})")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        report = {"model": args.model, "split": args.split, "features": table, "called": called}
        args.out.write_text(json.dumps(report, indent=1))


def _figure_row(
    model: torch.nn.Module,
    data: ChangePairs,
    index: int,
    thresholds: tuple[torch.Tensor, torch.Tensor],
    name: str,
    features: list[str],
) -> np.ndarray:
    """Reference, test, 4x difference, and the errors (white found, red missed, blue unlabelled mark)."""
    item = data[index]
    f = features.index(name)
    reference, test = item["reference"][None], item["test"][None]
    with torch.inference_mode():
        marked = change_masks(torch.sigmoid(model(reference, test).change), *thresholds)[0, f].numpy()
    label = item["change"][f].numpy() > 0.5
    difference = (reference - test).abs().amax(dim=1)[0].numpy()
    errors = np.zeros((*label.shape, 3), dtype=np.uint8)
    errors[label & marked], errors[label & ~marked], errors[~label & marked] = (
        (255, 255, 255),
        (255, 0, 0),
        (0, 128, 255),
    )

    def to_8bit(image: np.ndarray) -> np.ndarray:
        return (np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)

    tiles = [to_8bit(reference[0].numpy().transpose(1, 2, 0)), to_8bit(test[0].numpy().transpose(1, 2, 0))]
    tiles += [np.repeat(to_8bit(4 * difference)[..., None], 3, axis=2), errors]
    return np.concatenate(tiles, axis=1)


if __name__ == "__main__":
    main()
