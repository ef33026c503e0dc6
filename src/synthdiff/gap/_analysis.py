"""The set-to-set analysis behind ``synthdiff gap``: numbers with intervals and a baseline."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy.stats import ks_2samp, wasserstein_distance

from synthdiff._stats import auc_interval
from synthdiff.gap._distances import (
    Prdc,
    classifier_auc,
    euclidean,
    frechet_distance,
    kernel_distance,
    polynomial_kernel,
    prdc,
)
from synthdiff.gap._records import HISTOGRAM_BINS, ImageRecord

__all__ = [
    "MIN_IMAGES",
    "deep_distances",
    "frequency_summary",
    "inventory",
    "low_level_statistics",
    "shared_pca",
]

#: Below this many images in a set, distribution distances are not computed (stated in the report).
MIN_IMAGES = 10


def inventory(records: list[ImageRecord], unreadable: list[tuple[str, str]]) -> dict[str, Any]:
    """Counts, resolutions, formats and bit depths of one set, and the files that could not be read."""
    sizes = Counter(f"{r.width}x{r.height}" for r in records)
    return {
        "images": len(records),
        "unreadable": [{"path": path, "reason": reason} for path, reason in unreadable],
        "resolutions": dict(sizes.most_common(10)),
        "distinct_resolutions": len(sizes),
        "median_size": (
            [int(np.median([r.width for r in records])), int(np.median([r.height for r in records]))]
            if records
            else None
        ),
        "formats": dict(Counter(r.format for r in records)),
        "bit_depths": dict(Counter(str(r.bit_depth) for r in records)),
        "hdr": sum(r.is_hdr for r in records),
    }


def _per_image(records: list[ImageRecord]) -> dict[str, np.ndarray]:
    centres = (np.arange(HISTOGRAM_BINS) + 0.5) / HISTOGRAM_BINS
    grey = np.stack([r.grey_histogram for r in records])
    mean = grey @ centres
    return {
        "brightness": mean,
        "contrast": np.sqrt(np.clip(grey @ centres**2 - mean**2, 0, None)),
        "clipped_dark": np.array([r.clipped_dark for r in records]),
        "clipped_bright": np.array([r.clipped_bright for r in records]),
        "saturation": np.array([_saturation(r) for r in records]),
    }


def _saturation(record: ImageRecord) -> float:
    """Mean HSV-style saturation of the thumbnail: (max - min) / max over the channels."""
    pixels = record.thumbnail.astype(np.float32) / 255.0
    high, low = pixels.max(axis=2), pixels.min(axis=2)
    return float(np.where(high > 0, (high - low) / np.maximum(high, 1e-6), 0.0).mean())


def low_level_statistics(a: list[ImageRecord], b: list[ImageRecord]) -> dict[str, Any]:
    """Per set: mean grey and channel histograms and per-image statistics; between the sets: the
    Wasserstein distance of the pooled grey levels and, per statistic, the two-sample KS test."""
    centres = (np.arange(HISTOGRAM_BINS) + 0.5) / HISTOGRAM_BINS
    pooled = {
        name: np.mean([r.grey_histogram for r in records], axis=0) for name, records in (("a", a), ("b", b))
    }
    stats_a, stats_b = _per_image(a), _per_image(b)
    tests = {}
    for name in stats_a:
        result = ks_2samp(stats_a[name], stats_b[name])
        tests[name] = {
            "mean_a": float(stats_a[name].mean()),
            "mean_b": float(stats_b[name].mean()),
            "ks_statistic": float(result.statistic),
            "ks_p_value": float(result.pvalue),
        }
    return {
        "grey_wasserstein": float(wasserstein_distance(centres, centres, pooled["a"], pooled["b"])),
        "per_image": tests,
        "grey_histogram": {key: value.tolist() for key, value in pooled.items()},
        "channel_histograms": {
            name: np.mean([r.channel_histograms for r in records], axis=0).tolist()
            for name, records in (("a", a), ("b", b))
        },
    }


def frequency_summary(a: list[ImageRecord], b: list[ImageRecord]) -> dict[str, Any]:
    """Mean log10 radial power spectra, their difference, and the mean difference over the upper half
    of the frequencies (where sensor noise and render denoising differ most)."""
    spectra_a = np.stack([r.spectrum for r in a])
    spectra_b = np.stack([r.spectrum for r in b])
    difference = spectra_b.mean(axis=0) - spectra_a.mean(axis=0)
    half = len(difference) // 2
    return {
        "mean_log10_power_a": spectra_a.mean(axis=0).tolist(),
        "mean_log10_power_b": spectra_b.mean(axis=0).tolist(),
        "std_log10_power_a": spectra_a.std(axis=0).tolist(),
        "std_log10_power_b": spectra_b.std(axis=0).tolist(),
        "difference_b_minus_a": difference.tolist(),
        "high_frequency_difference": float(difference[half:].mean()),
    }


def shared_pca(
    a: np.ndarray, b: np.ndarray, components: int = 2
) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """PCA fitted on the union of both sets, both projected on the same axes.

    Returns:
        The projections of A and B, and the explained variance ratio of each component.
    """
    union = np.vstack([a, b]).astype(np.float64)
    mean = union.mean(axis=0)
    _, singular, vt = np.linalg.svd(union - mean, full_matrices=False)
    axes = vt[:components]
    total = float((singular**2).sum())
    # Identical vectors (one image in both sets) vary along no axis: nothing is explained.
    explained = (singular**2 / total)[:components] if total > 0 else np.zeros(min(components, len(singular)))
    return (a - mean) @ axes.T, (b - mean) @ axes.T, [float(v) for v in explained]


def _metrics(both: np.ndarray, k: int) -> dict[str, Callable[[np.ndarray, np.ndarray], float]]:
    """Each metric as a function of two index arrays into ``both`` (A's vectors then B's), so one
    function serves gap (A vs B) and baseline (A vs A); kernels and distances are computed once."""
    kernel = polynomial_kernel(both, both)
    distance = euclidean(both, both)

    def blocks(
        matrix: np.ndarray, first: np.ndarray, second: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return matrix[np.ix_(first, first)], matrix[np.ix_(second, second)], matrix[np.ix_(first, second)]

    last: dict[bytes, Prdc] = {}

    def prdc_of(first: np.ndarray, second: np.ndarray) -> Prdc:
        # The four PRDC metrics are asked for one after another with the same indices: compute once.
        key = first.tobytes() + b"|" + second.tobytes()
        if key not in last:
            last.clear()
            last[key] = prdc(*blocks(distance, first, second), k=k)
        return last[key]

    return {
        "frechet_distance": lambda first, second: frechet_distance(both[first], both[second]),
        "kid": lambda first, second: kernel_distance(*blocks(kernel, first, second)),
        "precision": lambda first, second: prdc_of(first, second).precision,
        "recall": lambda first, second: prdc_of(first, second).recall,
        "density": lambda first, second: prdc_of(first, second).density,
        "coverage": lambda first, second: prdc_of(first, second).coverage,
    }


def _summary(values: Sequence[float | None]) -> dict[str, Any] | None:
    finite = np.array([v for v in values if v is not None], np.float64)
    if not finite.size:
        return None
    low, median, high = np.quantile(finite, [0.025, 0.5, 0.975])
    return {"median": float(median), "interval": [float(low), float(high)]}


def deep_distances(
    features_a: np.ndarray,
    features_b: np.ndarray,
    *,
    resamples: int = 50,
    k: int = 5,
    seed: int = 0,
    groups: np.ndarray | None = None,
) -> dict[str, Any]:
    """FD, unbiased KID and PRDC between A and B next to a real-vs-real baseline at the same sample
    size, with intervals; and the classifier two-sample test with a score interval of its AUC
    (``groups``: copies of one picture, held out together, see :func:`classifier_auc`).

    FD and PRDC depend on the sample size (and the bootstrap's duplicated samples bias them), so the
    comparison is made over ``resamples`` random splits: each splits A at random into halves A1 and
    A2 and draws B' from B without replacement, of A1's size; ``baseline`` summarises metric(A1, A2)
    and ``gap`` metric(A1, B') over the splits (median and 2.5-97.5 % range), and
    ``gap_above_baseline`` is the share of splits where the gap exceeds its paired baseline. ``value``
    is the metric on the full sets.

    Returns:
        ``{"n_a", "n_b", "status", "metrics": {name: {"value", "gap", "baseline",
        "gap_above_baseline"}}, "classifier": {"auc", "interval", "scores_b_minus_a"}}``; with fewer
        than :data:`MIN_IMAGES` images in a set, only the status says why nothing was computed.
    """
    n_a, n_b = len(features_a), len(features_b)
    result: dict[str, Any] = {"n_a": n_a, "n_b": n_b, "metrics": {}, "classifier": None}
    if min(n_a, n_b) < MIN_IMAGES:
        result["status"] = (
            f"not computed: each set needs at least {MIN_IMAGES} readable images, got {n_a} and {n_b}"
        )
        return result
    rng = np.random.default_rng(seed)
    metrics = _metrics(np.vstack([features_a, features_b]), k)
    half = n_a // 2
    size_b = min(n_b, half)
    splits = []
    for _ in range(resamples):
        order = rng.permutation(n_a)
        b_subset = n_a + rng.choice(n_b, size=size_b, replace=False)  # indices of B in the stacked array
        splits.append((order[:half], order[half : 2 * half], b_subset))
    small = half <= k
    names = [n for n in metrics if not (small and n in ("precision", "recall", "density", "coverage"))]
    # Split by split, every metric in turn (so the PRDC group is computed once per split and pair).
    gap_values: dict[str, list[float]] = {name: [] for name in names}
    base_values: dict[str, list[float]] = {name: [] for name in names}
    for a1, a2, b1 in splits:
        for name in names:
            gap_values[name].append(metrics[name](a1, b1))
        for name in names:
            base_values[name].append(metrics[name](a1, a2))
    for name in names:
        metric = metrics[name]
        gaps, baselines = gap_values[name], base_values[name]
        paired = [g > b for g, b in zip(gaps, baselines, strict=True) if g is not None and b is not None]
        result["metrics"][name] = {
            "value": metric(np.arange(n_a), n_a + np.arange(n_b)),
            "gap": _summary(gaps),
            "baseline": _summary(baselines),
            "gap_above_baseline": float(np.mean(paired)) if paired else None,
        }
    auc_value, scores, labels = classifier_auc(features_a, features_b, seed=seed, groups=groups)
    result["classifier"] = {
        "auc": auc_value,
        # A score interval: a bootstrap collapses to [1, 1] when the sets separate perfectly.
        "interval": auc_interval(auc_value, int(labels.sum()), int(len(labels) - labels.sum())),
        "scores_b_minus_a": scores.tolist(),
    }
    result["status"] = "computed" if not small else f"PRDC not computed: half of set A has only {half} images"
    return result
