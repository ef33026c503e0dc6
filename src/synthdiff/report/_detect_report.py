"""The page of ``synthdiff detect``: a self-contained index.html beside detect.json."""

from __future__ import annotations

from typing import Any

from synthdiff.report._compare_report import _environment, png_data_uri

__all__ = ["render_detect_html"]


def render_detect_html(
    summary: dict[str, Any],
    panels: dict[str, bytes],
    colours: dict[str, tuple[int, int, int]],
    size: tuple[int, int],
) -> str:
    """The HTML page over ``detect.json``'s content, with every panel embedded as a data URI.

    Args:
        summary: the content of detect.json.
        panels: PNG bytes by file name (``overlay_reference.png``, ``overlay_test.png``,
            ``change_<feature>.png``).
        colours: the box colour (RGB) of each feature in the overlays, for every feature of ``summary``.
        size: the images' width and height in pixels.
    """
    uris = {name: png_data_uri(data) for name, data in panels.items()}
    width, height = size
    return (
        _environment()
        .get_template("detect.html")
        .render(
            report=summary,
            uris=uris,
            colours={name: "#" + "".join(f"{value:02x}" for value in colours[name]) for name in colours},
            width=width,
            height=height,
        )
    )
