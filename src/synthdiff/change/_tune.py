"""Choosing a change detector's thresholds on validation pairs (``synthdiff tune change``).

Per feature, the change threshold (or, with ``hysteresis``, the pair of a low and a high threshold:
:func:`~synthdiff.change.hysteresis_mask`) with the highest change F1 over the given pairs, among
those that mark at most ``budget`` of the pixels of the unchanged pairs. Thresholds are tried on the
grid 0.01 ... 0.99 and compared as :func:`~synthdiff.change.evaluate` compares them (``probability >
threshold`` in float32), so the F1 reported for a choice is the one ``synthdiff eval change`` gives.

Single thresholds are counted in one streaming pass (any number of pairs). Two thresholds need the
change maps in memory (4 bytes per pixel and feature: about 0.7 GB for 690 pairs of 256x256 with four
features) and one labelling of the maps per low threshold. With a journal folder each pair's counts
(and maps) are kept there as they are made, so an interrupted tuning resumes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from scipy import ndimage
from torch import nn
from torch.utils.data import DataLoader, Subset

from synthdiff._journal import folder_lock, prepare_journal, read_journal
from synthdiff.change._data import ChangePairs
from synthdiff.change._evaluate import _pair_stamps, model_digest
from synthdiff.change._hysteresis import _NEIGHBOURS, change_masks, threshold_tensor
from synthdiff.change._infer import AtWorkingSize
from synthdiff.change._models import identical_pairs
from synthdiff.change._registry import resolve_checkpoint, set_views
from synthdiff.errors import InvalidArgumentError
from synthdiff.io import output_folder

__all__ = ["THRESHOLD_GRID", "ThresholdScore", "TuneResult", "store_thresholds", "tune_change_thresholds"]

#: The thresholds tried, as float32 (the precision the maps are compared in).
THRESHOLD_GRID = (np.arange(1, 100) / 100).astype(np.float32)
_GRID_TENSOR = torch.from_numpy(THRESHOLD_GRID)
# The maps of a batch are labelled together; this structure connects no two maps.
_STACKED_NEIGHBOURS = np.stack([np.zeros_like(_NEIGHBOURS), _NEIGHBOURS, np.zeros_like(_NEIGHBOURS)])


@dataclass(frozen=True)
class ThresholdScore:
    """One feature's threshold(s) and their scores on the tuning pairs.

    Attributes:
        threshold: the (high) change threshold.
        low_threshold: the low threshold (equal to ``threshold`` for a single threshold).
        f1, precision, recall: change-class scores over every tuning pair (None where undefined).
        unchanged_marked: share of the unchanged pairs' pixels marked changed for this feature (None
            without unchanged pairs).
    """

    threshold: float
    low_threshold: float
    f1: float | None
    precision: float | None
    recall: float | None
    unchanged_marked: float | None


@dataclass
class TuneResult:
    """The thresholds chosen per feature, with the best single ones and the model's own for comparison.

    Attributes:
        chosen: per feature, the choice (two thresholds with ``hysteresis``, else one).
        single: per feature, the best single threshold under the same budget.
        before: per feature, the model's thresholds (as loaded) scored on the same pairs.
        kept: features whose tuning pairs have no changed pixel: they keep the model's thresholds, or
            where those break the budget, take the single threshold within it nearest the model's.
    """

    features: list[str]
    views: str
    split: str
    pairs: int
    unchanged_pairs: int
    budget: float | None
    hysteresis: bool
    chosen: dict[str, ThresholdScore]
    single: dict[str, ThresholdScore]
    before: dict[str, ThresholdScore]
    kept: list[str] = field(default_factory=list)

    @property
    def thresholds(self) -> dict[str, float]:
        return {name: self.chosen[name].threshold for name in self.features}

    @property
    def low_thresholds(self) -> dict[str, float]:
        return {name: self.chosen[name].low_threshold for name in self.features}

    def to_dict(self) -> dict[str, Any]:
        payload = asdict(self)
        payload["thresholds"], payload["low_thresholds"] = self.thresholds, self.low_thresholds
        return payload


def _f1(true_positives: float, false_positives: float, positives: float) -> float | None:
    denominator = 2 * true_positives + false_positives + (positives - true_positives)
    return 2 * true_positives / denominator if denominator else None


def _score(
    high: float, low: float, tp: float, fp: float, positives: float, alarms: float | None
) -> ThresholdScore:
    return ThresholdScore(
        threshold=round(float(high), 4),
        low_threshold=round(float(low), 4),
        f1=_f1(tp, fp, positives),
        precision=tp / (tp + fp) if tp + fp else None,
        recall=tp / positives if positives else None,
        unchanged_marked=alarms,
    )


class _Counts:
    """Counts of one set of pairs, summed from each pair's row (:func:`_pair_rows`): per feature, the
    labelled pixels and, for every grid threshold, the pixels above it (true and false positives), plus
    the same at the model's own thresholds. Keeps the maps when asked (for the hysteresis search)."""

    def __init__(self, features: int, keep_maps: bool) -> None:
        size = len(THRESHOLD_GRID)
        self.above_positive = torch.zeros(features, size + 1, dtype=torch.float64)
        self.above_negative = torch.zeros(features, size + 1, dtype=torch.float64)
        self.positives = torch.zeros(features, dtype=torch.float64)
        self.pixels = 0
        self.own_tp = torch.zeros(features, dtype=torch.float64)
        self.own_fp = torch.zeros(features, dtype=torch.float64)
        self.keep_maps = keep_maps
        self.maps: list[np.ndarray] = []
        self.labels: list[np.ndarray] = []
        self.sets: list[str] = []

    def add(self, row: dict[str, Any], maps: tuple[np.ndarray, np.ndarray] | None) -> None:
        """Add one pair: its row and, when maps are kept, its (F, H, W) probabilities and labels."""
        self.above_positive += torch.tensor(row["above_positive"], dtype=torch.float64)
        self.above_negative += torch.tensor(row["above_negative"], dtype=torch.float64)
        self.positives += torch.tensor(row["positives"], dtype=torch.float64)
        self.pixels += row["pixels"]
        self.own_tp += torch.tensor(row["own_tp"], dtype=torch.float64)
        self.own_fp += torch.tensor(row["own_fp"], dtype=torch.float64)
        if self.keep_maps:
            if maps is None:
                raise ValueError("Expected the pair's maps when maps are kept.")
            self.maps.append(maps[0][None])
            self.labels.append(maps[1][None])
        self.sets.append(row["feature"])

    def update(
        self, probability: torch.Tensor, changed: torch.Tensor, own: torch.Tensor, sets: list[str]
    ) -> None:
        """Add a batch of (B, F, H, W) maps: change probabilities, labels and the model's own masks."""
        for row, maps in _pair_rows(probability, changed, own, sets, self.keep_maps):
            self.add(row, maps)

    def marked_above(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Per feature and grid threshold k, the changed and the unchanged pixels above it."""
        # Pixels with index > k are above threshold k.
        true_pos = self.above_positive.flip(-1).cumsum(-1).flip(-1)[:, 1:]
        false_pos = self.above_negative.flip(-1).cumsum(-1).flip(-1)[:, 1:]
        return true_pos, false_pos

    def stacked(self, f: int) -> tuple[np.ndarray, np.ndarray]:
        return (
            np.concatenate([m[:, f] for m in self.maps]),
            np.concatenate([m[:, f] for m in self.labels]),
        )


def _pair_rows(
    probability: torch.Tensor, changed: torch.Tensor, own: torch.Tensor, sets: list[str], keep_maps: bool
) -> list[tuple[dict[str, Any], tuple[np.ndarray, np.ndarray] | None]]:
    """Each pair's counts in a batch of (B, F, H, W) maps, as plain JSON values (a journal row), with
    its (F, H, W) probabilities and labels when ``keep_maps``."""
    probability = probability.float().cpu()
    changed, own = changed.cpu(), own.cpu()
    # Index k counts the grid thresholds below the probability: it is above thresholds 0..k-1.
    index = torch.searchsorted(_GRID_TENSOR, probability.contiguous())
    bins = len(THRESHOLD_GRID) + 1
    rows = []
    for i, feature in enumerate(sets):
        maps = (probability[i].numpy(), changed[i].numpy()) if keep_maps else None
        row = {
            "feature": feature,
            "above_positive": [
                torch.bincount(index[i, f][changed[i, f]], minlength=bins).tolist()
                for f in range(index.shape[1])
            ],
            "above_negative": [
                torch.bincount(index[i, f][~changed[i, f]], minlength=bins).tolist()
                for f in range(index.shape[1])
            ],
            "positives": changed[i].sum(dim=(1, 2)).tolist(),
            "pixels": int(probability[i, 0].numel()),
            "own_tp": (own[i] & changed[i]).sum(dim=(1, 2)).tolist(),
            "own_fp": (own[i] & ~changed[i]).sum(dim=(1, 2)).tolist(),
        }
        rows.append((row, maps))
    return rows


class _Journal:
    """Each pair's counts (and, for the hysteresis search, its maps) kept in a folder as they are made,
    so that an interrupted tuning, or a second one with another budget, does not run the model on those
    pairs again (``results.jsonl`` and ``maps/``, beside ``tune-settings.json``)."""

    def __init__(self, folder: Path, settings: dict[str, Any], restart: bool) -> None:
        self.folder = folder
        self.journal = prepare_journal(folder, "tune-settings.json", settings, restart, _other_tuning)
        if restart:
            shutil.rmtree(folder / "maps", ignore_errors=True)
        self.rows = read_journal(self.journal, "key")
        self.keep_maps = bool(settings["hysteresis"])

    def maps_file(self, key: str) -> Path:
        return self.folder / "maps" / (hashlib.sha256(key.encode()).hexdigest()[:24] + ".npz")

    def done(
        self, key: str, stamps: list[Any]
    ) -> tuple[dict[str, Any], tuple[np.ndarray, np.ndarray] | None] | None:
        """The row kept for ``key`` (and its maps, when kept) while its images are the files it was made
        from; None when the pair must run again (new files, or maps missing or cut short)."""
        row = self.rows.get(key)
        if row is None or row.get("files") != stamps:
            return None
        if not self.keep_maps:
            return row, None
        try:
            # An open handle of our own: np.load leaves its file open when the archive is cut short.
            with open(self.maps_file(key), "rb") as handle, np.load(handle) as stored:
                return row, (stored["probability"], stored["changed"])
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            return None

    def keep(self, log: Any, row: dict[str, Any], maps: tuple[np.ndarray, np.ndarray] | None) -> None:
        if maps is not None:
            target = self.maps_file(row["key"])
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".part.npz")
            np.savez(partial, probability=maps[0], changed=maps[1])
            partial.replace(target)  # the row below is written only once its maps are whole
        log.write(json.dumps(row) + "\n")
        log.flush()
        self.rows[row["key"]] = row


def _rounded(features: list[str], thresholds: torch.Tensor) -> dict[str, float]:
    return {name: round(float(value), 6) for name, value in zip(features, thresholds.tolist(), strict=True)}


def _other_tuning(previous: dict[str, Any]) -> str:
    return (
        "the model outputs of another model, or with other thresholds, views, working size or hysteresis "
        f"(kept for {previous.get('features')} with thresholds {previous.get('thresholds')})"
    )


@torch.no_grad()
def _count(
    model: nn.Module,
    data: ChangePairs,
    high: torch.Tensor,
    low: torch.Tensor,
    keep_maps: bool,
    batch_size: int,
    device: torch.device,
    on_batch: Callable[[int, int], None] | None,
    journal: _Journal | None = None,
    kind: str = "pairs",
) -> _Counts:
    """Run the model over ``data`` (the pairs not in ``journal``) and count; ``kind`` names the set of
    pairs in the journal's keys (one dataset may be both tuning and unchanged pairs)."""
    model.eval()
    keys = [f"{kind}:{Path(pair.root).resolve()}/{pair.pair_id}" for pair in data.pairs]
    stamps = [_pair_stamps(pair) for pair in data.pairs]
    rows: dict[int, dict[str, Any]] = {}
    maps: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    if journal is not None:
        for position, key in enumerate(keys):
            kept = journal.done(key, stamps[position])
            if kept is not None:
                rows[position] = kept[0]
                if kept[1] is not None:
                    maps[position] = kept[1]
    remaining = [position for position in range(len(data)) if position not in rows]
    if rows and on_batch is not None:
        on_batch(len(rows), len(data))
    with contextlib.ExitStack() as held:
        log = None if journal is None else held.enter_context(journal.journal.open("a", encoding="utf-8"))
        done = 0
        for batch in DataLoader(Subset(data, remaining), batch_size=batch_size, shuffle=False):
            reference, test = batch["reference"].to(device), batch["test"].to(device)
            probability = (
                model(reference, test).without_change(identical_pairs(reference, test)).change.sigmoid()
            )
            own = change_masks(probability, high.to(probability.device), low.to(probability.device))
            changed = batch["change"] > 0.5
            pairs = _pair_rows(probability, changed, own, list(batch["feature"]), keep_maps)
            for index, (counted, pair_maps) in enumerate(pairs):
                position = remaining[done + index]
                row = {"key": keys[position], "files": stamps[position], **counted}
                if log is not None and journal is not None:
                    journal.keep(log, row, pair_maps)
                rows[position] = row
                if pair_maps is not None:
                    maps[position] = pair_maps
            done += len(batch["feature"])
            if on_batch is not None:
                on_batch(len(data) - len(remaining) + done, len(data))
    counts = _Counts(len(data.features), keep_maps)
    for position in range(len(data)):
        counts.add(rows[position], maps.get(position))
    return counts


def _region_stats(
    maps: np.ndarray, labels: np.ndarray | None, low: np.float32, with_owners: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For the connected regions above ``low`` in (N, H, W) maps: each region's maximum probability
    (float32), its size, its labelled pixels and (``with_owners``) the index of its map."""
    regions, count = ndimage.label(maps > low, structure=_STACKED_NEIGHBOURS)
    if count == 0:
        empty = np.zeros(0)
        return empty.astype(np.float32), empty, empty, empty.astype(int)
    flat = regions.ravel()
    # ndimage.maximum over an index array is ~50x slower than this unbuffered maximum (probabilities >= 0).
    peaks = np.zeros(count + 1, np.float32)
    np.maximum.at(peaks, flat, maps.ravel())
    peaks = peaks[1:]
    sizes = np.bincount(flat, minlength=count + 1)[1:].astype(float)
    positives = (
        np.bincount(flat, weights=labels.ravel(), minlength=count + 1)[1:]
        if labels is not None
        else np.zeros(count)
    )
    # A region lies in one map: where its bounding box starts along the first axis.
    owners = (
        np.array([box[0].start for box in ndimage.find_objects(regions)])
        if with_owners
        else np.zeros(count, int)
    )
    return peaks, sizes, positives, owners


class _Groups:
    """Pixel counts of one feature per group of pairs: the feature's own single-feature set, the other
    single-feature sets and ``all`` (the own-set objective of the research scripts)."""

    SINGLE = ("illumination", "reflection", "texture", "transparency")

    def __init__(self, name: str, sets: list[str], labels: np.ndarray) -> None:
        self.require(name, sets)
        singles = [s for s in self.SINGLE if s in sets]
        self.names = [name, *[s for s in singles if s != name], "all"]
        index = {group: k for k, group in enumerate(self.names)}
        self.of_pair = np.array([index.get(s, -1) for s in sets])
        pixels = labels[0].size
        self.positives = np.array([labels[self.of_pair == k].sum() for k in range(len(self.names))], float)
        self.negatives = (
            np.array([(self.of_pair == k).sum() * pixels for k in range(len(self.names))]) - self.positives
        )

    @classmethod
    def require(cls, name: str, sets: Iterable[str]) -> None:
        """Raise a clear error unless ``sets`` hold pairs of the feature's own set, of ``all`` and of at
        least one other single-feature set (where its wrong-feature rate is measured)."""
        present = set(sets)
        missing = sorted({name, "all"} - present)
        if not present & (set(cls.SINGLE) - {name}):
            missing.append("another single feature")
        if missing:
            raise InvalidArgumentError(
                f"Expected the own-set objective for {name} to have pairs of its own set, of 'all' and of "
                f"another single-feature set, but found none of: {', '.join(missing)}. Fix: pass datasets "
                "generated with those --feature values as --data, or use the pooled objective."
            )

    def scores(self, tp: np.ndarray, fp: np.ndarray) -> dict[str, float]:
        """Own-set F1, mean false-positive rate on the other single sets, F1 on ``all``."""
        others = range(1, len(self.names) - 1)
        return {
            "own_f1": _f1(tp[0], fp[0], self.positives[0]) or 0.0,
            "wrong_rate": float(np.mean([fp[k] / max(self.negatives[k], 1) for k in others])),
            "all_f1": _f1(tp[-1], fp[-1], self.positives[-1]) or 0.0,
        }

    def at_single(self, maps: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, float]:
        marked = maps > np.float32(threshold)
        groups = range(len(self.names))
        tp = np.array([(marked & labels)[self.of_pair == k].sum() for k in groups], float)
        fp = np.array([(marked & ~labels)[self.of_pair == k].sum() for k in groups], float)
        return self.scores(tp, fp)


def _sums_above(peaks: np.ndarray, weights: np.ndarray, highs: np.ndarray) -> np.ndarray:
    """For each threshold in ``highs``, the column sums of ``weights`` (regions, K) over the regions
    whose peak is above it: (len(highs), K)."""
    order = np.argsort(peaks, kind="stable")
    from_top = np.cumsum(weights[order][::-1], axis=0)[::-1]
    suffix = np.vstack([from_top, np.zeros((1, weights.shape[1]))])
    # The regions from this index on (peaks sorted ascending) have peaks above the threshold.
    return suffix[np.searchsorted(peaks[order], highs, side="right")]


def _search_two_thresholds(
    maps: np.ndarray,
    labels: np.ndarray,
    unchanged: np.ndarray | None,
    budget: float | None,
    groups: _Groups | None = None,
    stored: float | None = None,
    all_slack: float = 0.02,
    on_low: Callable[[int, int], None] | None = None,
) -> dict[str, Any] | None:
    """The best (low, high) of one feature (low <= high, both on the grid), or None when no pair
    keeps within ``budget``. Ties go to the higher low threshold (less growth), then to the high
    threshold nearer 0.5.

    With ``groups``, the objective is the F1 on the feature's own single-feature set, among the pairs
    that mark the other single-feature sets no more often than the ``stored`` threshold does and lose
    at most ``all_slack`` of its F1 on the ``all`` pairs.
    """
    total_positives = float(labels.sum())
    unchanged_pixels = unchanged.size if unchanged is not None else 0
    reference = groups.at_single(maps, labels, stored) if groups is not None and stored is not None else None
    best: tuple[tuple[float, float, float], dict[str, Any]] | None = None
    for low in THRESHOLD_GRID:
        highs = THRESHOLD_GRID[low <= THRESHOLD_GRID]
        peaks, sizes, positives, owners = _region_stats(maps, labels, low, groups is not None)
        columns = [positives, sizes]
        if groups is not None:
            group = groups.of_pair[owners]
            for k in range(len(groups.names)):
                columns += [np.where(group == k, positives, 0.0), np.where(group == k, sizes, 0.0)]
        sums = _sums_above(peaks, np.stack(columns, axis=1), highs)
        alarms = None
        if unchanged is not None:
            unchanged_peaks, unchanged_sizes, _, _ = _region_stats(unchanged, None, low)
            alarms = _sums_above(unchanged_peaks, unchanged_sizes[:, None], highs)[:, 0] / unchanged_pixels
        for j, high in enumerate(highs):
            marked = None if alarms is None else float(alarms[j])
            if budget is not None and marked is not None and marked > budget:
                continue
            tp = float(sums[j, 0])
            entry: dict[str, Any] = {
                "score": _score(high, low, tp, float(sums[j, 1]) - tp, total_positives, marked)
            }
            objective = entry["score"].f1 or 0.0
            if groups is not None and reference is not None:
                group_tp, group_marked = sums[j, 2::2], sums[j, 3::2]
                entry |= groups.scores(group_tp, group_marked - group_tp)
                wrong = entry["wrong_rate"] > reference["wrong_rate"]
                if wrong or entry["all_f1"] < reference["all_f1"] - all_slack:
                    continue
                objective = entry["own_f1"]
            key = (round(objective, 12), float(low), -abs(float(high) - 0.5))
            if best is None or key > best[0]:
                best = (key, entry)
        if on_low is not None:
            on_low(int(np.searchsorted(THRESHOLD_GRID, low)) + 1, len(THRESHOLD_GRID))
    if best is None:
        return None
    chosen = best[1]
    if reference is not None:
        chosen["stored"] = {"threshold": stored, **reference}
    return chosen


def _no_choice(name: str, budget: float | None) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"Expected some threshold for {name} to mark at most {budget} of the unchanged pixels, got "
        "none (even 0.99 marks more). Fix: raise --budget, or check that the unchanged pairs are "
        "unchanged."
    )


#: One feature's two-threshold search: (feature, maps, labels, unchanged maps) -> the search's result.
Search = Callable[[str, np.ndarray, np.ndarray, "np.ndarray | None"], "dict[str, Any] | None"]


def _pooled_search(budget: float | None, on_search: Callable[[str, int, int], None] | None) -> Search:
    """The search of :func:`tune_change_thresholds`: pooled F1 within the budget, progress reported."""

    def search(name: str, maps: np.ndarray, labels: np.ndarray, quiet: np.ndarray | None) -> Any:
        on_low = None if on_search is None else lambda done, total: on_search(name, done, total)
        return _search_two_thresholds(maps, labels, quiet, budget, on_low=on_low)

    return search


def _best_single(
    true_pos: torch.Tensor,
    false_pos: torch.Tensor,
    alarms: torch.Tensor | None,
    positives: float,
    budget: float | None,
    prefer: float = 0.5,
) -> ThresholdScore | None:
    """One feature's grid threshold with the best F1 within the budget (ties: nearest ``prefer``; 0.5,
    as training tunes), from the counts above each grid threshold."""
    best: tuple[tuple[float, float], ThresholdScore] | None = None
    for k, value in enumerate(THRESHOLD_GRID):
        marked = None if alarms is None else float(alarms[k])
        if budget is not None and marked is not None and marked > budget:
            continue
        score = _score(value, value, float(true_pos[k]), float(false_pos[k]), positives, marked)
        key = (score.f1 or 0.0, -abs(float(value) - prefer))
        if best is None or key > best[0]:
            best = (key, score)
    return None if best is None else best[1]


class _Choice(NamedTuple):
    """Per feature: the choice, the best single threshold, the model's own thresholds' scores; the
    features kept for want of changed pixels; what each two-threshold search returned."""

    chosen: dict[str, ThresholdScore]
    single: dict[str, ThresholdScore]
    before: dict[str, ThresholdScore]
    kept: list[str]
    searched: dict[str, dict[str, Any]]


def _choose(
    counts: _Counts,
    quiet: _Counts | None,
    features: list[str],
    high: torch.Tensor,
    low: torch.Tensor,
    budget: float | None,
    hysteresis: bool,
    search: Search,
) -> _Choice:
    true_pos, false_pos = counts.marked_above()
    alarms = None
    if quiet is not None:
        quiet_tp, quiet_fp = quiet.marked_above()
        alarms = (quiet_tp + quiet_fp) / max(quiet.pixels, 1)
    chosen: dict[str, ThresholdScore] = {}
    single: dict[str, ThresholdScore] = {}
    before: dict[str, ThresholdScore] = {}
    kept: list[str] = []
    searched: dict[str, dict[str, Any]] = {}
    for f, name in enumerate(features):
        positives = float(counts.positives[f])
        own_alarms = None
        if quiet is not None:
            own_alarms = float(quiet.own_tp[f] + quiet.own_fp[f]) / max(quiet.pixels, 1)
        own_tp, own_fp = float(counts.own_tp[f]), float(counts.own_fp[f])
        before[name] = _score(float(high[f]), float(low[f]), own_tp, own_fp, positives, own_alarms)
        feature_alarms = None if alarms is None else alarms[f]
        if positives == 0:
            # Nothing to find, so no F1 can choose: the model's thresholds stay, or where they break
            # the budget, the threshold within it nearest the model's.
            kept.append(name)
            if budget is None or own_alarms is None or own_alarms <= budget:
                chosen[name] = single[name] = before[name]
                continue
            best = _best_single(true_pos[f], false_pos[f], feature_alarms, positives, budget, float(high[f]))
            if best is None:
                raise _no_choice(name, budget)
            chosen[name] = single[name] = best
            continue
        best = _best_single(true_pos[f], false_pos[f], feature_alarms, positives, budget)
        if best is None:
            raise _no_choice(name, budget)
        chosen[name] = single[name] = best
        if hysteresis:
            maps, labels = counts.stacked(f)
            quiet_maps = quiet.stacked(f)[0] if quiet is not None else None
            found = search(name, maps, labels, quiet_maps)
            if found is None:
                raise _no_choice(name, budget)
            chosen[name], searched[name] = found["score"], found
    return _Choice(chosen, single, before, kept, searched)


def tune_change_thresholds(
    model: nn.Module,
    data: ChangePairs,
    unchanged: ChangePairs | None = None,
    *,
    thresholds: dict[str, float],
    low_thresholds: dict[str, float] | None = None,
    budget: float | None = None,
    hysteresis: bool = False,
    views: str = "none",
    batch_size: int = 8,
    device: torch.device | None = None,
    on_batch: Callable[[str, int, int], None] | None = None,
    on_search: Callable[[str, int, int], None] | None = None,
    work_size: int | None = None,
    journal_folder: str | os.PathLike[str] | None = None,
    restart: bool = False,
) -> TuneResult:
    """Per feature, the change threshold(s) with the best change F1 on ``data`` under a false-alarm budget.

    Use the validation split (never the test split): the choice is fitted to these pairs.

    Args:
        model: a change detector (``model(reference, test) -> ChangeOutput``), with its views.
        data: tuning pairs (the val split of one or more generated datasets).
        unchanged: pairs where nothing changed (``none`` datasets' val split): each choice marks at most
            ``budget`` of their pixels; without them, no budget applies.
        thresholds, low_thresholds: the model's current thresholds, scored on the same pairs for
            comparison (``load_checkpoint``'s metadata).
        budget: largest share of the unchanged pixels a feature may mark (for example 0.00025).
        hysteresis: choose two thresholds per feature (:func:`~synthdiff.change.hysteresis_mask`)
            instead of one.
        views: the view set the model runs with (recorded).
        on_batch: called with ("pairs" or "unchanged", pairs done, total) as the model runs.
        on_search: called with (feature, low thresholds searched, total) during a two-threshold search.
        work_size: run pairs whose shorter side is larger scaled down to it, as
            :func:`~synthdiff.change.evaluate` and :func:`~synthdiff.change.predict_maps` do (a
            checkpoint's ``train_size``); default None, every pair at its own size.
        journal_folder: makes the tuning resumable: each pair's counts (with ``hysteresis``, its maps
            too: about 1.3 MB per 256x256 pair of four features) are kept there as the model makes them
            (``results.jsonl``, ``maps/``, ``tune-settings.json``: the model's weights digest, views,
            thresholds, working size and ``hysteresis``), and a later call with the same model and
            settings takes the pairs found there instead of running the model on them again, whatever
            its budget or datasets.
        restart: with ``journal_folder``, drop what is kept there and start over.

    Returns:
        A :class:`TuneResult`; its ``thresholds`` and ``low_thresholds`` go to :func:`store_thresholds`.

    Raises:
        InvalidArgumentError: pairs of the test split, changed pairs among the unchanged ones, a
            budget without unchanged pairs or outside [0, 1], or no threshold of some feature within
            the budget; ``journal_folder`` holds the outputs of another model or other settings
            (without ``restart``).
        OutputError: another tuning is writing ``journal_folder``.

    Example:
        >>> model, meta = load_checkpoint("fresunet-wide")  # doctest: +SKIP
        >>> val = ChangePairs(["data/change/texture-v2"], "val", meta["features"])  # doctest: +SKIP
        >>> tune_change_thresholds(model, val, thresholds=meta["thresholds"]).thresholds  # doctest: +SKIP
    """
    for pairs in (data, unchanged):
        if pairs is not None and pairs.split == "test":
            raise InvalidArgumentError(
                "Expected tuning pairs from the val split, got the test split: thresholds chosen on it "
                "would make its scores meaningless. Fix: tune on val, then score on test."
            )
    data.require_pairs()
    if unchanged is not None:
        unchanged.require_pairs("unchanged pairs")
    changed_kinds = sorted({pair.feature for pair in unchanged.pairs} - {"none"}) if unchanged else []
    if changed_kinds:
        raise InvalidArgumentError(
            f"Expected only unchanged pairs (feature none) as the unchanged pairs, got pairs of "
            f"{', '.join(changed_kinds)}. Fix: pass datasets made with 'generate --feature none' there."
        )
    if budget is not None and unchanged is None:
        raise InvalidArgumentError(
            "Expected unchanged pairs with a false-alarm budget, got none. Fix: pass --none-data DIR."
        )
    if budget is not None and not 0.0 <= budget <= 1.0:
        raise InvalidArgumentError(f"Expected a budget between 0 and 1 (a share of pixels), got {budget}.")
    features = list(data.features)
    missing = [name for name in features if name not in thresholds]
    if missing:
        raise InvalidArgumentError(f"Expected the model's thresholds for {features}, got none for {missing}.")
    device = device or torch.device("cpu")
    high = threshold_tensor(features, thresholds)
    low = threshold_tensor(features, low_thresholds or thresholds)

    def progress(kind: str) -> Callable[[int, int], None] | None:
        return None if on_batch is None else lambda done, total: on_batch(kind, done, total)

    with contextlib.ExitStack() as held:
        journal = None
        if journal_folder is not None:
            settings = {
                "model_sha256": model_digest(model),
                "views": views,
                "split": data.split,
                "features": features,
                # As compared (float32), rounded for reading.
                "thresholds": _rounded(features, high),
                "low_thresholds": _rounded(features, low),
                "hysteresis": hysteresis,
                "work_size": work_size,
            }
            held.enter_context(folder_lock(journal_folder, "tune change"))
            journal = _Journal(Path(journal_folder), settings, restart)
        if work_size is not None:
            model = AtWorkingSize(model, work_size)
        counts = _count(model, data, high, low, hysteresis, batch_size, device, progress("pairs"), journal)
        quiet = (
            _count(
                model,
                unchanged,
                high,
                low,
                hysteresis,
                batch_size,
                device,
                progress("unchanged"),
                journal,
                kind="unchanged",
            )
            if unchanged is not None
            else None
        )
    search = _pooled_search(budget, on_search)
    choice = _choose(counts, quiet, features, high, low, budget, hysteresis, search)
    return TuneResult(
        features=features,
        views=views,
        split=data.split,
        pairs=len(data),
        unchanged_pairs=len(unchanged) if unchanged is not None else 0,
        budget=budget,
        hysteresis=hysteresis,
        chosen=choice.chosen,
        single=choice.single,
        before=choice.before,
        kept=choice.kept,
    )


def _check_tuned_path(source: str | os.PathLike[str], out: str | os.PathLike[str]) -> Path:
    """The checkpoint file ``source`` names, after checking that ``out`` is another file.

    Raises:
        InvalidArgumentError: ``out`` is the source file itself, or a folder.
        OutputError: a file stands where ``out``'s folder should be.
        CheckpointError: ``source`` is neither a file nor a shipped model name.
    """
    source_path, out_path = resolve_checkpoint(source), Path(out)
    if out_path.is_dir():
        raise InvalidArgumentError(
            f"Expected a file name for the tuned model, but {str(out_path)!r} is a folder. Fix: name a file "
            f"in it, for example {str(out_path / 'tuned.pt')!r}."
        )
    output_folder(out_path.parent, create=False)
    if out_path.exists() and out_path.resolve() == source_path.resolve():
        raise InvalidArgumentError(
            f"Expected an output file other than the model being tuned, got {str(out_path)!r}. "
            "Fix: write the tuned copy to a new file."
        )
    return source_path


def store_thresholds(source: str | os.PathLike[str], out: str | os.PathLike[str], result: TuneResult) -> Path:
    """Write a copy of a change-model checkpoint that runs with ``result``'s thresholds by default.

    Args:
        source: the checkpoint tuned (a file or a shipped model name); it is not modified.
        out: the new checkpoint file (its folder is created).
        result: from :func:`tune_change_thresholds`; its view set becomes the copy's default.

    Returns:
        ``out``.

    Raises:
        InvalidArgumentError: ``out`` is the source file itself.
        CheckpointError: ``source`` is not a change-model checkpoint.
    """
    lows = result.low_thresholds if result.hysteresis else None
    return _store_copy(source, out, result.views, result.thresholds, lows)


def _store_copy(
    source: str | os.PathLike[str],
    out: str | os.PathLike[str],
    views: str,
    thresholds: dict[str, float],
    low_thresholds: dict[str, float] | None = None,
) -> Path:
    """:func:`store_thresholds` from the thresholds themselves (also for the research scripts that
    choose them another way). The copy is written beside ``out`` and renamed, so an interrupted write
    leaves no half-written checkpoint."""
    source_path, out_path = _check_tuned_path(source, out), Path(out)
    output_folder(out_path.parent)
    partial = out_path.with_name(out_path.name + ".tuning")
    shutil.copyfile(source_path, partial)
    lows = {views: low_thresholds} if low_thresholds is not None else None
    set_views(partial, views, {views: thresholds}, lows)
    partial.replace(out_path)
    return out_path
