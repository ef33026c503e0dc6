"""The graphics default round's conditions from two models' ``synthdiff realness-bench`` scores.

The rule: docs/training-logs/realness/graphics-default-round-rule.md. Reads the per-image ``scores.csv``
files of the shipped model and of the candidate on the same images (several files per model are
concatenated), matches the images by path, and checks the rule's four conditions on the clean set (the
test-only photos, ``luxcore-fresh2`` and ``wallpaper-renders``). ``povray-showcase`` is reported but
decides nothing.

    python scripts/realness_bench_round.py --shipped A.csv --shipped B.csv --candidate C.csv \\
        --candidate D.csv --out docs/training-logs/realness/graphics-default-round/decision
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from synthdiff.realness._evaluate import ImageResult, _log_loss, summarise_results

#: Sources that decide (the clean set) and the one reported only.
CLEAN = ("opencv-scenes", "package-photos", "wallpaper-photos", "luxcore-fresh2", "wallpaper-renders")
NOT_CLEAN = ("povray-showcase",)
ENGINE_GATE = "luxcore-fresh2"


def read_scores(paths: list[Path]) -> dict[str, ImageResult]:
    """Per-image results of realness-bench ``scores.csv`` files, keyed by image path.

    Raises:
        ValueError: if a file lacks realness-bench's columns or lists an image twice.
    """
    rows: dict[str, ImageResult] = {}
    needed = {"path", "source", "label", "probability_synthetic", "probability_synthetic_jpeg75"}
    for path in paths:
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            missing = needed - set(reader.fieldnames or [])
            if missing:
                raise ValueError(f"Expected realness-bench columns in {path}, missing {sorted(missing)}.")
            for row in reader:
                if row["path"] in rows:
                    raise ValueError(f"{row['path']} is listed twice (again in {path}).")
                rows[row["path"]] = ImageResult(
                    path=row["path"],
                    source=row["source"],
                    label=int(row["label"] == "synthetic"),
                    probability=float(row["probability_synthetic"]),
                    probability_jpeg75=float(row["probability_synthetic_jpeg75"]),
                )
    return rows


def log_loss(results: list[ImageResult]) -> float:
    """Mean negative log-likelihood, probabilities clipped to [1e-6, 1 - 1e-6] as the rule says."""
    probabilities = np.array([r.probability for r in results])
    return _log_loss(probabilities, np.array([r.label for r in results]), eps=1e-6)


def _right(results: list[ImageResult]) -> int:
    return sum((r.probability >= 0.5) == bool(r.label) for r in results)


def conditions(shipped: dict[str, ImageResult], candidate: dict[str, ImageResult]) -> dict[str, Any]:
    """The rule's four conditions and the reported figures.

    Raises:
        ValueError: if the two models did not score the same clean images.
    """
    clean = sorted(p for p, r in shipped.items() if r.source in CLEAN)
    if clean != sorted(p for p, r in candidate.items() if r.source in CLEAN):
        raise ValueError("Expected both models to have scored the same clean-set images; they differ.")
    ship = [shipped[p] for p in clean]
    cand = [candidate[p] for p in clean]
    photos = [i for i, r in enumerate(ship) if r.label == 0]
    engine = [i for i, r in enumerate(ship) if r.source == ENGINE_GATE]
    ship_sum, cand_sum = summarise_results(ship), summarise_results(cand)
    rows = [
        (
            f"1. the {len(photos)} photos: candidate right >= shipped - 1",
            _right([ship[i] for i in photos]),
            _right([cand[i] for i in photos]),
            _right([cand[i] for i in photos]) >= _right([ship[i] for i in photos]) - 1,
        ),
        (
            f"2. {ENGINE_GATE} ({len(engine)}): candidate right >= shipped - 1",
            _right([ship[i] for i in engine]),
            _right([cand[i] for i in engine]),
            len(engine) > 0 and _right([cand[i] for i in engine]) >= _right([ship[i] for i in engine]) - 1,
        ),
        (
            f"3a. the clean set ({len(clean)}): candidate log loss <= shipped",
            round(log_loss(ship), 4),
            round(log_loss(cand), 4),
            log_loss(cand) <= log_loss(ship),
        ),
        (
            f"3b. the clean set ({len(clean)}): candidate accuracy >= shipped",
            _right(ship),
            _right(cand),
            _right(cand) >= _right(ship),
        ),
        (
            "4. the clean set: candidate's JPEG-75 accuracy drop <= 3 points",
            round(100 * ship_sum["accuracy_drop_jpeg75"], 1),
            round(100 * cand_sum["accuracy_drop_jpeg75"], 1),
            cand_sum["accuracy_drop_jpeg75"] <= 0.03,
        ),
    ]
    everything = sorted(set(shipped) & set(candidate))
    return {
        "conditions": [{"condition": c, "shipped": s, "candidate": k, "holds": h} for c, s, k, h in rows],
        "ships": all(row[3] for row in rows),
        "clean": {"shipped": ship_sum, "candidate": cand_sum},
        "all": {
            "shipped": summarise_results([shipped[p] for p in everything]),
            "candidate": summarise_results([candidate[p] for p in everything]),
        },
        "not_clean": list(NOT_CLEAN),
    }


def report(decision: dict[str, Any]) -> list[str]:
    """The decision as markdown lines: the conditions, then every source and the pooled figures."""
    lines = ["| condition | shipped | candidate | holds |", "| --- | --- | --- | --- |"]
    for row in decision["conditions"]:
        holds = "yes" if row["holds"] else "**no**"
        lines.append(f"| {row['condition']} | {row['shipped']} | {row['candidate']} | {holds} |")
    lines += ["", f"**{'Ships' if decision['ships'] else 'Does not ship'}.**", ""]
    lines += [
        "| source | images | shipped right | candidate right | decides |",
        "| --- | --- | --- | --- | --- |",
    ]
    ship_all, cand_all = decision["all"]["shipped"], decision["all"]["candidate"]
    for source, figures in ship_all["per_source"].items():
        n = figures["images"]
        other = cand_all["per_source"][source]
        decides = "yes" if source in CLEAN else "no (not clean)"
        lines.append(
            f"| {source} ({figures['label']}) | {n} | {round(figures['accuracy'] * n)} | "
            f"{round(other['accuracy'] * n)} | {decides} |"
        )
    lines.append("")
    for name in ("clean", "all"):
        for model in ("shipped", "candidate"):
            s = decision[name][model]
            lines.append(
                f"- {name} ({s['images']}), {model}: accuracy {100 * s['accuracy']:.1f} % "
                f"[{100 * s['accuracy_interval'][0]:.1f}, {100 * s['accuracy_interval'][1]:.1f}], "
                f"AUC {s['auc']:.3f} "
                f"[{s['auc_interval'][0]:.3f}, {s['auc_interval'][1]:.3f}], ECE {s['ece']:.3f} "
                + (
                    f"[{s['ece_interval'][0]:.3f}, {s['ece_interval'][1]:.3f}]"
                    if s["ece_interval"]
                    else "(no interval under 30 images)"
                )
                + f", log loss {s['log_loss']:.3f}, "
                f"after JPEG 75 {100 * s['accuracy_jpeg75']:.1f} %"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--shipped", type=Path, action="append", required=True, help="scores.csv of the shipped model"
    )
    parser.add_argument(
        "--candidate", type=Path, action="append", required=True, help="scores.csv of the candidate"
    )
    parser.add_argument("--out", type=Path, required=True, help="writes OUT.md and OUT.json")
    args = parser.parse_args()
    decision = conditions(read_scores(args.shipped), read_scores(args.candidate))
    text = "\n".join(report(decision)) + "\n"
    args.out.with_suffix(".md").write_text(text)
    args.out.with_suffix(".json").write_text(json.dumps(decision, indent=1) + "\n")
    print(text, end="")


if __name__ == "__main__":
    main()
