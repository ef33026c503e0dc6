"""The demo: compare the bundled example renders (``synthdiff demo``)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from synthdiff.diff import compare

__all__ = ["DemoCase", "example_pairs", "run_demo"]


@dataclass(frozen=True)
class DemoCase:
    """One compared example.

    Attributes:
        name: example folder name.
        description: what differs in the example, as rendered.
        regions: number of differing regions found.
        ssim: SSIM of the pair.
        flip: mean FLIP error of the pair.
        report: path of the HTML report.
        feature: the rendering feature the shipped change detector marks most (None if nothing).
    """

    name: str
    description: str
    regions: int
    ssim: float
    flip: float
    report: Path
    feature: str | None = None


def example_pairs() -> list[tuple[str, str, Path, Path]]:
    """The bundled pairs: (name, description, reference path, test path), sorted by name."""
    root = Path(str(resources.files("synthdiff"))) / "examples"
    pairs = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and (p / "case.json").is_file()):
        description = json.loads((folder / "case.json").read_text())["description"]
        pairs.append((folder.name, description, folder / "reference.png", folder / "test.png"))
    return pairs


def run_demo(
    output: str | os.PathLike[str], change_model: str | None = "fresunet-attention"
) -> list[DemoCase]:
    """Compare every bundled example pair and write a report for each under ``output/NAME``.

    Args:
        change_model: also say which rendering feature changed, with this change detector (a shipped
            name or a checkpoint; None to skip).

    Returns:
        One :class:`DemoCase` per example.
    """
    cases = []
    for name, description, reference, test in example_pairs():
        result = compare(reference, test, change_model=change_model)
        page = result.save_report(Path(output) / name)
        feature = None
        if result.feature_maps is not None:
            fractions = {
                k: v["changed_fraction"] for k, v in result.feature_maps.summary()["features"].items()
            }
            top = max(fractions, key=fractions.__getitem__)
            feature = top if fractions[top] > 0 else None
        cases.append(
            DemoCase(
                name,
                description,
                len(result.regions),
                float(result.metrics["ssim"] or 0.0),
                float(result.metrics.get("flip") or 0.0),
                page,
                feature,
            )
        )
    return cases
