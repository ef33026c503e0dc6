"""The metrics a user can name (in reports and in ``--fail-above`` / ``--fail-below``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from synthdiff.errors import InvalidArgumentError

__all__ = ["METRICS", "MetricInfo", "get_metric_info"]


@dataclass(frozen=True)
class MetricInfo:
    """What a reported number means.

    Attributes:
        name: key in ``report.json``'s ``metrics``.
        description: one line for tables and help.
        higher_is_better: direction of quality.
        range: (low, high) of possible values; ``math.inf`` where unbounded.
        unit: unit of the value, empty when unitless.
    """

    name: str
    description: str
    higher_is_better: bool
    range: tuple[float, float]
    unit: str = ""

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict (infinite bounds written as null)."""
        return {
            "description": self.description,
            "higher_is_better": self.higher_is_better,
            "range": [None if math.isinf(v) else v for v in self.range],
            "unit": self.unit,
        }


METRICS: dict[str, MetricInfo] = {
    info.name: info
    for info in (
        MetricInfo("mae", "mean absolute error over pixels and channels", False, (0.0, math.inf)),
        MetricInfo("rmse", "root mean squared error", False, (0.0, math.inf)),
        MetricInfo("psnr", "peak signal-to-noise ratio", True, (0.0, math.inf), "dB"),
        MetricInfo(
            "psnr_y",
            "PSNR of the BT.601 luma (Y, 16-235), as super-resolution papers report it",
            True,
            (0.0, math.inf),
            "dB",
        ),
        MetricInfo("ssim", "structural similarity (Wang et al. 2004)", True, (-1.0, 1.0)),
        MetricInfo("ms_ssim", "multi-scale structural similarity (5 scales)", True, (0.0, 1.0)),
        MetricInfo("ciede2000", "mean CIEDE2000 colour difference", False, (0.0, math.inf), "Delta E"),
        MetricInfo("flip", "mean FLIP perceptual error (NVIDIA)", False, (0.0, 1.0)),
        MetricInfo(
            "local_mae", "mean absolute error after removing the global gain/offset", False, (0.0, math.inf)
        ),
        MetricInfo(
            "changed_fraction", "fraction of compared pixels inside difference regions", False, (0.0, 1.0)
        ),
        MetricInfo("regions", "number of difference regions found", False, (0.0, math.inf)),
    )
}


def get_metric_info(name: str) -> MetricInfo:
    """Look up a metric by name; an unknown name lists the valid ones."""
    try:
        return METRICS[name]
    except KeyError:
        raise InvalidArgumentError(
            f"Unknown metric {name!r}. Expected one of: {', '.join(sorted(METRICS))}."
        ) from None
