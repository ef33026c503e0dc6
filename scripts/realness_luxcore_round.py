"""The LuxCore round's conditions 1-5 from two leave-one-source-out runs of ``realness_scales.py``.

The rule: docs/training-logs/realness/luxcore-round-rule.md. Reads the held-out records of the reference
(the shipped default, fifteen sources) and of the candidate (the same recipe with the ``luxcore`` source,
sixteen), and checks: no harm over the fifteen, the four unseen engines' mean accuracy up by a point (the
hypothesis), the nine earlier sources accurate and calibrated, at most one photograph lost, a small
JPEG-75 drop. Condition 6 (the test-only photos) is scored apart (``decide.sh`` with ``PHOTOS=1``).

    python scripts/realness_luxcore_round.py runs/lite2-round/scales-128-lite2.json \\
        runs/luxcore-round/scales-128-lite2.json --out docs/training-logs/realness/luxcore-round/decision
"""

from __future__ import annotations

from typing import Any

# scripts/ is on sys.path when this runs as a script; the tests load realness_familiarity first.
from realness_familiarity import NINE  # type: ignore[import-not-found]
from realness_graphics_round import kept_conditions  # type: ignore[import-not-found]
from realness_lite2_round import (  # type: ignore[import-not-found]
    results,
    round_lines,
    run_round,
)
from realness_scales import ENGINES  # type: ignore[import-not-found]

from synthdiff.realness._evaluate import summarise_results

#: The new training source; every other source is one of the fifteen.
NEW_SOURCE = "luxcore"


def figures(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Pooled summaries over every source, the fifteen and the nine; the photos; the unseen engines."""
    fifteen = [r for r in records if r["source"] != NEW_SOURCE]
    photos = [r for r in fifteen if int(r["label"]) == 0]
    everything = summarise_results(results(records))
    per_source = {name: s["accuracy"] for name, s in everything["per_source"].items()}
    engines = {name: per_source[name] for name in ENGINES}
    return {
        "all": everything,
        "fifteen": summarise_results(results(fifteen)),
        "nine": summarise_results(results([r for r in records if r["source"] in NINE])),
        "photos_right": sum(bool(r["correct"]) for r in photos),
        "photos": len(photos),
        "engines": engines,
        "engines_mean": sum(engines.values()) / len(engines),
        "per_source": per_source,
    }


def conditions(reference: dict[str, Any], candidate: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """Rows (condition, reference, candidate, holds) of the rule's conditions 1-5."""
    ref15, cand15 = reference["fifteen"], candidate["fifteen"]
    return [
        (
            f"1a. the fifteen ({cand15['images']}): accuracy >= reference - 0.5 points",
            f"{100 * ref15['accuracy']:.1f} %",
            f"{100 * cand15['accuracy']:.1f} %",
            cand15["accuracy"] >= ref15["accuracy"] - 0.005,
        ),
        (
            "1b. the fifteen: AUC >= reference - 0.003",
            f"{ref15['auc']:.4f}",
            f"{cand15['auc']:.4f}",
            cand15["auc"] >= ref15["auc"] - 0.003,
        ),
        (
            "2. the four unseen engines' mean accuracy >= reference + 1.0 point",
            f"{100 * reference['engines_mean']:.1f} %",
            f"{100 * candidate['engines_mean']:.1f} %",
            candidate["engines_mean"] >= reference["engines_mean"] + 0.01,
        ),
        *kept_conditions(reference, candidate, first=3),
    ]


def report(reference: dict[str, Any], candidate: dict[str, Any]) -> list[str]:
    rows = conditions(reference, candidate)
    decided = all(holds for *_, holds in rows)
    return round_lines(
        "The LuxCore round: conditions 1-5 (rule: docs/training-logs/realness/luxcore-round-rule.md)",
        ("reference (shipped, fifteen sources)", "candidate (with `luxcore`)"),
        rows,
        f"Conditions 1-5: **{'all hold' if decided else 'not all hold'}** "
        "(condition 6, the test-only photos, apart).",
        [
            ("reference, the fifteen", reference["fifteen"]),
            ("candidate, the fifteen", candidate["fifteen"]),
            ("candidate, all sixteen", candidate["all"]),
        ],
        reference,
        candidate,
    )


def main() -> None:
    run_round(__doc__.split("\n\n")[0], figures, conditions, report)


if __name__ == "__main__":
    main()
