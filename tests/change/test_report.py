"""The markdown table written by ``eval change``."""

from __future__ import annotations

from synthdiff.change._evaluate import POOLED, EvalResult
from synthdiff.change._report import markdown_table


def _scores(f1: float | None) -> dict[str, dict[str, float | None]]:
    return {
        "texture": {"precision": 0.5, "recall": 0.5, "f1": f1, "iou": 0.25, "false_positive_rate": 0.0125}
    }


def test_table_lists_each_group_then_pooled_and_gives_the_false_positive_rate_in_percent() -> None:
    group = {"change": _scores(0.5), "seg_ref": _scores(0.9), "seg_test": _scores(None)}
    result = EvalResult(
        scores={"texture": group, POOLED: group},
        none_false_positive_rate=0.0024284,
        swap_iou=1.0,
        pairs={"texture": 3},
    )
    table = markdown_table(
        result, {"model": "fresunet", "features": ["texture"], "thresholds": {"texture": 0.6}}, "test"
    )
    lines = table.splitlines()
    assert lines[0] == (
        "Model `fresunet` on the test split (3 pairs); test-time views none; change thresholds texture 0.60."
    )
    assert lines[4] == "| texture | 3 | texture | 0.500 | 0.500 | 0.500 | 0.250 | 1.250 % | 0.900 | n/a |"
    assert lines[5].startswith("| pooled | 3 | texture |")
    # 0.0024 as a fraction is 0.243 %: the 0.1 % target must be readable from the table.
    assert "on `none` pairs: 0.243 %;" in lines[-1]
    assert lines[-1].endswith("both input orders): 1.000.")


def test_the_by_place_rows_follow_the_main_table() -> None:
    group = {"change": _scores(0.5), "seg_ref": _scores(0.9), "seg_test": _scores(0.9)}
    result = EvalResult(
        scores={"texture": group, POOLED: group},
        none_false_positive_rate=None,
        swap_iou=None,
        pairs={"texture": 3},
        by_place={"texture/object": {"pairs": 2, "change": _scores(0.25)["texture"]}},
    )
    lines = markdown_table(result, {"model": "fresunet", "features": ["texture"]}, "val").splitlines()
    assert "| texture | object | 2 | 0.500 | 0.500 | 0.250 |" in lines
    assert lines.index("| texture | object | 2 | 0.500 | 0.500 | 0.250 |") > lines.index(
        "| pooled | 3 | texture | 0.500 | 0.500 | 0.500 | 0.250 | 1.250 % | 0.900 | 0.900 |"
    )
