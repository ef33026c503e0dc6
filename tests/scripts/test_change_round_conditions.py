"""scripts/change_round_conditions.py: the six shipping conditions of a change-detection round."""

from __future__ import annotations

from typing import Any

import pytest

from tests.scripts.conftest import load_script

conditions_script = load_script("change_round_conditions")
SINGLE = ("illumination", "reflection", "texture", "transparency")


def _report(own: list[float], everything: float, wrong: float, unchanged: float | None) -> dict[str, Any]:
    by_set = {
        name: {other: (f1 if other == name else 0.0) for other in SINGLE}
        for name, f1 in zip(SINGLE, own, strict=True)
    }
    by_set["all"] = {name: everything for name in SINGLE}
    return {
        "shipped": {
            "change_f1_by_set": by_set,
            "mean_wrong_feature_rate": wrong,
            "unchanged_false_positive_rate": unchanged,
        }
    }


def _eval(object_f1: float) -> dict[str, Any]:
    return {"by_place": {"texture/object": {"pairs": 10, "change": {"f1": object_f1}}}}


def test_the_bars_and_what_holds() -> None:
    shipped = conditions_script.figures(_report([0.9, 0.8, 0.85, 0.9], 0.7, 0.04, 0.0012), _eval(0.5))
    # Weakest 0.815 < 0.82 (fails 1); the mean a little above the shipped one (holds 2); `all` down by
    # 0.0199 (holds 3); wrong feature up (fails 4); unchanged 0.1 % exactly (holds 5); object 0.495 (holds 6).
    candidate_report = _report([0.9, 0.815, 0.836, 0.9], 0.6801, 0.041, 0.001)
    candidate = conditions_script.figures(candidate_report, _eval(0.495))
    rows = conditions_script.conditions(shipped, candidate)
    assert [round(row.bar, 6) for row in rows] == [0.82, 0.8625, 0.68, 0.04, 0.001, 0.49]
    assert [row.holds for row in rows] == [False, True, True, False, True, True]
    text = conditions_script.table(rows, "candidate")
    assert "fails condition(s) 1, 4." in text and "| 5. unchanged pixels marked | 0.120 % | 0.100 % |" in text


def test_a_candidate_better_everywhere_passes() -> None:
    shipped = conditions_script.figures(_report([0.9, 0.8, 0.85, 0.9], 0.7, 0.04, 0.0012), _eval(0.5))
    candidate = conditions_script.figures(_report([0.92, 0.83, 0.86, 0.91], 0.71, 0.03, 0.0005), _eval(0.55))
    rows = conditions_script.conditions(shipped, candidate)
    assert all(row.holds for row in rows)
    assert conditions_script.table(rows, "stage 99").endswith("stage 99: all six hold.")


def test_reports_without_what_the_conditions_need_are_refused() -> None:
    partial = _report([0.9, 0.8, 0.85, 0.9], 0.7, 0.04, 0.001)
    del partial["shipped"]["change_f1_by_set"]["all"]
    with pytest.raises(SystemExit, match="no change F1 for the sets"):
        conditions_script.figures(partial, _eval(0.5))
    with pytest.raises(SystemExit, match="texture/object"):
        conditions_script.figures(_report([0.9, 0.8, 0.85, 0.9], 0.7, 0.04, 0.001), {"by_place": {}})
    with pytest.raises(SystemExit, match="--none-data"):
        conditions_script.figures(_report([0.9, 0.8, 0.85, 0.9], 0.7, 0.04, None), _eval(0.5))


def test_the_mixed_rule_asks_for_the_all_pairs_and_keeps_the_singles() -> None:
    shipped = conditions_script.figures(_report([0.9, 0.8, 0.85, 0.9], 0.7, 0.04, 0.0012), _eval(0.5))
    # `all` up by 0.0301 (holds 1), weakest level (holds 2), mean down by 0.0125 (fails 3).
    candidate = conditions_script.figures(_report([0.9, 0.8, 0.85, 0.85], 0.7301, 0.03, 0.0005), _eval(0.5))
    rows = conditions_script.conditions(shipped, candidate, "mixed")
    assert [round(row.bar, 6) for row in rows] == [0.73, 0.8, 0.8525, 0.04, 0.001, 0.49]
    assert [row.holds for row in rows] == [True, True, False, True, True, True]
    assert rows[0].name.startswith("1. `all`")
    # The same figures under the rule of stages 15-17 fail its first two conditions instead.
    assert [row.holds for row in conditions_script.conditions(shipped, candidate)][:3] == [False, False, True]
    with pytest.raises(SystemExit, match="Unknown rule"):
        conditions_script.conditions(shipped, candidate, "lenient")


def test_the_default_rule_asks_for_no_worse_anywhere() -> None:
    shipped = conditions_script.figures(_report([0.9, 0.8, 0.85, 0.9], 0.7, 0.04, 0.0012), _eval(0.5))
    # Level on `all` and the weakest (hold), mean down by 0.0025 (fails 3), fewer false alarms than the
    # shipped model though above 0.1 % (holds 5: the bar is the larger of the two).
    candidate = conditions_script.figures(_report([0.9, 0.8, 0.85, 0.89], 0.7, 0.04, 0.0011), _eval(0.495))
    rows = conditions_script.conditions(shipped, candidate, "default")
    assert [round(row.bar, 6) for row in rows] == [0.7, 0.8, 0.8625, 0.04, 0.0012, 0.49]
    assert [row.holds for row in rows] == [True, True, False, True, True, True]
    # Where the shipped model is under 0.1 %, the bar is 0.1 %.
    under = conditions_script.figures(_report([0.9, 0.8, 0.85, 0.9], 0.7, 0.04, 0.0005), _eval(0.5))
    assert conditions_script.conditions(under, candidate, "default")[4].bar == pytest.approx(0.001)


def test_the_noise_rule_asks_for_a_cut_in_false_alarms_and_little_loss_elsewhere() -> None:
    shipped = conditions_script.figures(_report([0.9, 0.8, 0.85, 0.9], 0.7, 0.04, 0.0012), _eval(0.5))
    # Weakest down by 0.009 (holds 1), mean down by 0.011 (fails 2), `all` down by 0.019 (holds 3);
    # 0.07 % marked: under 0.1 % and 0.6 x 0.12 % = 0.072 % (holds 5).
    candidate = conditions_script.figures(
        _report([0.89, 0.791, 0.84, 0.885], 0.681, 0.04, 0.0007), _eval(0.5)
    )
    rows = conditions_script.conditions(shipped, candidate, "noise")
    assert [round(row.bar, 6) for row in rows] == [0.79, 0.8525, 0.68, 0.04, 0.00072, 0.49]
    assert [row.holds for row in rows] == [True, False, True, True, True, True]
    # Where the shipped model marks little, the cut is what binds: 0.6 x 0.05 % = 0.03 %.
    quiet = conditions_script.figures(_report([0.9, 0.8, 0.85, 0.9], 0.7, 0.04, 0.0005), _eval(0.5))
    row = conditions_script.conditions(quiet, candidate, "noise")[4]
    assert row.bar == pytest.approx(0.0003) and not row.holds
