"""The Lite2 round's conditions 1-4 from two leave-one-source-out runs of ``realness_scales.py``.

The rule: docs/training-logs/realness/lite2-round-rule.md. Reads the held-out records of the reference
(the shipped recipe on EfficientNet-Lite0) and of the candidate (the same recipe on Lite2), pools each
over all sources and over the nine earlier ones, and writes a table with intervals and which condition
holds. Conditions 5 (speed) and 6 (the gate) are measured apart (benchmarks/bench_realness.py,
``realness_scales.py --final-only --gate``).

    python scripts/realness_lite2_round.py runs/lite2-round-ref/scales-128.json \\
        runs/lite2-round/scales-128-lite2.json --out runs/lite2-round/decision
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

# scripts/ is on sys.path when this runs as a script; the tests load realness_familiarity first.
from realness_familiarity import NINE  # type: ignore[import-not-found]
from realness_scales import ENGINES  # type: ignore[import-not-found]

from synthdiff.realness._evaluate import ImageResult, summarise_results


def results(records: list[dict[str, Any]]) -> list[ImageResult]:
    return [
        ImageResult(
            r["path"],
            r["source"],
            int(r["label"]),
            r["probability_synthetic"],
            r["probability_synthetic_jpeg75"],
        )
        for r in records
    ]


def figures(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Pooled summaries over all sources, the nine, and the nine's photos; per-source accuracies."""
    everything = summarise_results(results(records))
    nine = summarise_results(results([r for r in records if r["source"] in NINE]))
    photos = [r for r in records if r["source"] in NINE and int(r["label"]) == 0]
    return {
        "all": everything,
        "nine": nine,
        "photos_accuracy": sum(r["correct"] for r in photos) / len(photos),
        "photos": f"{sum(r['correct'] for r in photos)} of {len(photos)}",
        "per_source": {name: s["accuracy"] for name, s in everything["per_source"].items()},
    }


