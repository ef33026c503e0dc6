"""Shared by the tests of scripts/: the scripts are not a package, so each is loaded from its file."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def load_script(name: str) -> ModuleType:
    """Import ``scripts/NAME.py`` as a module (its ``main`` does not run)."""
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def held_out_records(rows: list[tuple[str, int, float]]) -> list[dict[str, Any]]:
    """Held-out records as ``realness_scales.py`` writes them, from (source, label, p(synthetic)) rows;
    the JPEG-75 probability equals the decoded one."""
    return [
        {
            "path": f"{source}/{n}.png",
            "source": source,
            "label": label,
            "probability_synthetic": p,
            "probability_synthetic_jpeg75": p,
            "correct": (p >= 0.5) == bool(label),
        }
        for n, (source, label, p) in enumerate(rows)
    ]
