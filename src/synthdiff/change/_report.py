"""Markdown tables of evaluation results (docs/models.md and ``eval change`` use the same format)."""

from __future__ import annotations

from typing import Any

from synthdiff.change._evaluate import POOLED, EvalResult
from synthdiff.change._tune import ThresholdScore, TuneResult

__all__ = [
    "format_percent",
    "format_score",
    "markdown_table",
    "min_area_text",
    "threshold_text",
    "tune_table",
]


def format_score(value: float | None) -> str:
    """A score in [0, 1] with three decimals; "n/a" where it is undefined."""
    return "n/a" if value is None else f"{value:.3f}"


def format_percent(value: float | None) -> str:
    """A fraction as a percentage with three decimals (a 0.1 % target would vanish as 0.001)."""
    return "n/a" if value is None else f"{100 * value:.3f} %"


def threshold_text(thresholds: dict[str, float], low_thresholds: dict[str, float]) -> str:
    """``illumination 0.48, texture 0.97 (grown to 0.44), ...``: a feature's low threshold is shown
    only where it differs from its threshold (hysteresis)."""
    return ", ".join(
        f"{name} {_threshold_value(value, low_thresholds.get(name, value))}"
        for name, value in thresholds.items()
    )


def min_area_text(min_area: int) -> str:
    """``; changed regions under 64 pixels dropped``, or nothing when every region is kept."""
    return f"; changed regions under {min_area} pixels dropped" if min_area > 1 else ""


def _threshold_value(threshold: float, low: float) -> str:
    """``0.97 (grown to 0.44)``, or ``0.74`` for a single threshold."""
    return f"{threshold:.2f}" + (f" (grown to {low:.2f})" if low < threshold else "")


def markdown_table(result: EvalResult, metadata: dict[str, Any], split: str) -> str:
    """Per dataset feature and label feature: change precision/recall/F1/IoU and segmentation F1."""
    lines = [
        f"Model `{metadata['model']}` on the {split} split ({sum(result.pairs.values())} pairs); "
        f"test-time views {metadata.get('views', 'none')}; change thresholds "
        + threshold_text(metadata.get("thresholds", {}), metadata.get("low_thresholds", {}))
        + min_area_text(metadata.get("min_area", 0))
        + ".",
        "",
        "| pairs of | n | label | change P | change R | change F1 | change IoU | change FPR | seg F1 ref "
        "| seg F1 test |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for group in [*sorted(result.pairs), POOLED]:
        scores = result.scores.get(group)
        if scores is None:
            continue
        count = result.pairs.get(group, sum(result.pairs.values()))
        for feature in metadata["features"]:
            change = scores["change"][feature]
            cells = [format_score(change[key]) for key in ("precision", "recall", "f1", "iou")]
            # Pixels marked changed among those whose label is unchanged: on a set that changes another
            # feature, this is how often the model names the wrong feature.
            cells.append(format_percent(change["false_positive_rate"]))
            cells += [format_score(scores[part][feature]["f1"]) for part in ("seg_ref", "seg_test")]
            lines.append(f"| {group} | {count} | {feature} | " + " | ".join(cells) + " |")
    if result.by_place:
        lines += [
            "",
            "The single-feature sets by where the changes were (the feature's own change map; a small "
            "object's change covers few pixels, so the rows above can hide it):",
            "",
            "| changes of | on | n | change P | change R | change F1 |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for key, entry in result.by_place.items():
            feature, _, place = key.partition("/")
            cells = [format_score(entry["change"][name]) for name in ("precision", "recall", "f1")]
            lines.append(f"| {feature} | {place} | {entry['pairs']} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"False-positive pixel rate on `none` pairs: {format_percent(result.none_false_positive_rate)}; "
        f"swap consistency (IoU of the change maps in both input orders): {format_score(result.swap_iou)}.",
    ]
    worst = result.worst_none_pairs(5)
    if worst:
        share = result.none_marked_pixels(pid for pid, _ in worst) / result.none_marked_pixels()
        cells = []
        for pair_id, entry in worst:
            named = [name for name, value in entry["by_feature"].items() if value > 0]
            cells.append(f"{pair_id} {format_percent(entry['marked'])} ({', '.join(named)})")
        lines.append(
            f"The {len(worst)} `none` pairs with most marked pixels carry {format_percent(share)} of them: "
            + "; ".join(cells)
            + "."
        )
    return "\n".join(lines)


def _threshold_cells(score: ThresholdScore) -> str:
    value = _threshold_value(score.threshold, score.low_threshold)
    return f"{value} | {format_score(score.f1)} | {format_percent(score.unchanged_marked)}"


def tune_table(result: TuneResult, model: str) -> str:
    """The thresholds before and after ``tune change``, with their val change F1 and false alarms."""
    budget = "no budget" if result.budget is None else f"budget {format_percent(result.budget)}"
    columns = ["before", "best single"] + (["two thresholds"] if result.hysteresis else [])
    lines = [
        f"Change thresholds of `{model}` (views {result.views}) chosen on {result.pairs} {result.split} "
        f"pairs and {result.unchanged_pairs} unchanged {result.split} pairs, {budget}; F1 over every pair, "
        "and the share of the unchanged pixels marked.",
        "",
        "| feature | " + " | ".join(f"{c} | F1 | unchanged marked" for c in columns) + " |",
        "| --- |" + " --- | --- | --- |" * len(columns),
    ]
    for name in result.features:
        scores = [result.before[name], result.single[name]]
        if result.hysteresis:
            scores.append(result.chosen[name])
        lines.append(f"| {name} | " + " | ".join(_threshold_cells(s) for s in scores) + " |")
    if result.kept:
        kept = ", ".join(result.kept)
        lines += [
            "",
            f"No changed pixels to tune on for {kept}: the model's thresholds are kept (or "
            "moved up just enough to keep within the budget).",
        ]
    return "\n".join(lines)
