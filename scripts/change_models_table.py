"""Side-by-side markdown table of change-detector evaluations (docs/models.md).

    python scripts/change_models_table.py runs/eval-fresunet/eval.json runs/eval-changestar/eval.json

For each group of pairs (the dataset feature) it lists the label features that group changes
(single-feature sets: their feature; ``mixed``: illumination and texture; ``all``: the four), with the
change-class precision, recall, F1 and IoU of every model; then the false-positive pixel rate on
``none`` pairs and the swap consistency.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

CHANGED = {
    "mixed": ("illumination", "texture"),
    "all": ("illumination", "reflection", "texture", "transparency"),
}


def _cell(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.3f} %"


def table(evaluations: list[dict]) -> str:
    names = [e["model"] for e in evaluations]
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
                cells.append(" / ".join(_cell(score[k]) for k in ("precision", "recall", "f1", "iou")))
            lines.append(
                f"| {group} | {evaluations[0]['pairs'][group]} | {label} | " + " | ".join(cells) + " |"
            )
    lines.append(
        f"| none | {evaluations[0]['pairs'].get('none', 0)} | false-positive pixels | "
        + " | ".join(_percent(e["none_false_positive_rate"]) for e in evaluations)
        + " |"
    )
    swaps = " | ".join(_cell(e["swap_iou"]) for e in evaluations)
    lines.append(f"| every pair | | swap IoU | {swaps} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("evaluations", nargs="+", type=Path)
    args = parser.parse_args()
    print(table([json.loads(p.read_text()) for p in args.evaluations]))


if __name__ == "__main__":
    main()
