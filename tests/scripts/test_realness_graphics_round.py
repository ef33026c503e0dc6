"""scripts/realness_graphics_round.py: the graphics round's conditions 1-4 from two runs."""

from __future__ import annotations

from typing import Any

from tests.scripts.conftest import held_out_records, load_script

load_script("realness_familiarity")  # imported by the scripts below
load_script("realness_scales")
load_script("realness_lite2_round")
round_script = load_script("realness_graphics_round")


def _records(povray_right: int, photos_wrong: int = 0, graphics: bool = False) -> list[dict[str, Any]]:
    """Ten skimage photos (``photos_wrong`` of them called renders), ten Cycles renders (all right), ten
    POV-Ray renders (``povray_right`` right) and, with ``graphics``, ten graphics images (all right)."""
    rows = []
    for index in range(10):
        rows.append(("skimage", 0, 0.7 if index < photos_wrong else 0.01))
        rows.append(("cycles-undenoised", 1, 0.99))
        rows.append(("povray-examples", 1, 0.8 if index < povray_right else 0.005))
        if graphics:
            rows.append(("graphics", 1, 0.9))
    return held_out_records(rows)


def _holds(reference: list[dict[str, Any]], candidate: list[dict[str, Any]]) -> dict[str, bool]:
    rows = round_script.conditions(round_script.figures(reference), round_script.figures(candidate))
    return {name.split(" ")[0]: holds for name, *_, holds in rows}


def test_povray_and_the_new_source_are_set_aside_from_condition_one() -> None:
    # POV-Ray worse and the graphics source added: the fourteen (here skimage and Cycles) are unchanged.
    holds = _holds(_records(povray_right=6), _records(povray_right=2, graphics=True))
    assert holds["1a."] and holds["1b."] and holds["2."] and holds["3."] and holds["4."]
    assert not holds["reported,"]  # POV-Ray is reported, lower, and decides nothing
    candidate = round_script.figures(_records(povray_right=2, graphics=True))
    assert candidate["fourteen"]["images"] == 20 and candidate["fifteen"]["images"] == 30
    assert candidate["all"]["images"] == 40 and candidate["photos"] == 10


def test_one_photo_lost_is_allowed_two_are_not() -> None:
    reference = _records(povray_right=5)
    assert _holds(reference, _records(povray_right=5, photos_wrong=1, graphics=True))["3."]
    two = _holds(reference, _records(povray_right=5, photos_wrong=2, graphics=True))
    assert not two["3."] and not two["1a."]  # 2 of 20 lost on the fourteen is 10 points


def test_the_report_lists_the_new_source_without_a_reference_figure() -> None:
    lines = round_script.report(
        round_script.figures(_records(5)), round_script.figures(_records(5, graphics=True))
    )
    assert "| graphics | 10 | - | 100.0 % |" in lines
    assert any("all hold" in line for line in lines)
