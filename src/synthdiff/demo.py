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
    """

    name: str
    description: str
    regions: int
    ssim: float
    flip: float
    report: Path


def example_pairs() -> list[tuple[str, str, Path, Path]]:
    """The bundled pairs: (name, description, reference path, test path), sorted by name."""
    root = Path(str(resources.files("synthdiff"))) / "examples"
    pairs = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and (p / "case.json").is_file()):
        description = json.loads((folder / "case.json").read_text())["description"]
        pairs.append((folder.name, description, folder / "reference.png", folder / "test.png"))
    return pairs


def run_demo(output: str | os.PathLike[str]) -> list[DemoCase]:
    """Compare every bundled example pair and write a report for each under ``output/NAME``.

    Returns:
        One :class:`DemoCase` per example.
    """
    cases = []
    for name, description, reference, test in example_pairs():
        result = compare(reference, test)
        page = result.save_report(Path(output) / name)
        cases.append(
            DemoCase(
                name,
                description,
                len(result.regions),
                float(result.metrics["ssim"] or 0.0),
                float(result.metrics.get("flip") or 0.0),
                page,
            )
        )
    return cases
