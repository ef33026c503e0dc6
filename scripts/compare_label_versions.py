"""Two renderings of the same pairs with different labels versions: how the labels differ, and how a
detector scores against each (a diagnosis; it decides nothing).

The two dataset folders must come from the same options and seed (so a pair id is the same scene and
change in both; the renders differ only by Cycles' sampling noise). On the pair ids both have in the
split, for the dataset's feature: the labelled share of pixels in each version, the IoU of the two
labels, and the detector's change precision, recall and F1 (pixel counts summed over the pairs, at
its stored threshold, on each folder's own images) against each version's labels.

    python scripts/compare_label_versions.py data/change/reflection data/change/reflection-v2 \\
        --model fresunet --split val
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from synthdiff.change._data import ChangePairs
from synthdiff.change._registry import load_checkpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old", type=Path, help="dataset folder with the older labels")
    parser.add_argument("new", type=Path, help="the same pairs with the newer labels")
    parser.add_argument("--model", action="append", help="shipped model name or checkpoint (repeat)")
    parser.add_argument("--split", default="val", choices=("train", "val", "test"))
    parser.add_argument("-o", "--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(2)
    report: dict[str, object] = {"old": str(args.old), "new": str(args.new), "split": args.split}
    for spec in args.model or ["fresunet"]:
        model, metadata = load_checkpoint(spec)
        model.eval()
        features = list(metadata["features"])
        old, new = (ChangePairs([folder], args.split, features) for folder in (args.old, args.new))
        old_index = {old.pairs[i].pair_id: i for i in range(len(old))}
        common = [
            (old_index[new.pairs[j].pair_id], j) for j in range(len(new)) if new.pairs[j].pair_id in old_index
        ]
        if not common:
            raise SystemExit("The two folders share no pair id in this split.")
        feature = new[common[0][1]]["feature"]
        f = features.index(feature)
        threshold = metadata["thresholds"][feature]
        counts = {version: np.zeros(3) for version in ("old", "new")}  # TP, FP, FN
        labelled = {"old": 0.0, "new": 0.0}
        overlap = union = pixels = 0.0
        with torch.inference_mode():
            for i, j in common:
                labels = {}
                for version, data, index in (("old", old, i), ("new", new, j)):
                    item = data[index]
                    probability = torch.sigmoid(
                        model(item["reference"][None], item["test"][None]).change[0, f]
                    )
                    marked = probability.numpy() >= threshold
                    label = item["change"][f].numpy() > 0.5
                    labels[version] = label
                    labelled[version] += label.sum()
                    counts[version] += [
                        (marked & label).sum(),
                        (marked & ~label).sum(),
                        (~marked & label).sum(),
                    ]
                overlap += (labels["old"] & labels["new"]).sum()
                union += (labels["old"] | labels["new"]).sum()
                pixels += labels["old"].size
        scores = {}
        for version, (tp, fp, fn) in counts.items():
            precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
            f1 = 2 * precision * recall / max(precision + recall, 1e-12)
            scores[version] = {
                "precision": precision,
                "recall": recall,
                "f1": f1,
                "labelled": labelled[version] / pixels,
            }
        report[spec] = {
            "feature": feature,
            "pairs": len(common),
            "label_iou": overlap / max(union, 1),
            **scores,
        }
        print(
            f"{spec} on {len(common)} {feature} pairs: labelled {scores['old']['labelled']:.1%} -> "
            f"{scores['new']['labelled']:.1%} of the pixels (IoU {overlap / max(union, 1):.3f}); "
            + "; ".join(
                f"{v}: P {s['precision']:.3f} R {s['recall']:.3f} F1 {s['f1']:.3f}" for v, s in scores.items()
            ),
            flush=True,
        )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1, default=float))


if __name__ == "__main__":
    main()
