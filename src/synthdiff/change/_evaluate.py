"""Evaluation of a change detector on generated datasets (``synthdiff eval change``)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Subset

from synthdiff._device import resolve_device
from synthdiff._journal import file_stamp, folder_lock, prepare_journal, read_journal
from synthdiff.change._data import ChangePairs, PairRecord
from synthdiff.change._hysteresis import threshold_tensor
from synthdiff.change._infer import AtWorkingSize, check_thresholds
from synthdiff.change._metrics import MAPS, PixelCounts
from synthdiff.change._models import ChangeOutput, identical_pairs

__all__ = ["POOLED", "EvalResult", "evaluate", "resolve_device", "tune_thresholds"]

#: The group of every evaluated pair together (a dataset feature is never called this; "all" is one).
POOLED = "pooled"


@dataclass
class EvalResult:
    """Scores of one evaluation.

    Attributes:
        scores: by group of pairs (each dataset feature: "texture", "mixed", "all", ..., and
            :data:`POOLED` for every pair together), then map, then label feature:
            precision, recall, F1, IoU, false-positive rate (None where undefined).
        none_false_positive_rate: share of pixels marked changed (any feature) on ``none`` pairs.
        swap_iou: IoU of the binary change maps with the inputs in both orders (None if not checked).
        pairs: pairs evaluated per dataset feature.
        by_place: for the pairs of each single-feature set, split by where their changes were
            (``FEATURE/PLACE``, for example ``texture/object``: :attr:`PairRecord.place`), the pair count
            and that feature's change-class scores. A small object's change covers few pixels, so the
            pooled scores can hide a kind of change the model misses.
        none_pairs: for each ``none`` pair, by ``FOLDER/PAIR_ID``, its ``pixels`` and the share of
            them marked changed by any feature (``marked``) and by each feature (``by_feature``):
            false alarms tend to gather in a few pairs (a glossy, finely textured floor rendered with
            few samples), which the rate alone does not show.
    """

    scores: dict[str, dict[str, dict[str, dict[str, float | None]]]]
    none_false_positive_rate: float | None
    swap_iou: float | None
    pairs: dict[str, int] = field(default_factory=dict)
    by_place: dict[str, dict[str, Any]] = field(default_factory=dict)
    none_pairs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def none_marked_pixels(self, pair_ids: Iterable[str] | None = None) -> float:
        """Pixels marked changed (any feature) over the ``none`` pairs named (default: all)."""
        ids = self.none_pairs if pair_ids is None else pair_ids
        return _marked_pixels(self.none_pairs[pid] for pid in ids)

    def worst_none_pairs(self, count: int | None = None) -> list[tuple[str, dict[str, Any]]]:
        """The ``none`` pairs with marked pixels, most marked first (at most ``count``)."""
        marked = [(pid, entry) for pid, entry in self.none_pairs.items() if entry["marked"] > 0]
        marked.sort(key=lambda item: (-item[1]["marked"], item[0]))
        return marked[:count]

    def mean_change_f1(self, group: str = POOLED) -> float:
        """Mean change-class F1 over the label features where it is defined (the selection score)."""
        values = [
            v["f1"] for v in self.scores.get(group, {}).get("change", {}).values() if v["f1"] is not None
        ]
        return sum(values) / len(values) if values else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "scores": self.scores,
            "none_false_positive_rate": self.none_false_positive_rate,
            "swap_iou": self.swap_iou,
            "pairs": self.pairs,
            "by_place": self.by_place,
            # Most marked first; the order makes the pairs that carry the false alarms easy to find.
            "none_pairs": dict(self.worst_none_pairs())
            | {pid: entry for pid, entry in self.none_pairs.items() if entry["marked"] == 0},
        }


def _marked_pixels(entries: Iterable[dict[str, Any]]) -> float:
    return float(sum(entry["marked"] * entry["pixels"] for entry in entries))


def tune_thresholds(
    model: nn.Module,
    data: ChangePairs,
    *,
    batch_size: int = 8,
    device: torch.device | None = None,
) -> dict[str, float]:
    """Per feature, the change threshold that maximises the change F1 on ``data`` (no budget).

    Use the validation split (never the test split). The thresholds tried are 0.01 ... 0.99, and among
    equal F1 the one nearest 0.5 wins. A feature without changed pixels in ``data`` keeps 0.5. The
    general form, under a false-alarm budget and with two thresholds, is
    :func:`~synthdiff.change.tune_change_thresholds`.
    """
    from synthdiff.change._tune import tune_change_thresholds

    return tune_change_thresholds(
        model,
        data,
        thresholds=dict.fromkeys(data.features, 0.5),
        batch_size=batch_size,
        device=device,
    ).thresholds


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: ChangePairs,
    *,
    threshold: float = 0.5,
    change_thresholds: dict[str, float] | None = None,
    change_low_thresholds: dict[str, float] | None = None,
    change_min_area: int = 0,
    batch_size: int = 8,
    device: torch.device | None = None,
    check_swap: bool = False,
    on_batch: Callable[[int, int], None] | None = None,
    journal_folder: str | os.PathLike[str] | None = None,
    restart: bool = False,
    work_size: int | None = None,
) -> EvalResult:
    """Run ``model`` over ``data`` and score its binary maps against the labels.

    Scores are streamed: each pair's confusion counts (and swap overlap) are kept, then summed by group
    of pairs, so the result does not depend on the batch size or on where a run was interrupted.

    Args:
        threshold: for the segmentation maps, and the change maps unless ``change_thresholds``.
        change_thresholds: per-feature change thresholds (a checkpoint's, tuned on val).
        change_low_thresholds: per-feature low change thresholds (a checkpoint's ``low_thresholds``):
            pixels above them count where connected to pixels above ``change_thresholds``
            (:func:`~synthdiff.change.hysteresis_mask`); default none (single thresholds).
        change_min_area: connected changed regions of fewer pixels are not marked (a checkpoint's
            ``min_area``; :func:`~synthdiff.change.remove_specks`); default 0, none dropped.
        on_batch: called with (pairs done, pairs in ``data``) after each batch, and once at the start
            when pairs were taken from the journal.
        journal_folder: makes the evaluation resumable: each pair's counts are appended to
            ``results.jsonl`` there as they are made (with ``eval-settings.json``: the model's weights
            digest, the datasets, split and thresholds), and a later call with the same model and
            settings takes the pairs found there instead of running the model on them again.
        restart: with ``journal_folder``, drop the pairs kept there and start over.
        work_size: run pairs whose shorter side is larger scaled down to it, the maps brought back to
            their size, as :func:`~synthdiff.change.predict_maps` does (a checkpoint's ``train_size``);
            default None, every pair at its own size.

    Raises:
        InvalidArgumentError: ``data`` holds no pair; a threshold outside [0, 1]; ``journal_folder``
            holds an evaluation with another model or settings (without ``restart``).
    """
    check_thresholds(threshold, change_thresholds, change_low_thresholds)
    data.require_pairs()
    device = device or torch.device("cpu")
    highs = {f: (change_thresholds or {}).get(f, threshold) for f in data.features}
    change_threshold = threshold_tensor(data.features, highs, device)
    # A feature without a low threshold keeps its single one.
    change_low = (
        None
        if change_low_thresholds is None
        else threshold_tensor(data.features, highs | change_low_thresholds, device)
    )
    keys = [f"{Path(pair.root).resolve()}/{pair.pair_id}" for pair in data.pairs]
    rows: dict[str, dict[str, Any]] = {}
    with contextlib.ExitStack() as held:
        journal: Path | None = None
        if journal_folder is not None:
            settings = {
                "model_sha256": model_digest(model),
                "datasets": [str(Path(folder).resolve()) for folder in data.folders],
                "split": data.split,
                "features": data.features,
                "threshold": threshold,
                "change_thresholds": highs,
                "change_low_thresholds": change_low_thresholds,
                "change_min_area": change_min_area,
                "check_swap": check_swap,
            }
            if work_size is not None:  # absent, not null, so that earlier journals still match
                settings["work_size"] = work_size
            held.enter_context(folder_lock(journal_folder, "eval change"))
            journal = prepare_journal(
                Path(journal_folder), "eval-settings.json", settings, restart, partial(_other_run, settings)
            )
            # A pair is taken from the journal while its images are the files it was scored on (a dataset
            # rendered again into the same folder is scored again).
            stamps = dict(zip(keys, (_pair_stamps(pair) for pair in data.pairs), strict=True))
            rows = {
                key: row
                for key, row in read_journal(journal, "key").items()
                if key in stamps and row.get("files") == stamps[key]
            }
        remaining = [index for index, key in enumerate(keys) if key not in rows]
        if rows and on_batch is not None:
            on_batch(len(rows), len(data))
        if work_size is not None:
            model = AtWorkingSize(model, work_size)
        model.eval()
        loader = DataLoader(Subset(data, remaining), batch_size=batch_size, shuffle=False)
        done = 0
        log = None if journal is None else held.enter_context(journal.open("a", encoding="utf-8"))
        for batch in loader:
            tensors = {k: v.to(device) for k, v in batch.items() if isinstance(v, torch.Tensor)}
            identical = identical_pairs(tensors["reference"], tensors["test"])
            masks = (
                model(tensors["reference"], tensors["test"])
                .without_change(identical)
                .masks(threshold, change_threshold, change_low, change_min_area)
            )
            swapped = None
            if check_swap:
                swapped = (
                    model(tensors["test"], tensors["reference"])
                    .without_change(identical)
                    .masks(threshold, change_threshold, change_low, change_min_area)
                )
            for index in range(len(batch["feature"])):
                position = remaining[done + index]
                row = _pair_row(data, position, keys[position], masks, swapped, tensors, index)
                rows[row["key"]] = row
                if log is not None:
                    log.write(json.dumps(row) + "\n")
            if log is not None:
                log.flush()
            done += len(batch["feature"])
            if on_batch is not None:
                on_batch(len(data) - len(remaining) + done, len(data))
    return summarise_pairs([rows[key] for key in keys], data.features, check_swap)


def _other_run(settings: dict[str, Any], previous: dict[str, Any]) -> str:
    differing = sorted(
        key for key in settings | previous if json.loads(json.dumps(settings.get(key))) != previous.get(key)
    )
    return (
        "the evaluation of another model or with other settings (these differ: " + ", ".join(differing) + ")"
    )


def _pair_row(
    data: ChangePairs,
    position: int,
    key: str,
    masks: ChangeOutput,
    swapped: ChangeOutput | None,
    tensors: dict[str, torch.Tensor],
    index: int,
) -> dict[str, Any]:
    """One pair's counts, as a journal row (plain JSON values)."""
    record = data.pairs[position]
    one = {k: v[index : index + 1] for k, v in tensors.items()}
    single = type(masks)(*(getattr(masks, name)[index : index + 1] for name in MAPS))
    counts = PixelCounts(data.features)
    counts.update(single, one)
    change = single.change[0]
    row: dict[str, Any] = {
        "key": key,
        "files": _pair_stamps(record),
        # The folder's name too: two none folders often share pair ids (s00000_v000).
        "label": f"{Path(record.root).name}/{record.pair_id}",
        "feature": record.feature,
        "place": record.place,
        "counts": counts.to_lists(),
        "marked": int(change.any(dim=0).sum()),
        "pixels": int(change[0].numel()),
        "swap": None,
    }
    if swapped is not None:
        other = swapped.change[index]
        row["swap"] = [int((other & change).sum()), int((other | change).sum())]
    return row


def _pair_stamps(pair: PairRecord) -> list[list[int] | None]:
    return [file_stamp(pair.root / pair.record[role]) for role in ("reference", "test")]


def summarise_pairs(rows: list[dict[str, Any]], features: list[str], check_swap: bool) -> EvalResult:
    """The scores of an evaluation from its pairs' rows (as :func:`evaluate` keeps them)."""
    groups: dict[str, PixelCounts] = {POOLED: PixelCounts(features)}
    places: dict[str, PixelCounts] = {}
    pairs: dict[str, int] = {}
    place_pairs: dict[str, int] = {}
    none_pairs: dict[str, dict[str, Any]] = {}
    swap_intersection = swap_union = 0
    for row in rows:
        feature = row["feature"]
        counts = PixelCounts.from_lists(features, row["counts"])
        pairs[feature] = pairs.get(feature, 0) + 1
        groups[POOLED].add(counts)
        groups.setdefault(feature, PixelCounts(features)).add(counts)
        if feature in features:
            key = f"{feature}/{row['place']}"
            place_pairs[key] = place_pairs.get(key, 0) + 1
            places.setdefault(key, PixelCounts(features)).add(counts)
        if feature == "none":
            tp, fp = counts.counts["change"][0], counts.counts["change"][1]
            none_pairs[row["label"]] = {
                "marked": row["marked"] / row["pixels"],
                "pixels": row["pixels"],
                "by_feature": dict(zip(features, ((tp + fp) / row["pixels"]).tolist(), strict=True)),
            }
        if row["swap"] is not None:
            swap_intersection += row["swap"][0]
            swap_union += row["swap"][1]
    none_total = sum(entry["pixels"] for entry in none_pairs.values())
    return EvalResult(
        scores={name: counts.compute() for name, counts in groups.items()},
        none_false_positive_rate=_marked_pixels(none_pairs.values()) / none_total if none_total else None,
        swap_iou=(swap_intersection / swap_union if swap_union else 1.0) if check_swap else None,
        pairs=pairs,
        by_place={
            key: {"pairs": place_pairs[key], "change": counts.compute()["change"][key.split("/")[0]]}
            for key, counts in sorted(places.items())
        },
        none_pairs=none_pairs,
    )


def model_digest(model: nn.Module) -> str:
    """SHA-256 of a model's kind and weights: the same network with the same weights, whatever file or
    device it came from (a resumed evaluation must be of the same model)."""
    digest = hashlib.sha256(type(model).__name__.encode())
    digest.update(str(getattr(model, "views", "")).encode())
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()
