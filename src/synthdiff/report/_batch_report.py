"""The page of ``synthdiff batch``: a self-contained index.html with one sortable row per pair."""

from __future__ import annotations

from typing import Any

from synthdiff.metrics import METRICS
from synthdiff.report._compare_report import _environment

__all__ = ["render_batch_html"]

#: The summary columns the page shows, in order (metrics the run did not compute are left out).
_METRIC_COLUMNS = ("ssim", "flip", "psnr", "local_mae", "changed_fraction", "ms_ssim", "ciede2000")


def render_batch_html(summary: dict[str, Any], feature_columns: list[str], links: dict[str, str]) -> str:
    """The HTML page over ``summary.json``'s content.

    Args:
        summary: the content of summary.json (``pairs`` and the counts).
        feature_columns: the ``change_<feature>`` columns present (empty without a change model).
        links: pair id -> relative link to its full report.
    """
    pairs = summary["pairs"]
    metrics = [name for name in _METRIC_COLUMNS if any(row.get(name) is not None for row in pairs)]
    return (
        _environment()
        .get_template("batch.html")
        .render(
            summary=summary,
            pairs=pairs,
            metrics=[(name, METRICS[name]) for name in metrics],
            features=[(column, column.removeprefix("change_")) for column in feature_columns],
            links=links,
            exposure=any(row.get("exposure_change_ev") is not None for row in pairs),
        )
    )
