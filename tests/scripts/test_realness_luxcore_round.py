"""scripts/realness_luxcore_round.py: the LuxCore round's conditions 1-5 from two runs."""

from __future__ import annotations

from typing import Any

from tests.scripts.conftest import held_out_records, load_script

load_script("realness_familiarity")  # imported by the scripts below
load_script("realness_scales")
load_script("realness_lite2_round")
load_script("realness_graphics_round")
round_script = load_script("realness_luxcore_round")


def _records(povray_right: int, photos_wrong: int = 0, luxcore: bool = False) -> list[dict[str, Any]]:
    """Ten skimage photos (``photos_wrong`` of them called renders), ten renders of each of the four
    unseen engines (all right but POV-Ray: ``povray_right`` of ten) and, with ``luxcore``, ten LuxCore
    renders (all right)."""
    rows = []
    for index in range(10):
        rows.append(("skimage", 0, 0.7 if index < photos_wrong else 0.01))
        rows.append(("cycles-undenoised", 1, 0.99))
        rows.append(("povray-examples", 1, 0.8 if index < povray_right else 0.005))
        for engine in ("eevee", "mitsuba", "vtk"):
            rows.append((engine, 1, 0.95))
        if luxcore:
            rows.append(("luxcore", 1, 0.9))
    return held_out_records(rows)


def _holds(reference: list[dict[str, Any]], candidate: list[dict[str, Any]]) -> dict[str, bool]:
    rows = round_script.conditions(round_script.figures(reference), round_script.figures(candidate))
    return {name.split(" ")[0]: holds for name, *_, holds in rows}


def test_the_hypothesis_needs_a_point_on_the_mean_of_the_four_engines() -> None:
    reference = _records(povray_right=5)
    # one more POV-Ray render right of ten: +10 points on POV-Ray, +2.5 on the mean of four
    assert _holds(reference, _records(povray_right=6, luxcore=True))["2."]
    assert not _holds(reference, _records(povray_right=5, luxcore=True))["2."]
    candidate = round_script.figures(_records(povray_right=6, luxcore=True))
    assert candidate["engines_mean"] == (1 + 1 + 1 + 0.6) / 4
    assert candidate["fifteen"]["images"] == 60 and candidate["all"]["images"] == 70


def test_the_new_source_is_left_out_of_the_fifteen_and_photos_may_drop_by_one() -> None:
    reference = _records(povray_right=5)
    one = _holds(reference, _records(povray_right=6, photos_wrong=1, luxcore=True))
    assert one["4."] and one["1a."]  # one photo lost, one POV-Ray render gained: level over the fifteen
    two = _holds(reference, _records(povray_right=6, photos_wrong=2, luxcore=True))
    assert not two["4."] and not two["1a."]


def test_the_report_lists_the_new_source_without_a_reference_figure() -> None:
    lines = round_script.report(
        round_script.figures(_records(5)), round_script.figures(_records(6, luxcore=True))
    )
    assert "| luxcore | 10 | - | 100.0 % |" in lines
    assert any("all hold" in line for line in lines)
