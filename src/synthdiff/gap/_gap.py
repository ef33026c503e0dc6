"""``synthdiff gap``: how far a set of images (B, e.g. renders) is from another (A, e.g. photos)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from synthdiff.errors import InvalidArgumentError
from synthdiff.gap._analysis import (
    deep_distances,
    frequency_summary,
    inventory,
    low_level_statistics,
    shared_pca,
)
from synthdiff.gap._autoencoder import autoencoder_codes
from synthdiff.gap._records import ImageRecord, RecordSettings, compute_records
from synthdiff.io import images_in_folder, list_images

__all__ = ["GAP_SCHEMA_VERSION", "GapReport", "default_cache_dir", "gap"]

GAP_SCHEMA_VERSION = "1.3"  # 1.1 added shared_images and notes, 1.2 near_identical, 1.3 near_identical_within
RANKED = 8
# Two images whose 32x32 thumbnails (centre square and whole frame, the larger difference) differ by at most
# this RMS (in 8-bit steps) count as the same picture. Measured by scripts/gap_near_identical_measure.py on
# the scikit-image photos: JPEG re-encodes at quality 90-30 and half-size JPEG 75 copies came to 0.03-2.2
# (one text page downscaled, 6.9); distinct photos 13 and more apart; a render with a wrong roughness
# (examples/) 6.4 from its reference; unchanged 64x64 re-renders with other noise 3.3-5.1 (centre squares
# only). The whole frame tells apart what the centre square alone did not: four wide photos against their
# centre square cropped came to 0.3-14 on the centre, 20-51 on the frame, and with the parts beside that
# square inverted to 2.0-10.7 and 43-89.
NEAR_IDENTICAL_RMS = 3.0
# gap.json lists this many near-identical pairs at most (the closest).
NEAR_IDENTICAL_LISTED = 20


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/synthdiff/gap`` (``~/.cache/synthdiff/gap``)."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "synthdiff" / "gap"


@dataclass
class GapReport:
    """Everything ``gap`` measured (``to_dict`` is gap.json) and the plots (PNG bytes by name)."""

    names: tuple[str, str]
    folders: tuple[str, str]
    settings: dict[str, Any]
    results: dict[str, Any]
    plots: dict[str, bytes] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": GAP_SCHEMA_VERSION,
            "tool": "synthdiff gap",
            "sets": {"a": {"name": self.names[0], "folder": self.folders[0]},
                     "b": {"name": self.names[1], "folder": self.folders[1]}},
            "settings": self.settings,
            **self.results,
        }  # fmt: skip

    def save(self, out: str | os.PathLike[str]) -> Path:
        """Write gap.json, the plots as PNG and a self-contained index.html; returns the page."""
        from synthdiff.io import atomic_write_bytes, atomic_write_text, json_text, output_folder
        from synthdiff.report._compare_report import png_data_uri
        from synthdiff.report._gap_report import render_gap_html

        folder = output_folder(out, page="index.html")
        atomic_write_text(folder / "gap.json", json_text(self.to_dict()))
        for name, data in self.plots.items():
            atomic_write_bytes(folder / name, data)
        uris = {name: png_data_uri(data) for name, data in self.plots.items()}
        return atomic_write_text(folder / "index.html", render_gap_html(self.to_dict(), uris))


def _images_of(count: int, name: str, more: bool = False) -> str:
    """``1 image of B is``, ``3 more images of B are``."""
    noun = ("more " if more else "") + ("image" if count == 1 else "images")
    return f"{count} {noun} of {name} {'is' if count == 1 else 'are'}"


def _shared_images_note(count: int, names: tuple[str, str]) -> str:
    """What ``count`` files found in both sets mean for the figures (empty when there are none)."""
    if not count:
        return ""
    return (
        f"{_images_of(count, names[1])} also in {names[0]} (the same file content): every measure but the "
        "classifier (which holds copies of a picture out together) counts them as different images, so the "
        "sets look more alike than they are."
    )


def near_identical(
    a: list[ImageRecord], b: list[ImageRecord], max_rms: float = NEAR_IDENTICAL_RMS, block: int = 512
) -> dict[str, Any]:
    """The images of B that are near-identical to one of A: the same picture re-encoded or resized.

    Two images are near-identical when both their 32x32 centre-square thumbnails and their 32x32
    whole-frame thumbnails differ by at most ``max_rms`` (RMS, in 8-bit steps): the centre square is
    sharp enough to tell photos apart, the whole frame makes pictures that differ only near their
    edges, or are crops of one another, count as different. B is compared with all of A in blocks.

    Returns:
        ``count`` (images of B with a partner in A within ``max_rms``, exact copies included),
        ``max_rms`` and ``pairs``: up to NEAR_IDENTICAL_LISTED of them, closest first, each
        ``{"a": path, "b": path, "rms": value}``.
    """
    return _listing(_partners_in_a(a, b, max_rms, block), max_rms, b, a, ("b", "a"))


def _partners_in_a(
    a: list[ImageRecord], b: list[ImageRecord], max_rms: float = NEAR_IDENTICAL_RMS, block: int = 512
) -> list[tuple[float, int, int]]:
    return _nearest_partners(b, a, max_rms, block, earlier_only=False)


def near_identical_within(
    records: list[ImageRecord], max_rms: float = NEAR_IDENTICAL_RMS, block: int = 512
) -> dict[str, Any]:
    """The images of one set that are near-identical to an earlier image of the same set (as
    :func:`near_identical` judges them): the copies a set holds beyond its first of each picture.

    Returns:
        ``count``, ``max_rms`` and ``pairs``: up to NEAR_IDENTICAL_LISTED, closest first, each
        ``{"earlier": path, "later": path, "rms": value}`` (in the set's listing order).
    """
    return _listing(
        _earlier_partners(records, max_rms, block), max_rms, records, records, ("later", "earlier")
    )


def _earlier_partners(
    records: list[ImageRecord], max_rms: float = NEAR_IDENTICAL_RMS, block: int = 512
) -> list[tuple[float, int, int]]:
    return _nearest_partners(records, records, max_rms, block, earlier_only=True)


def copy_groups(
    n_a: int,
    n_b: int,
    across: list[tuple[float, int, int]],
    within_a: list[tuple[float, int, int]],
    within_b: list[tuple[float, int, int]],
) -> np.ndarray:
    """One group id per image, A's then B's: near-identical images (linked by the partner lists, each
    ``(rms, query, target)``: B's queries to A's targets, then later to earlier within each set) share
    one, so that the classifier holds copies of a picture out together."""
    parent = np.arange(n_a + n_b)

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = int(parent[node])
        return node

    links = [(n_a + q, t) for _, q, t in across]
    links += [(q, t) for _, q, t in within_a] + [(n_a + q, n_a + t) for _, q, t in within_b]
    for first, second in links:
        parent[root(first)] = root(second)
    return np.array([root(node) for node in range(n_a + n_b)])


def _listing(
    found: list[tuple[float, int, int]],
    max_rms: float,
    queries: list[ImageRecord],
    targets: list[ImageRecord],
    keys: tuple[str, str],
) -> dict[str, Any]:
    """The count and the closest NEAR_IDENTICAL_LISTED pairs, each naming its query and target paths
    by ``keys``."""
    pairs = [
        {keys[1]: targets[target].path, keys[0]: queries[query].path, "rms": round(value, 2)}
        for value, query, target in found[:NEAR_IDENTICAL_LISTED]
    ]
    return {"count": len(found), "max_rms": max_rms, "pairs": pairs}


_THUMBNAILS = ("thumbnail", "frame")


def _flat(records: list[ImageRecord], name: str) -> np.ndarray:
    return np.stack([getattr(r, name) for r in records]).reshape(len(records), -1).astype(np.float32)


def _nearest_partners(
    queries: list[ImageRecord], targets: list[ImageRecord], max_rms: float, block: int, earlier_only: bool
) -> list[tuple[float, int, int]]:
    """For each query, its nearest target if within ``max_rms``: ``(rms, query, target)``, closest
    first. The distance of two images is the larger of their two thumbnails' RMS differences. With
    ``earlier_only`` (queries and targets the same list) each image is matched only with those before it.
    """
    if not queries or not targets:
        return []
    flat_targets = [_flat(targets, name) for name in _THUMBNAILS]
    squares = [(flat**2).sum(axis=1) for flat in flat_targets]
    found: list[tuple[float, int, int]] = []
    for start in range(0, len(queries), block):
        chunk = queries[start : start + block]
        distances = []
        for name, flat, square in zip(_THUMBNAILS, flat_targets, squares, strict=True):
            rows = _flat(chunk, name)
            # |x - y|^2 = |x|^2 + |y|^2 - 2 x.y, for every pair of the block at once.
            squared = square[None, :] + (rows**2).sum(axis=1)[:, None] - 2.0 * rows @ flat.T
            distances.append(np.sqrt(np.maximum(squared, 0.0) / flat.shape[1]))
        rms = np.maximum(*distances)
        if earlier_only:
            indices = np.arange(start, start + len(chunk))[:, None]
            rms[np.arange(len(targets))[None, :] >= indices] = np.inf
        nearest = rms.argmin(axis=1)
        for row, column in enumerate(nearest):
            if rms[row, column] <= max_rms:
                found.append((float(rms[row, column]), start + row, int(column)))
    found.sort()
    return found


def _near_identical_within_note(within: dict[str, dict[str, Any]], names: tuple[str, str]) -> str:
    """What copies inside a set mean for the figures (empty when there are none)."""
    counted_sets = [
        f"{_images_of(within[key]['count'], name)} near-identical to an earlier one of {name}"
        for key, name in zip(("a", "b"), names, strict=True)
        if within[key]["count"]
    ]
    if not counted_sets:
        return ""
    return (
        "; ".join(counted_sets)
        + " (gap.json lists them under near_identical_within): a set holding copies is less varied than its "
        "size says, and every measure counts each copy as another image."
    )


def _near_identical_note(count: int, shared: int, names: tuple[str, str]) -> str:
    """What near-identical images beyond the exact copies mean (empty when there are none)."""
    extra = count - shared
    if extra <= 0:
        return ""
    return (
        f"{_images_of(extra, names[1], more=True)} near-identical to one in "
        f"{names[0]} (the same picture re-encoded, resized or changed very slightly: thumbnails within "
        f"{NEAR_IDENTICAL_RMS:g}/255 RMS; gap.json lists them under near_identical): like exact copies, "
        "they make the sets look more alike than they are."
    )


def _pick(paths: list[Path], limit: int | None, seed: int) -> list[Path]:
    if limit is None or len(paths) <= limit:
        return paths
    chosen = np.random.default_rng(seed).choice(len(paths), size=limit, replace=False)
    return [paths[i] for i in sorted(chosen)]


def gap(
    folder_a: str | os.PathLike[str],
    folder_b: str | os.PathLike[str],
    *,
    names: tuple[str, str] = ("A", "B"),
    max_images: int | None = None,
    size: int = 224,
    cache_dir: str | os.PathLike[str] | None = None,
    resamples: int = 50,
    seed: int = 0,
    on_progress: Callable[[str, int, int], None] | None = None,
    leave_out: Iterable[str | os.PathLike[str]] = (),
) -> GapReport:
    """Compare two image folders: inventory, low-level statistics, frequency content, shared-axis
    embeddings, deep-feature distances against a same-size baseline, a classifier test, rankings.

    Images are read one batch at a time and each image's measurements are cached by file content and
    settings, so memory stays bounded and a re-run (or a comparison of one set against another)
    reuses them. Unreadable files are listed in the inventory and skipped.

    Args:
        folder_a, folder_b: the reference set (e.g. real photos) and the set judged against it.
        names: display names of the two sets.
        max_images: use at most this many images per set (a seeded random subset).
        size: the network's input: short side resized to ``size``, centre square cropped.
        cache_dir: where the measurements are cached (default :func:`default_cache_dir`).
        resamples: random splits for the baseline comparison.
        on_progress: called as ``on_progress(set_label, done, total)``.
        leave_out: folders whose images belong to neither set, such as the report's own folder or the
            cache when they lie inside a set's folder (hidden files and folders are skipped too, see
            :func:`synthdiff.io.list_images`).

    Raises:
        InvalidArgumentError: a folder is missing or holds no image files; ``max_images`` under 1,
            ``resamples`` under 2 or ``seed`` under 0.
    """
    if max_images is not None and max_images < 1:
        raise InvalidArgumentError(
            f"Expected --max-images of at least 1 (or none, every image), got {max_images}."
        )
    if resamples < 2:
        raise InvalidArgumentError(
            f"Expected --resamples of at least 2 (the baseline's interval spans them), got {resamples}."
        )
    if seed < 0:
        raise InvalidArgumentError(f"Expected --seed of 0 or more, got {seed}.")
    paths = []
    for folder, other in ((folder_a, folder_b), (folder_b, folder_a)):
        # A set's folder inside the other's (photos/ and photos/renders/) is not part of the outer set.
        found = list_images(folder, leave_out=[other, *leave_out]) if Path(folder).is_dir() else []
        if not found:
            images_in_folder(folder)  # not a folder, or no image in it at all: the plain error
            raise InvalidArgumentError(
                f"Expected images in '{folder}' besides those of '{other}' inside it (or of the "
                "output folders), found none. Fix: pass two folders that hold the two sets."
            )
        paths.append(_pick(found, max_images, seed))
    settings = RecordSettings(size)
    cache = default_cache_dir() if cache_dir is None else cache_dir
    sets, failures, hits = [], [], 0
    for label, chosen in zip(("a", "b"), paths, strict=True):
        progress = (lambda done, total, label=label: on_progress(label, done, total)) if on_progress else None
        records, failed, cached = compute_records(chosen, settings, cache, on_progress=progress)
        sets.append(records)
        failures.append(failed)
        hits += cached
    a, b = sets
    shared = {r.content_key for r in a if r.content_key} & {r.content_key for r in b if r.content_key}
    results: dict[str, Any] = {
        "inventory": {"a": inventory(a, failures[0]), "b": inventory(b, failures[1])},
        # Files in both sets count as different images everywhere: the sets look more alike than they
        # are, and a classifier told to separate a set from itself scores under 0.5.
        "shared_images": sum(r.content_key in shared for r in b),
        "cache": {"folder": str(cache), "records_reused": hits},
    }
    across, within_a, within_b = _partners_in_a(a, b), _earlier_partners(a), _earlier_partners(b)
    results["near_identical"] = _listing(across, NEAR_IDENTICAL_RMS, b, a, ("b", "a"))
    results["near_identical_within"] = {
        key: _listing(found, NEAR_IDENTICAL_RMS, records, records, ("later", "earlier"))
        for key, found, records in (("a", within_a, a), ("b", within_b, b))
    }
    notes = (
        _shared_images_note(results["shared_images"], names),
        _near_identical_note(results["near_identical"]["count"], results["shared_images"], names),
        _near_identical_within_note(results["near_identical_within"], names),
    )
    results["notes"] = [note for note in notes if note]
    if not a or not b:
        results["status"] = "no readable images in " + " and ".join(
            n for n, s in zip(names, sets, strict=True) if not s
        )
        return GapReport(names, (str(folder_a), str(folder_b)), {"size": size, "seed": seed}, results)
    results["low_level"] = low_level_statistics(a, b)
    results["frequency"] = frequency_summary(a, b)
    features_a = np.stack([r.features for r in a]).astype(np.float64)
    features_b = np.stack([r.features for r in b]).astype(np.float64)
    groups = copy_groups(len(a), len(b), across, within_a, within_b)
    distances = deep_distances(features_a, features_b, resamples=resamples, seed=seed, groups=groups)
    scores = distances.get("classifier") or {}
    out_of_fold = np.array(scores.pop("scores_b_minus_a", []))
    results["deep_features"] = distances
    embeddings: dict[str, Any] = {}
    thumbnails = np.stack([r.thumbnail for r in a + b])  # (N_a + N_b, 32, 32, 3) uint8
    flat = thumbnails.reshape(len(thumbnails), -1).astype(np.float64)
    projections = {
        "pixels": shared_pca(flat[: len(a)], flat[len(a) :]),
        "features": shared_pca(features_a, features_b),
    }
    if len(a) + len(b) >= 8:
        codes, error = autoencoder_codes(thumbnails, seed=seed)
        projections["autoencoder"] = shared_pca(codes[: len(a)], codes[len(a) :])
        embeddings["autoencoder_reconstruction_mse"] = error
    for name, (pa, pb, explained) in projections.items():
        embeddings[name] = {
            "explained_variance": explained,
            "centroid_a": pa.mean(axis=0).tolist(),
            "centroid_b": pb.mean(axis=0).tolist(),
        }
    results["embeddings"] = embeddings
    results["ranking"] = _ranking(a, b, out_of_fold)
    report = GapReport(
        names,
        (str(folder_a), str(folder_b)),
        {"size": size, "seed": seed, "resamples": resamples, "max_images": max_images},
        results,
    )
    from synthdiff.gap._plots import make_plots

    report.plots = make_plots(report, a, b, projections, out_of_fold)
    return report


def _ranking(a: list[ImageRecord], b: list[ImageRecord], scores: np.ndarray) -> dict[str, Any]:
    """From the classifier's out-of-fold scores (high: looks like B): the B images that look least
    like A, and the A images that look least like B."""
    if scores.size != len(a) + len(b):
        return {"b_least_like_a": [], "a_least_like_b": []}
    scores_a, scores_b = scores[: len(a)], scores[len(a) :]
    top_b = np.argsort(-scores_b)[:RANKED]
    top_a = np.argsort(scores_a)[:RANKED]
    return {
        "b_least_like_a": [{"path": b[i].path, "score": float(scores_b[i])} for i in top_b],
        "a_least_like_b": [{"path": a[i].path, "score": float(scores_a[i])} for i in top_a],
    }
