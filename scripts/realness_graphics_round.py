"""The graphics round's conditions 1-4 from two leave-one-source-out runs of ``realness_scales.py``.

The rule: docs/training-logs/realness/graphics-round-rule.md. Reads the held-out records of the reference
(the shipped default, fifteen sources) and of the candidate (the same recipe with the ``graphics`` source,
sixteen), and checks that nothing is lost on the fourteen sources other than POV-Ray, that the nine
earlier sources stay accurate and calibrated, that no more than one photograph is lost and that JPEG 75
costs little. POV-Ray's figure is reported but is not a clean measure in this round (its misses were
looked at to design the new source). The gates are scored apart (``realness_scales.py --final-only
--gate``).

    python scripts/realness_graphics_round.py runs/lite2-round/scales-128-lite2.json \\
        runs/graphics-round/scales-128-lite2.json --out docs/training-logs/realness/graphics-round/decision
"""

from __future__ import annotations

from typing import Any

# scripts/ is on sys.path when this runs as a script; the tests load realness_familiarity first.
from realness_familiarity import NINE  # type: ignore[import-not-found]
from realness_lite2_round import (  # type: ignore[import-not-found]
    nine_cell,
    results,
    round_lines,
    run_round,
)

from synthdiff.realness._evaluate import summarise_results

#: Not a clean measure in this round, and the new source itself.
SET_ASIDE = ("povray-examples", "graphics")


def figures(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Pooled summaries over every source, the fifteen, the fourteen (no POV-Ray) and the nine; photos."""
    fifteen = [r for r in records if r["source"] != "graphics"]
    photos = [r for r in fifteen if int(r["label"]) == 0]
    everything = summarise_results(results(records))
    return {
        "all": everything,
        "fifteen": summarise_results(results(fifteen)),
        "fourteen": summarise_results(results([r for r in records if r["source"] not in SET_ASIDE])),
        "nine": summarise_results(results([r for r in records if r["source"] in NINE])),
        "photos_right": sum(bool(r["correct"]) for r in photos),
        "photos": len(photos),
        "per_source": {name: s["accuracy"] for name, s in everything["per_source"].items()},
    }


def kept_conditions(
    reference: dict[str, Any], candidate: dict[str, Any], first: int
) -> list[tuple[str, str, str, bool]]:
    """The conditions every source round keeps, numbered from ``first``: the nine accurate and calibrated,
    at most one photo of the fifteen lost, a JPEG-75 drop on the nine of at most 3 points."""
    nine = candidate["nine"]
    return [
        (
            f"{first}. the nine: accuracy >= 96.0 %, log loss <= 0.15, ECE <= 0.05",
            nine_cell(reference["nine"]),
            nine_cell(nine),
            nine["accuracy"] >= 0.96 and nine["log_loss"] <= 0.15 and nine["ece"] <= 0.05,
        ),
        (
            f"{first + 1}. photos of the fifteen ({candidate['photos']}): at most one fewer right",
            str(reference["photos_right"]),
            str(candidate["photos_right"]),
            candidate["photos_right"] >= reference["photos_right"] - 1,
        ),
        (
            f"{first + 2}. JPEG 75 drop on the nine <= 3 points",
            f"{100 * reference['nine']['accuracy_drop_jpeg75']:.1f}",
            f"{100 * nine['accuracy_drop_jpeg75']:.1f}",
            nine["accuracy_drop_jpeg75"] <= 0.03,
        ),
    ]


def conditions(reference: dict[str, Any], candidate: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """Rows (condition, reference, candidate, holds) of the rule's conditions 1-4 and POV-Ray's figure."""
    ref14, cand14 = reference["fourteen"], candidate["fourteen"]
    povray_ref = reference["per_source"].get("povray-examples", float("nan"))
    povray = candidate["per_source"].get("povray-examples", float("nan"))
    return [
        (
            f"1a. the fourteen other than POV-Ray ({cand14['images']}): accuracy >= reference - 0.5 points",
            f"{100 * ref14['accuracy']:.1f} %",
            f"{100 * cand14['accuracy']:.1f} %",
            cand14["accuracy"] >= ref14["accuracy"] - 0.005,
        ),
        (
            "1b. the fourteen: AUC >= reference - 0.003",
            f"{ref14['auc']:.4f}",
            f"{cand14['auc']:.4f}",
            cand14["auc"] >= ref14["auc"] - 0.003,
        ),
        *kept_conditions(reference, candidate, first=2),
        (
            "reported, not clean (decides nothing): POV-Ray held out",
            f"{100 * povray_ref:.1f} %",
            f"{100 * povray:.1f} %",
            povray >= povray_ref,
        ),
    ]


def report(reference: dict[str, Any], candidate: dict[str, Any]) -> list[str]:
    rows = conditions(reference, candidate)
    decided = all(holds for name, *_, holds in rows if not name.startswith("reported"))
    return round_lines(
        "The graphics round: conditions 1-4 (rule: docs/training-logs/realness/graphics-round-rule.md)",
        ("reference (shipped, fifteen sources)", "candidate (with `graphics`)"),
        rows,
        f"Conditions 1-4: **{'all hold' if decided else 'not all hold'}** (the gates apart).",
        [
            ("reference, the fifteen", reference["fifteen"]),
            ("candidate, the fifteen", candidate["fifteen"]),
            ("candidate, all sixteen", candidate["all"]),
            ("reference, the fourteen (no POV-Ray)", reference["fourteen"]),
            ("candidate, the fourteen (no POV-Ray)", candidate["fourteen"]),
        ],
        reference,
        candidate,
    )


def main() -> None:
    run_round(__doc__.split("\n\n")[0], figures, conditions, report)


if __name__ == "__main__":
    main()
