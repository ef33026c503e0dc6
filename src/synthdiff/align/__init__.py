"""Registration: find and undo misalignment between a reference and a test image."""

from synthdiff.align._panels import PANEL_LAYOUTS, Panels, panel_source, split_panels
from synthdiff.align._register import (
    ALIGN_METHODS,
    AlignMethod,
    Registration,
    align_to_reference,
    register,
    resize_to_reference,
    warp_to_reference,
)

__all__ = [
    "ALIGN_METHODS",
    "PANEL_LAYOUTS",
    "AlignMethod",
    "Panels",
    "Registration",
    "align_to_reference",
    "panel_source",
    "register",
    "resize_to_reference",
    "split_panels",
    "warp_to_reference",
]
