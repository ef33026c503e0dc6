"""The gap report's figures (matplotlib, PNG bytes)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from synthdiff.gap._records import HISTOGRAM_BINS, ImageRecord, prepare_square

__all__ = ["make_plots"]

COLOURS = ("#1f77b4", "#d62728")


def _png(figure: Any) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def _thumbnail(path: str, record: ImageRecord, size: int = 160) -> np.ndarray:
    """The image itself, shrunk to ``size`` pixels (the record's 32x32 thumbnail if it cannot be read)."""
    from synthdiff.io import hdr_to_display, load_image

    try:
        loaded = load_image(path)
    except (OSError, ValueError):
        return record.thumbnail
    pixels = hdr_to_display(loaded.pixels) if loaded.info.is_hdr else np.clip(loaded.pixels, 0, 1)
    return prepare_square(pixels.astype(np.float32), size).numpy().transpose(1, 2, 0)


def make_plots(
    report: Any,
    a: list[ImageRecord],
    b: list[ImageRecord],
    projections: dict[str, tuple[np.ndarray, np.ndarray, list[float]]],
    scores: np.ndarray,
) -> dict[str, bytes]:
    """Histograms, spectra, shared-axis scatters, metrics against baseline, ranked thumbnails."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = report.names
    results = report.results
    plots: dict[str, bytes] = {}
    centres = (np.arange(HISTOGRAM_BINS) + 0.5) / HISTOGRAM_BINS

    figure, axes = plt.subplots(1, 4, figsize=(16, 3.2))
    histograms = results["low_level"]
    for axis, index, title in zip(axes, (None, 0, 1, 2), ("grey level", "red", "green", "blue"), strict=True):
        for key, name, colour in zip(("a", "b"), names, COLOURS, strict=True):
            values = (
                histograms["grey_histogram"][key]
                if index is None
                else histograms["channel_histograms"][key][index]
            )
            axis.plot(centres, values, color=colour, label=name)
        axis.set_title(title)
        axis.set_xlabel("value (sRGB)")
    axes[0].set_ylabel("share of pixels")
    axes[0].legend()
    plots["histograms.png"] = _png(figure)

    frequency = results["frequency"]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 3.4))
    radius = np.arange(1, len(frequency["mean_log10_power_a"]) + 1)
    for key, name, colour in zip(("a", "b"), names, COLOURS, strict=True):
        mean = np.array(frequency[f"mean_log10_power_{key}"])
        std = np.array(frequency[f"std_log10_power_{key}"])
        left.plot(radius, mean, color=colour, label=name)
        left.fill_between(radius, mean - std, mean + std, color=colour, alpha=0.15)
    left.set_xlabel("frequency (cycles per 128-pixel crop)")
    left.set_ylabel("log10 power")
    left.legend()
    right.plot(radius, frequency["difference_b_minus_a"], color="black")
    right.axhline(0, color="grey", lw=0.8)
    right.set_title(f"{names[1]} minus {names[0]}")
    right.set_xlabel("frequency (cycles per 128-pixel crop)")
    plots["spectra.png"] = _png(figure)

    titles = {"pixels": "PCA of 32x32 thumbnails", "features": "PCA of EfficientNet-Lite0 features",
              "autoencoder": "PCA of autoencoder codes"}  # fmt: skip
    figure, axes = plt.subplots(1, len(projections), figsize=(5.2 * len(projections), 4.4))
    for axis, (key, (pa, pb, explained)) in zip(np.atleast_1d(axes), projections.items(), strict=True):
        axis.scatter(pa[:, 0], pa[:, 1], s=8, alpha=0.6, color=COLOURS[0], label=names[0])
        axis.scatter(pb[:, 0], pb[:, 1], s=8, alpha=0.6, color=COLOURS[1], label=names[1])
        shares = f"{100 * explained[0]:.0f} %, {100 * explained[1]:.0f} %"
        axis.set_title(f"{titles[key]}\n(axes fitted on both sets: {shares})")
        axis.legend()
    plots["embeddings.png"] = _png(figure)

    metrics = results["deep_features"]["metrics"]
    if metrics:
        figure, axes = plt.subplots(1, len(metrics), figsize=(2.6 * len(metrics), 3.2))
        for axis, (name, values) in zip(np.atleast_1d(axes), metrics.items(), strict=True):
            for x, key, colour, label in ((0, "baseline", COLOURS[0], f"{names[0]} vs {names[0]}"),
                                          (1, "gap", COLOURS[1], f"{names[0]} vs {names[1]}")):  # fmt: skip
                summary = values[key]
                if summary is None:
                    continue
                low, high = summary["interval"]
                error = [[summary["median"] - low], [high - summary["median"]]]
                axis.errorbar(
                    [x], [summary["median"]], yerr=error, fmt="o", color=colour, capsize=4, label=label
                )
            axis.set_xticks([0, 1], ["baseline", "gap"])
            axis.set_xlim(-0.6, 1.6)
            axis.set_title(name.replace("_", " "))
        np.atleast_1d(axes)[0].legend(fontsize=8)
        plots["distances.png"] = _png(figure)

    for key, title in (("b_least_like_a", f"{names[1]}: the images least like {names[0]}"),
                       ("a_least_like_b", f"{names[0]}: the images least like {names[1]}")):  # fmt: skip
        ranked = results["ranking"][key]
        if not ranked:
            continue
        records = {r.path: r for r in (a + b)}
        figure, axes = plt.subplots(1, len(ranked), figsize=(1.6 * len(ranked), 2.0))
        for axis, item in zip(np.atleast_1d(axes), ranked, strict=True):
            axis.imshow(_thumbnail(item["path"], records[item["path"]]))
            axis.set_title(f"{item['score']:+.1f}", fontsize=8)
            axis.axis("off")
        figure.suptitle(title, fontsize=10)
        plots[f"{key}.png"] = _png(figure)
    return plots