def conditions(reference: dict[str, Any], candidate: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """Rows (condition, reference, candidate, holds) of the rule's conditions 1-4 and the hypothesis."""
    ref_all, cand_all, nine = reference["all"], candidate["all"], candidate["nine"]
    povray_ref = reference["per_source"].get("povray-examples", float("nan"))
    povray = candidate["per_source"].get("povray-examples", float("nan"))
    return [
        (
            "1a. all sources: AUC >= reference + 0.010",
            f"{ref_all['auc']:.4f}",
            f"{cand_all['auc']:.4f}",
            cand_all["auc"] >= ref_all["auc"] + 0.010,
        ),
        (
            "1b. all sources: accuracy >= reference + 2.0 points",
            f"{100 * ref_all['accuracy']:.1f} %",
            f"{100 * cand_all['accuracy']:.1f} %",
            cand_all["accuracy"] >= ref_all["accuracy"] + 0.020,
        ),
        (
            "2. nine sources: accuracy >= 96.0 %, log loss <= 0.15, ECE <= 0.05",
            nine_cell(reference["nine"]),
            nine_cell(nine),
            nine["accuracy"] >= 0.96 and nine["log_loss"] <= 0.15 and nine["ece"] <= 0.05,
        ),
        (
            "3. their photos >= 95 %",
            reference["photos"],
            candidate["photos"],
            candidate["photos_accuracy"] >= 0.95,
        ),
        (
            "4. JPEG 75 drop on the nine <= 3 points",
            f"{100 * reference['nine']['accuracy_drop_jpeg75']:.1f}",
            f"{100 * nine['accuracy_drop_jpeg75']:.1f}",
            nine["accuracy_drop_jpeg75"] <= 0.03,
        ),
        (
            "hypothesis (decides nothing): POV-Ray >= reference + 5 points",
            f"{100 * povray_ref:.1f} %",
            f"{100 * povray:.1f} %",
            povray >= povray_ref + 0.05,
        ),
    ]


def nine_cell(summary: dict[str, Any]) -> str:
    return f"{100 * summary['accuracy']:.1f} %, {summary['log_loss']:.3f}, {summary['ece']:.3f}"


def pooled_row(name: str, summary: dict[str, Any]) -> str:
    low, high = (100 * x for x in summary["accuracy_interval"])
    auc_low, auc_high = summary["auc_interval"]
    # Sets under 30 images get no ECE interval (realness._evaluate.ECE_INTERVAL_MIN_IMAGES).
    ece_bounds = summary["ece_interval"]
    ece_text = f" [{ece_bounds[0]:.3f}, {ece_bounds[1]:.3f}]" if ece_bounds else ""
    return (
        f"| {name} | {summary['images']} | {100 * summary['accuracy']:.1f} % [{low:.1f}, {high:.1f}] "
        f"| {summary['auc']:.3f} [{auc_low:.3f}, {auc_high:.3f}] | {summary['ece']:.3f}{ece_text} "
        f"| {summary['log_loss']:.3f} |"
    )


def condition_lines(rows: list[tuple[str, str, str, bool]]) -> list[str]:
    """Markdown table rows of (condition, reference, candidate, holds)."""
    return [
        f"| {name} | {ref} | {cand} | {'yes' if holds else '**no**'} |" for name, ref, cand, holds in rows
    ]


def per_source_lines(reference: dict[str, Any], candidate: dict[str, Any]) -> list[str]:
    """A table of each source's held-out accuracy, reference against candidate ("-": no reference)."""
    lines = ["| held out | images | reference | candidate |", "| --- | --- | --- | --- |"]
    for source, stats in sorted(candidate["all"]["per_source"].items()):
        ref = reference["per_source"].get(source)
        shown = "-" if ref is None else f"{100 * ref:.1f} %"
        lines.append(f"| {source} | {stats['images']} | {shown} | {100 * stats['accuracy']:.1f} % |")
    return lines


def round_lines(
    title: str,
    columns: tuple[str, str],
    rows: list[tuple[str, str, str, bool]],
    verdict: str,
    pooled: list[tuple[str, dict[str, Any]]],
    reference: dict[str, Any],
    candidate: dict[str, Any],
) -> list[str]:
    """A round's report: its conditions, the verdict, the pooled held-out rows and the per-source table."""
    return [
        f"# {title}",
        "",
        f"| condition | {columns[0]} | {columns[1]} | holds |",
        "| --- | --- | --- | --- |",
        *condition_lines(rows),
        "",
        verdict,
        "",
        "| pooled held-out | images | accuracy | AUC | ECE | log loss |",
        "| --- | --- | --- | --- | --- | --- |",
        *(pooled_row(name, summary) for name, summary in pooled),
        "",
        *per_source_lines(reference, candidate),
    ]


def run_round(
    description: str,
    figures: Callable[[list[dict[str, Any]]], dict[str, Any]],
    conditions: Callable[[dict[str, Any], dict[str, Any]], list[tuple[str, str, str, bool]]],
    report: Callable[[dict[str, Any], dict[str, Any]], list[str]],
) -> None:
    """A round script's command line: two runs' scales-*.json in, OUT.md and OUT.json out."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("reference", type=Path, help="the reference run's scales-*.json")
    parser.add_argument("candidate", type=Path, help="the candidate run's scales-*.json")
    parser.add_argument("--out", type=Path, required=True, help="writes OUT.md and OUT.json")
    args = parser.parse_args()
    reference = figures(json.loads(args.reference.read_text())["records"])
    candidate = figures(json.loads(args.candidate.read_text())["records"])
    lines = report(reference, candidate)
    rows = conditions(reference, candidate)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    payload = {
        "reference": reference,
        "candidate": candidate,
        "conditions": [{"condition": n, "reference": r, "candidate": c, "holds": h} for n, r, c, h in rows],
    }
    args.out.with_suffix(".json").write_text(json.dumps(payload, indent=1))
    print("\n".join(lines))


def report(reference: dict[str, Any], candidate: dict[str, Any]) -> list[str]:
    rows = conditions(reference, candidate)
    decided = all(holds for name, *_, holds in rows if not name.startswith("hypothesis"))
    lines = round_lines(
        "The Lite2 round: conditions 1-4 (rule: docs/training-logs/realness/lite2-round-rule.md)",
        ("reference (Lite0)", "candidate (Lite2)"),
        rows,
        f"Conditions 1-4: **{'all hold' if decided else 'not all hold'}** (5 and 6 apart).",
        [
            ("reference, all sources", reference["all"]),
            ("candidate, all sources", candidate["all"]),
            ("reference, the nine", reference["nine"]),
            ("candidate, the nine", candidate["nine"]),
        ],
        reference,
        candidate,
    )
    engines = [candidate["per_source"].get(name, float("nan")) for name in ENGINES]
    lines += [
        "",
        f"Mean of the four engines held out (decides nothing here): {100 * sum(engines) / 4:.1f} %.",
    ]
    return lines


def main() -> None:
    run_round(__doc__.split("\n\n")[0], figures, conditions, report)


if __name__ == "__main__":
    main()
