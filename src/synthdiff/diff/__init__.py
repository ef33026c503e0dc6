"""Pair comparison: global versus local change, regions and boxes, and the ``compare`` pipeline."""

from synthdiff.diff._batch import (
    BatchResult,
    PairSpec,
    feature_sentence,
    pairs_from_csv,
    pairs_from_folders,
    pairs_from_reference,
    run_batch,
)
from synthdiff.diff._compare import REPORT_SCHEMA_VERSION, Comparison, compare
from synthdiff.diff._global import GlobalChange, estimate_global_change, local_difference
from synthdiff.diff._regions import NoiseModel, Region, RegionResult, find_regions

__all__ = [
    "REPORT_SCHEMA_VERSION",
    "BatchResult",
    "Comparison",
    "GlobalChange",
    "NoiseModel",
    "PairSpec",
    "Region",
    "RegionResult",
    "compare",
    "estimate_global_change",
    "feature_sentence",
    "find_regions",
    "local_difference",
    "pairs_from_csv",
    "pairs_from_folders",
    "pairs_from_reference",
    "run_batch",
]
