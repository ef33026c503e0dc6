"""scripts/realness_bench_round.py: the graphics default round's conditions from realness-bench CSVs."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tests.scripts.conftest import load_script

bench_round = load_script("realness_bench_round")

HEADER = "path,source,label,probability_synthetic,probability_synthetic_jpeg75,correct\n"


def _csv(path: Path, rows: list[tuple[str, str, float]]) -> Path:
    """A realness-bench scores.csv: (source, label, p) rows, numbered paths, JPEG 75 as decoded."""
    lines = [HEADER]
    for n, (source, label, p) in enumerate(rows):
        right = int((p >= 0.5) == (label == "synthetic"))
        lines.append(f"data/{source}/{n}.png,{source},{label},{p},{p},{right}\n")
    path.write_text("".join(lines))
    return path


def _rows(
    photos_wrong: int = 0, luxcore_right: int = 10, povray_right: int = 5
) -> list[tuple[str, str, float]]:
    """Ten photos, ten luxcore-fresh2 renders, five wallpaper renders (all right), ten POV-Ray renders."""
    rows = [("wallpaper-photos", "real", 0.8 if n < photos_wrong else 0.1) for n in range(10)]
    rows += [("luxcore-fresh2", "synthetic", 0.9 if n < luxcore_right else 0.2) for n in range(10)]
    rows += [("wallpaper-renders", "synthetic", 0.7) for _ in range(5)]
    rows += [("povray-showcase", "synthetic", 0.9 if n < povray_right else 0.1) for n in range(10)]
    return rows


def _decide(tmp_path: Path, shipped: list, candidate: list) -> dict:
    return bench_round.conditions(
        bench_round.read_scores([_csv(tmp_path / "shipped.csv", shipped)]),
        bench_round.read_scores([_csv(tmp_path / "candidate.csv", candidate)]),
    )


def _holds(decision: dict) -> list[bool]:
    return [row["holds"] for row in decision["conditions"]]


def test_a_candidate_equal_on_the_clean_set_ships_whatever_povray_says(tmp_path: Path) -> None:
    decision = _decide(tmp_path, _rows(povray_right=10), _rows(povray_right=0))
    assert _holds(decision) == [True, True, True, True, True]
    assert decision["ships"]
    assert decision["clean"]["candidate"]["images"] == 25  # POV-Ray is not in the clean set
    assert decision["all"]["candidate"]["images"] == 35
    text = "\n".join(bench_round.report(decision))
    assert "**Ships.**" in text and "| povray-showcase (synthetic) | 10 | 10 | 0 | no (not clean) |" in text


def test_two_photos_lost_fails_condition_1_and_accuracy(tmp_path: Path) -> None:
    decision = _decide(tmp_path, _rows(), _rows(photos_wrong=2))
    holds = _holds(decision)
    assert holds[0] is False and holds[3] is False  # photos; the clean set's accuracy
    assert not decision["ships"]
    assert decision["conditions"][0]["shipped"] == 10 and decision["conditions"][0]["candidate"] == 8


def test_one_photo_lost_is_allowed_but_the_clean_accuracy_must_not_fall(tmp_path: Path) -> None:
    decision = _decide(tmp_path, _rows(), _rows(photos_wrong=1))
    assert _holds(decision)[0] is True
    assert _holds(decision)[3] is False
    # one photo lost and one LuxCore render gained: accuracy level, so 3b holds
    decision = _decide(tmp_path, _rows(luxcore_right=9), _rows(photos_wrong=1, luxcore_right=10))
    assert _holds(decision)[3] is True


def test_the_engine_gate_allows_one_render_fewer(tmp_path: Path) -> None:
    assert _holds(_decide(tmp_path, _rows(), _rows(luxcore_right=9)))[1] is True
    assert _holds(_decide(tmp_path, _rows(), _rows(luxcore_right=8)))[1] is False


def test_log_loss_clips_at_one_in_a_million() -> None:
    result = bench_round.ImageResult("a.png", "s", 1, 0.0, 0.0)
    assert bench_round.log_loss([result]) == pytest.approx(-math.log(1e-6))
    right = bench_round.ImageResult("b.png", "s", 0, 0.25, 0.25)
    assert bench_round.log_loss([right]) == pytest.approx(-math.log(0.75))


def test_bad_inputs_are_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("path,source\nx.png,s\n")
    with pytest.raises(ValueError, match="missing"):
        bench_round.read_scores([tmp_path / "bad.csv"])
    one = _csv(tmp_path / "one.csv", _rows())
    with pytest.raises(ValueError, match="listed twice"):
        bench_round.read_scores([one, one])
    with pytest.raises(ValueError, match="same clean-set images"):
        _decide(tmp_path, _rows(), _rows()[:-12])
