"""The page of ``synthdiff realness-bench``: a self-contained index.html beside bench.json."""

from __future__ import annotations

from typing import Any

from synthdiff.report._compare_report import _environment, png_data_uri

__all__ = ["render_bench_html"]


def render_bench_html(payload: dict[str, Any], mistakes: bytes | None, ece_min_images: int) -> str:
    """The HTML page over ``bench.json``'s content.

    Args:
        payload: the content of bench.json (``model``, ``summary``, ``skipped``, ``images``).
        mistakes: the PNG contact sheet of the most confident mistakes, embedded as a data URI (None
            when there is none).
        ece_min_images: the fewest images that get an ECE interval (said where there is none).
    """
    uri = None if mistakes is None else png_data_uri(mistakes)
    return (
        _environment()
        .get_template("bench.html")
        .render(report=payload, s=payload["summary"], mistakes=uri, ece_min_images=ece_min_images)
    )
