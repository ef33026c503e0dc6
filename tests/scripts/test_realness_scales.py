"""scripts/realness_scales.py: the round's three conditions, computed from held-out records."""

from __future__ import annotations

from typing import Any

from tests.scripts.conftest import load_script

load_script("realness_familiarity")  # realness_scales imports it by name, as it does when run from scripts/
scales = load_script("realness_scales")


def _records(source: str, label: int, right: int, wrong: int, p_right: float = 0.9) -> list[dict[str, Any]]:
    """``right`` + ``wrong`` records of one source; right ones at confidence ``p_right``."""
    p_synthetic = {True: p_right if label else 1 - p_right, False: 0.4 if label else 0.6}
    return [
        {"source": source, "label": label, "probability_synthetic": p_synthetic[ok], "correct": ok}
        for ok in [True] * right + [False] * wrong
    ]


def test_conditions_follow_the_rule() -> None:
    held = (
        _records("eevee", 1, 10, 0)
        + _records("mitsuba", 1, 10, 0)
        + _records("vtk", 1, 10, 0)
        + _records("povray-examples", 1, 7, 3)  # engines mean (1 + 1 + 1 + 0.7) / 4 = 92.5 %
        + _records("cycles-8spp-denoised", 1, 60, 0, p_right=0.99)
        + _records("skimage", 0, 19, 1, p_right=0.99)  # photos 19 of 20: exactly 95 %
        + _records("lomiri-photos", 0, 0, 5)  # decides nothing
    )
    verdict = scales.conditions(held)
    assert abs(verdict["engines_mean"] - 0.925) < 1e-9
    assert verdict["photos"] == "19 of 20"
    assert abs(verdict["nine_accuracy"] - 79 / 80) < 1e-9
    assert verdict["pass"] == {
        "unseen engines >= 91.7 %": True,
        "nine sources >= 96.0 % and log loss <= 0.15": True,
        "photos >= 95 %": True,
    }
    worse = scales.conditions(held + _records("opencv-photos", 0, 0, 2))
    assert worse["photos"] == "19 of 22"
    assert worse["pass"]["photos >= 95 %"] is False
    assert worse["pass"]["unseen engines >= 91.7 %"] is True
