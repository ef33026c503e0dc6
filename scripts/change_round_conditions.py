"""Check the six shipping conditions of a change-detection round (stage 15's rule onwards).

The rules (docs/training-logs/stage15-rule.md to stage17-rule.md) ship a candidate only if all six hold
on a fresh decision set, against the shipped model at its stored thresholds:

1. its weakest own-set F1 of the four single-feature sets is at least the shipped model's weakest plus
   0.02;
2. the mean of its four own-set F1s is not below the shipped model's;
3. the mean of its four F1s on the ``all`` pairs is at least the shipped model's minus 0.02;
4. its mean wrong-feature rate is not above the shipped model's;
5. it marks at most 0.1 % of the unchanged pairs' pixels;
6. its texture F1 on the object-only texture pairs is not below the shipped model's minus 0.01.

``--rule mixed`` checks instead the six conditions of a round aimed at the mixed-set target
(docs/training-logs/stage18-rule.md, written before its data):

1. the mean of its four F1s on the ``all`` pairs is at least the shipped model's plus 0.03;
2. its weakest own-set F1 is not below the shipped model's weakest;
3. the mean of its four own-set F1s is at least the shipped model's minus 0.01;
4. to 6. as 4 to 6 above.

``--rule default`` checks the conditions of a "better default" round (docs/training-logs/
default18-rule.md, written before its data): no worse than the shipped model on any figure.

1. the mean of its four F1s on the ``all`` pairs is not below the shipped model's;
2. its weakest own-set F1 is not below the shipped model's weakest;
3. the mean of its four own-set F1s is not below the shipped model's;
4. its mean wrong-feature rate is not above the shipped model's;
5. it marks at most 0.1 % of the unchanged pairs' pixels, or at most as many as the shipped model
   where that is more;
6. as 6 above.

``--rule noise`` checks the conditions of a round aimed at the false-alarm target (docs/training-logs/
stage21-rule.md, written before its data): fewer unchanged pixels marked, nothing else much worse.

1. its weakest own-set F1 is at least the shipped model's weakest minus 0.01;
2. the mean of its four own-set F1s is at least the shipped model's minus 0.01;
3. the mean of its four F1s on the ``all`` pairs is at least the shipped model's minus 0.02;
4. its mean wrong-feature rate is not above the shipped model's;
5. it marks at most 0.1 % of the unchanged pairs' pixels, and at most 0.6 times as many as the shipped
   model (a cut of at least 40 %);
6. as 6 above.

Until now a round's decision text printed the figures and the conditions were checked by hand. This
script reads the same files ``scripts/change_round_decision.sh`` writes (``change_visibility.py
--stored`` reports and the ``eval change`` of the texture sets, for ``by_place``) and prints each
condition with its bar, the two figures, and whether it holds, from the unrounded figures.

    python scripts/change_round_conditions.py runs/stage16r/fresh79+83-shipped.json \\
        runs/stage16r/eval-texture-shipped/eval.json runs/stage16r/fresh79+83-stage16r.json \\
        runs/stage16r/eval-texture-stage16r/eval.json
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SINGLE = ("illumination", "reflection", "texture", "transparency")
OBJECT_TEXTURE = "texture/object"
UNCHANGED_LIMIT = 0.001


@dataclass(frozen=True)
class Condition:
    """One condition: its name, the two models' figures, the bar the candidate's must meet, and whether
    it does (``higher``: at least the bar; otherwise at most)."""

    name: str
    shipped: float
    candidate: float
    bar: float
    higher: bool
    percent: bool = False

    @property
    def holds(self) -> bool:
        return self.candidate >= self.bar if self.higher else self.candidate <= self.bar


def figures(report: dict[str, Any], evaluation: dict[str, Any]) -> dict[str, float]:
    """The figures the conditions compare, from a ``change_visibility.py --stored`` report (its
    ``shipped`` entry: the model at its stored thresholds) and an ``eval change`` result of the texture
    sets."""
    scores = report["shipped"]
    by_set = scores["change_f1_by_set"]
    missing = [name for name in (*SINGLE, "all") if name not in by_set]
    if missing:
        raise SystemExit(
            f"The report has no change F1 for the sets {missing}: score all five sets and `all`."
        )
    own = [by_set[name][name] for name in SINGLE]
    if OBJECT_TEXTURE not in evaluation.get("by_place", {}):
        raise SystemExit(
            f"The evaluation has no {OBJECT_TEXTURE!r} pairs: run eval change on the texture sets."
        )
    if scores.get("unchanged_false_positive_rate") is None:
        raise SystemExit("The report has no unchanged pairs' false alarms: score it with --none-data.")
    return {
        "weakest": min(own),
        "mean": sum(own) / len(own),
        "all": sum(by_set["all"][name] for name in SINGLE) / len(SINGLE),
        "wrong": scores["mean_wrong_feature_rate"],
        "unchanged": scores["unchanged_false_positive_rate"],
        "object_texture": evaluation["by_place"][OBJECT_TEXTURE]["change"]["f1"] or 0.0,
    }


# Conditions 1-3 of each rule, in its order: (figure, margin over the shipped model's figure); the
# candidate's figure must be at least the shipped one plus the margin.
FIRST_THREE = {
    "six": (("weakest", 0.02), ("mean", 0.0), ("all", -0.02)),
    "mixed": (("all", 0.03), ("weakest", 0.0), ("mean", -0.01)),
    "default": (("all", 0.0), ("weakest", 0.0), ("mean", 0.0)),
    "noise": (("weakest", -0.01), ("mean", -0.01), ("all", -0.02)),
}
# The noise rule's false-alarm condition: at most this share of the shipped model's rate as well.
NOISE_CUT = 0.6
RULES = tuple(FIRST_THREE)
LABELS = {
    "weakest": "weakest own-set F1",
    "mean": "mean of the four own-set F1s",
    "all": "`all`, mean of four F1s",
}


def conditions(shipped: dict[str, float], candidate: dict[str, float], rule: str = "six") -> list[Condition]:
    """The six conditions of ``rule`` ("six": stages 15-17; "mixed": stage 18; "default": the better-default
    round of stage 18; "noise": stage 21), in the rule's order."""

    def row(name: str, key: str, bar: float, higher: bool) -> Condition:
        return Condition(name, shipped[key], candidate[key], bar, higher, key in ("wrong", "unchanged"))

    if rule not in RULES:
        raise SystemExit(f"Unknown rule {rule!r}: expected one of {', '.join(RULES)}.")
    first = [
        row(f"{number}. {LABELS[key]}", key, shipped[key] + margin, True)
        for number, (key, margin) in enumerate(FIRST_THREE[rule], start=1)
    ]
    # The better-default rule does not ask for a false-alarm target the shipped model itself misses.
    unchanged_bar = {
        "default": max(UNCHANGED_LIMIT, shipped["unchanged"]),
        "noise": min(UNCHANGED_LIMIT, NOISE_CUT * shipped["unchanged"]),
    }.get(rule, UNCHANGED_LIMIT)
    return [
        *first,
        row("4. mean wrong-feature rate", "wrong", shipped["wrong"], False),
        row("5. unchanged pixels marked", "unchanged", unchanged_bar, False),
        row(
            "6. texture F1 on the object-only pairs", "object_texture", shipped["object_texture"] - 0.01, True
        ),
    ]


