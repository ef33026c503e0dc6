"""Side-by-side markdown table of change-detector evaluations (docs/models.md).

    python scripts/change_models_table.py runs/eval-fresunet/eval.json runs/eval-changestar/eval.json

For each group of pairs (the dataset feature) it lists the label features that group changes
(single-feature sets: their feature; ``mixed``: illumination and texture; ``all``: the four), with the
change-class precision, recall, F1 and IoU of every model; then the false-positive pixel rate on
``none`` pairs and the swap consistency. With ``--wrong-feature``, a second table: on each
single-feature set, the share of pixels each model marks as changed for the features that did *not*
change (their false-positive rate), which the first table cannot show. ``--names`` labels the
columns when two evaluations are of the same model.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from synthdiff.change._report import format_percent, format_score

CHANGED = {
    "mixed": ("illumination", "texture"),
    "all": ("illumination", "reflection", "texture", "transparency"),
}


def table(evaluations: list[dict], names: list[str]) -> str:
    header = "| pairs of | n | label | " + " | ".join(f"{n} P / R / F1 / IoU" for n in names) + " |"
    lines = [header, "| --- | --- | --- | " + " | ".join("---" for _ in names) + " |"]
    groups = [g for g in evaluations[0]["pairs"] if g != "none"]
    for group in sorted(groups, key=lambda g: (g in CHANGED, g)):
        for label in CHANGED.get(group, (group,)):
            if label not in evaluations[0]["features"]:
                continue
            cells = []
            for evaluation in evaluations:
                score = evaluation["scores"][group]["change"][label]
                cells.append(" / ".join(format_score(score[k]) for k in ("precision", "recall", "f1", "iou")))
            lines.append(
                f"| {group} | {evaluations[0]['pairs'][group]} | {label} | " + " | ".join(cells) + " |"
            )
    lines.append(
        f"| none | {evaluations[0]['pairs'].get('none', 0)} | false-positive pixels | "
        + " | ".join(format_percent(e["none_false_positive_rate"]) for e in evaluations)
        + " |"
    )
    swaps = " | ".join(format_score(e["swap_iou"]) for e in evaluations)
    lines.append(f"| every pair | | swap IoU | {swaps} |")
    return "\n".join(lines)


SHORT = {"illumination": "illum.", "reflection": "refl.", "texture": "tex.", "transparency": "transp."}


def wrong_feature_table(evaluations: list[dict], names: list[str]) -> str:
    features = evaluations[0]["features"]
    header = "| pairs of | n | " + " | ".join(
        f"{n}: {' / '.join(SHORT.get(f, f) for f in features)}" for n in names
    )
    lines = [header + " |", "| --- | --- | " + " | ".join("---" for _ in names) + " |"]
    groups = [g for g in evaluations[0]["pairs"] if g in features or g == "none"]
    for group in sorted(groups):
        cells = []
        for evaluation in evaluations:
            change = evaluation["scores"][group]["change"]
            cells.append(
                " / ".join(
                    "-" if f == group else format_percent(change[f]["false_positive_rate"]) for f in features
                )
            )
        lines.append(f"| {group} | {evaluations[0]['pairs'][group]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("evaluations", nargs="+", type=Path)
    parser.add_argument("--names", nargs="+", help="column labels (default: each evaluation's model)")
    parser.add_argument("--wrong-feature", action="store_true", help="also the wrong-feature table")
    args = parser.parse_args()
    evaluations = [json.loads(p.read_text()) for p in args.evaluations]
    names = args.names or [e["model"] for e in evaluations]
    if len(names) != len(evaluations):
        parser.error(f"Expected {len(evaluations)} --names, got {len(names)}.")
    print(table(evaluations, names))
    if args.wrong_feature:
        print()
        print(wrong_feature_table(evaluations, names))


if __name__ == "__main__":
    main()
