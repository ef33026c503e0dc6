"""scripts/realness_lite2_round.py: the Lite2 round's conditions 1-4 from two leave-one-source-out runs."""

from __future__ import annotations

from typing import Any

from tests.scripts.conftest import held_out_records, load_script

load_script("realness_familiarity")  # imported by the scripts below
load_script("realness_scales")
round_script = load_script("realness_lite2_round")


def _records(povray_right: int, photo_p: float = 0.01) -> list[dict[str, Any]]:
    """Ten skimage photos, ten Cycles renders (all right) and ten POV-Ray renders, ``povray_right`` right."""
    rows = []
    for index in range(10):
        rows.append(("skimage", 0, photo_p))
        rows.append(("cycles-undenoised", 1, 0.99))
        rows.append(("povray-examples", 1, 0.8 if index < povray_right else 0.005))
    return held_out_records(rows)


def test_conditions_follow_the_rule() -> None:
    reference = round_script.figures(_records(povray_right=5))
    candidate = round_script.figures(_records(povray_right=8))
    rows = {
        name.split(".")[0].split(" ")[0]: holds
        for name, _, _, holds in round_script.conditions(reference, candidate)
    }
    # 30 images: 25 -> 28 right is +10 points (1b); the POV-Ray renders it misses rank below every photo,
    # so AUC rises from 1 - 5/20 to 1 - 2/20 (1a); the nine (skimage and Cycles) are right and confident.
    assert reference["all"]["accuracy"] == 25 / 30 and candidate["all"]["accuracy"] == 28 / 30
    assert reference["all"]["auc"] == 0.75 and candidate["all"]["auc"] == 0.9
    assert rows["1a"] and rows["1b"] and rows["2"] and rows["3"] and rows["4"] and rows["hypothesis"]
    assert candidate["photos"] == "10 of 10"


def test_a_small_gain_or_worse_photos_fail() -> None:
    reference = round_script.figures(_records(povray_right=5))
    same = round_script.conditions(reference, round_script.figures(_records(povray_right=5)))
    assert [holds for *_, holds in same[:2]] == [False, False]  # no gain: 1a and 1b fail
    # Photos at p = 0.6 are all called renders: the photos condition and the nine's accuracy fail.
    worse = round_script.conditions(reference, round_script.figures(_records(povray_right=8, photo_p=0.6)))
    by_name = {name[:2]: holds for name, *_, holds in worse}
    assert not by_name["2."] and not by_name["3."]


def test_the_report_says_what_holds() -> None:
    lines = round_script.report(round_script.figures(_records(5)), round_script.figures(_records(8)))
    text = "\n".join(lines)
    assert "Conditions 1-4: **all hold**" in text
    assert "| povray-examples | 10 | 50.0 % | 80.0 % |" in text
