"""The page of ``synthdiff gap``: a self-contained index.html over gap.json and its plots."""

from __future__ import annotations

from typing import Any

from synthdiff.report._compare_report import _environment

__all__ = ["render_gap_html"]


def render_gap_html(report: dict[str, Any], uris: dict[str, str]) -> str:
    """The HTML page; ``uris`` maps plot file names to data URIs (so the page opens offline)."""
    return _environment().get_template("gap.html").render(report=report, uris=uris)
