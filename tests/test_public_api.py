"""Guards the public names, so that a rename is a deliberate change."""

from __future__ import annotations

import synthdiff
import synthdiff.align
import synthdiff.backbones
import synthdiff.change
import synthdiff.diff
import synthdiff.io
import synthdiff.metrics
import synthdiff.realness
import synthdiff.synth


def test_top_level_names() -> None:
    assert set(synthdiff.__all__) == {"Comparison", "SynthdiffError", "__version__", "compare"}


def test_every_exported_name_exists() -> None:
    modules = (
        synthdiff,
        synthdiff.io,
        synthdiff.metrics,
        synthdiff.align,
        synthdiff.diff,
        synthdiff.synth,
        synthdiff.backbones,
        synthdiff.change,
        synthdiff.realness,
    )
    for module in modules:
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"


def test_metric_functions_are_exported() -> None:
    assert {"structural_similarity", "peak_signal_noise_ratio", "flip", "ciede2000_map"} <= set(
        synthdiff.metrics.__all__
    )