def table(rows: list[Condition], tag: str) -> str:
    """A markdown table of the conditions and a closing line."""
    lines = [
        f"| condition | shipped | {tag} | bar | holds |",
        "| --- | --- | --- | --- | --- |",
    ]
    for c in rows:
        sign = ">=" if c.higher else "<="
        shipped, candidate, bar = (
            f"{100 * v:.3f} %" if c.percent else f"{v:.4f}" for v in (c.shipped, c.candidate, c.bar)
        )
        lines.append(
            f"| {c.name} | {shipped} | {candidate} | {sign} {bar} | {'yes' if c.holds else '**no**'} |"
        )
    failed = [c.name.split(".")[0] for c in rows if not c.holds]
    verdict = "all six hold" if not failed else f"fails condition(s) {', '.join(failed)}"
    lines.append(f"\n{tag}: {verdict}.")
    return "\n".join(lines)


def _read(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise SystemExit(f"No such file: {path}") from None
    except json.JSONDecodeError as error:
        raise SystemExit(f"{path} is not valid JSON ({error}).") from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "shipped_report", type=Path, help="change_visibility.py --stored report of the shipped model"
    )
    parser.add_argument("shipped_eval", type=Path, help="eval.json of the shipped model on the texture sets")
    parser.add_argument(
        "candidate_report", type=Path, help="the candidate's change_visibility.py --stored report"
    )
    parser.add_argument("candidate_eval", type=Path, help="the candidate's eval.json on the texture sets")
    parser.add_argument("--tag", default="candidate", help="the candidate's name in the table")
    parser.add_argument("--rule", default="six", choices=RULES, help="which round's six conditions")
    args = parser.parse_args()
    shipped = figures(_read(args.shipped_report), _read(args.shipped_eval))
    candidate = figures(_read(args.candidate_report), _read(args.candidate_eval))
    print(table(conditions(shipped, candidate, args.rule), args.tag))


if __name__ == "__main__":
    main()
