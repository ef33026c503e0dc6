"""Reports shared by every command: JSON with a schema version and self-contained HTML pages."""

from synthdiff.report._batch_report import render_batch_html
from synthdiff.report._compare_report import render_compare_html, write_compare_report
from synthdiff.report._panels import draw_boxes, heatmap

__all__ = ["draw_boxes", "heatmap", "render_batch_html", "render_compare_html", "write_compare_report"]
