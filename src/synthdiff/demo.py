"""The demo: compare the bundled example renders (``synthdiff demo``)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
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
        feature_fractions: for each feature, the fraction of the picture it marks as changed (empty
            without a change detector).
        expected: the rendering feature the example changes (its ``case.json``), None if it says none.
    """

    name: str
    description: str
    regions: int
    ssim: float
    flip: float
    report: Path
    feature: str | None = None
    feature_fractions: dict[str, float] = field(default_factory=dict)
    expected: str | None = None

    @property
    def named_right(self) -> bool | None:
        """Whether the feature marked most is the one the example changes (None: nothing to compare)."""
        if self.expected is None or not self.feature_fractions:
            return None
        return self.feature == self.expected

    def marked_features(self, share: float = 0.25) -> list[tuple[str, float]]:
        """Features marked on at least ``share`` of the top feature's area (and 1 % of the picture),
        largest first: one name hides a model that marks two features on much of the picture."""
        if self.feature is None:
            return []
        floor = max(0.01, share * self.feature_fractions[self.feature])
        ranked = sorted(self.feature_fractions.items(), key=lambda item: -item[1])
        return [(name, fraction) for name, fraction in ranked if fraction >= floor]


def example_pairs() -> list[tuple[str, str, Path, Path]]:
    """The bundled pairs: (name, description, reference path, test path), sorted by name."""
    return [(name, description, reference, test) for name, description, _, reference, test in _examples()]


def _examples() -> list[tuple[str, str, str | None, Path, Path]]:
    """(name, description, feature changed, reference path, test path) of each bundled pair, by name."""
    root = Path(str(resources.files("synthdiff"))) / "examples"
    pairs = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and (p / "case.json").is_file()):
        case = json.loads((folder / "case.json").read_text())
        pairs.append(
            (
                folder.name,
                case["description"],
                case.get("feature"),
                folder / "reference.png",
                folder / "test.png",
            )
        )
    return pairs


def run_demo(output: str | os.PathLike[str], change_model: str | None = "fresunet-wide") -> list[DemoCase]:
    """Compare every bundled example pair and write a report for each under ``output/NAME``.

    Args:
        change_model: also say which rendering feature changed, with this change detector (a shipped
            name or a checkpoint; None to skip).

    Returns:
        One :class:`DemoCase` per example.
    """
    cases = []
    for name, description, expected, reference, test in _examples():
        result = compare(reference, test, change_model=change_model)
        page = result.save_report(Path(output) / name)
        feature, fractions = None, {}
        if result.feature_maps is not None:
            fractions = result.feature_maps.changed_fractions()
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
                fractions,
                expected,
            )
        )
    return cases
