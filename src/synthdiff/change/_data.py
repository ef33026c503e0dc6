"""Reading datasets made by ``synthdiff generate`` for training and evaluating change detectors."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from synthdiff.errors import InvalidArgumentError, OutputError
from synthdiff.io._tables import read_utf8_text

__all__ = ["ChangePairs", "PairRecord", "read_manifest"]

#: The splits of a generated dataset (by scene).
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class PairRecord:
    """One pair of a generated dataset: its folder and manifest line."""

    root: Path
    record: dict[str, Any]

    @property
    def pair_id(self) -> str:
        return str(self.record["pair_id"])

    @property
    def feature(self) -> str:
        return str(self.record["feature"])

    @property
    def place(self) -> str:
        """Where the pair's changes are, from the targets in its manifest line: the kinds of thing changed
        (``ground``, ``object``, ``light``, ``world``; numbers dropped), sorted and joined by ``+``, for
        example ``ground+object``; ``none`` for an unchanged pair."""
        targets = (str(change.get("target", "")) for change in self.record.get("changes", []))
        kinds = {target.split(":")[-1].rstrip("0123456789") for target in targets if target}
        return "+".join(sorted(kinds)) or "none"


def read_manifest(
    folder: str | os.PathLike[str], split: str | None = None, *, in_progress: bool = False
) -> list[PairRecord]:
    """The pairs of a dataset folder (optionally one split), in manifest order.

    Args:
        folder: a dataset made by ``synthdiff generate``.
        split: "train", "val" or "test" (None: all pairs).
        in_progress: when the dataset is still being generated (no manifest yet, or one that lists
            fewer pairs than dataset.json plans because a run is growing it), read ``split`` from the
            run's journal, provided that every pair of that split has been rendered (generate
            renders the val scenes first, then test, then train).

    Raises:
        OutputError: the folder is not a finished dataset (no manifest.jsonl; with ``in_progress``, the
            split is not complete yet) or a line is broken.
    """
    root = Path(folder)
    if not root.is_dir():
        raise OutputError(
            f"Expected a dataset folder made by 'synthdiff generate', but {str(root)!r} "
            f"{'is a file' if root.exists() else 'does not exist'}. Fix: check the path."
        )
    manifest = root / "manifest.jsonl"
    lines = None
    if manifest.is_file():
        lines = read_utf8_text(manifest, "dataset manifest", OutputError).splitlines()
    expected = _planned_pairs(root)
    complete = lines is not None and (expected is None or len(lines) >= expected)
    if in_progress and split is not None and not complete:
        return _read_finished_split(root, split)
    if lines is None:
        raise OutputError(
            f"Expected a dataset made by 'synthdiff generate' in {str(root)!r}, "
            "but it has no manifest.jsonl. Fix: run generate (again) until it finishes."
        )
    if not complete:
        # generate rewrites the manifest only when a run finishes; fewer lines than dataset.json
        # plans means a run growing the dataset (more --variants) is unfinished or still going.
        raise OutputError(
            f"Expected the {expected} pairs that {str(root / 'dataset.json')!r} plans, but "
            f"{str(manifest)!r} lists {len(lines)}: the dataset is being grown or its run stopped. "
            "Fix: let generate finish (run it again to resume), or pass --in-progress to read a "
            "split that is already complete."
        )
    pairs = []
    for number, line in enumerate(lines, start=1):
        try:
            record = json.loads(line)
            missing = {"pair_id", "split", "labels", "reference", "test"} - set(record)
        except (json.JSONDecodeError, KeyError, TypeError):
            raise OutputError(f"Expected a JSON pair record on line {number} of {str(manifest)!r}.") from None
        if missing:
            raise OutputError(f"Expected {', '.join(sorted(missing))} on line {number} of {str(manifest)!r}.")
        if split is None or record["split"] == split:
            pairs.append(PairRecord(root, record))
    return pairs


def _dataset_options(root: Path) -> dict[str, Any]:
    """The generate options recorded in a dataset's dataset.json (empty when it has none)."""
    try:
        options = json.loads((root / "dataset.json").read_text(encoding="utf-8"))["options"]
    except (OSError, ValueError, KeyError, TypeError):  # ValueError: not JSON, or not UTF-8
        return {}
    return options if isinstance(options, dict) else {}


def _planned_pairs(root: Path) -> int | None:
    """scenes x variants from a generated dataset's dataset.json; None when there is no such plan
    (a folder without dataset.json, or a pooled set, whose options carry no scene count)."""
    options = _dataset_options(root)
    scenes, variants = options.get("scenes"), options.get("variants")
    if isinstance(scenes, int) and isinstance(variants, int):
        return scenes * variants
    return None


def _recorded_size(folder: str | os.PathLike[str]) -> tuple[int, int] | None:
    """(width, height) of a dataset's images as its dataset.json records them; None when it does not."""
    options = _dataset_options(Path(folder))
    width, height = options.get("width"), options.get("height")
    return (width, height) if isinstance(width, int) and isinstance(height, int) else None


def smallest_recorded_side(folders: Sequence[str | os.PathLike[str]]) -> int | None:
    """The shorter image side of the smallest dataset among ``folders``, as their dataset.json records
    it (None when none records a size)."""
    sizes = [size for size in map(_recorded_size, folders) if size is not None]
    return min((min(size) for size in sizes), default=None)


def _check_crop(folders: Sequence[str | os.PathLike[str]], crop: int) -> None:
    """Refuse a crop larger than a dataset's images before any is loaded (in a loader worker the
    error would come wrapped in its traceback)."""
    for folder in folders:
        size = _recorded_size(folder)
        if size is not None and crop > min(size):
            raise InvalidArgumentError(
                f"Expected --crop at most {min(size)} (the images of {str(folder)!r} are "
                f"{size[0]}x{size[1]}), got {crop}. Fix: pass --crop {min(size)} or smaller."
            )


def _read_finished_split(root: Path, split: str) -> list[PairRecord]:
    """One complete split of a dataset still being generated, from its journal (progress.jsonl)."""
    from synthdiff.synth._generate import _read_journal, assign_splits

    try:
        options = json.loads((root / "dataset.json").read_text(encoding="utf-8"))["options"]
        train, val, test = (float(f) for f in options["split"])
        splits = assign_splits(int(options["scenes"]), int(options["seed"]), (train, val, test))
        scenes_in_split = splits.count(split)
        expected = scenes_in_split * int(options["variants"])
    except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError):
        raise OutputError(
            f"Expected a dataset made by 'synthdiff generate' in {str(root)!r} (a readable dataset.json), "
            "but there is none. Fix: check the folder."
        ) from None
    journal = _read_journal(root / "progress.jsonl")  # skips a line an interruption cut short
    records = {key: record for key, record in journal.items() if record.get("split") == split}
    if len(records) < expected:
        raise OutputError(
            f"Expected every {split} pair of the dataset in {str(root)!r} to be rendered, but only "
            f"{len(records)} of {expected} are. Fix: let generate run on until the {split} split is complete."
        )
    return [PairRecord(root, records[key]) for key in sorted(records)]


def _image(path: Path) -> np.ndarray:
    """HxWx3 uint8 (kept as 8 bits so that a cache of a whole dataset stays small)."""
    return _decoded(path, "dataset file", lambda image: np.asarray(image.convert("RGB"), dtype=np.uint8))


def _mask(path: Path) -> np.ndarray:
    return _decoded(path, "label file", lambda image: np.asarray(image) > 0)


def _decoded(path: Path, kind: str, convert: Callable[[Image.Image], np.ndarray]) -> np.ndarray:
    if not path.is_file():
        raise OutputError(f"Expected the {kind} {str(path)!r}, but it is missing.")
    try:
        with Image.open(path) as image:
            return convert(image)
    except (OSError, SyntaxError, ValueError) as error:  # Pillow's kinds of undecodable file
        raise OutputError(
            f"Expected the {kind} {str(path)!r} to be a readable PNG, but it cannot be decoded ({error}). "
            "Fix: generate the dataset again into a new folder (the same command and seed give the same "
            "pairs), or leave this folder out."
        ) from None


def _refuse_repeated_folders(folders: Sequence[str | os.PathLike[str]]) -> None:
    """One folder named twice (``ds`` and ``./ds``) would count each of its pairs twice."""
    seen: dict[Path, str] = {}
    for folder in folders:
        key = Path(folder).resolve()
        if key in seen:
            named = (
                f"{str(folder)!r} twice" if seen[key] == str(folder) else f"{seen[key]!r} and {str(folder)!r}"
            )
            raise InvalidArgumentError(
                f"Expected each dataset folder once, got {named}, one folder: its pairs would count "
                "twice. Fix: name it once (in training, a data_weights entry gives a dataset a larger share)."
            )
        seen[key] = str(folder)


def _reference_side(pair: PairRecord) -> int | None:
    """The shorter side of a pair's reference image, from its header; None when it cannot be read (an
    unreadable image is reported where the pair is read)."""
    try:
        with Image.open(pair.root / pair.record["reference"]) as image:
            return min(image.size)
    except (OSError, ValueError):
        return None


class ChangePairs(Dataset[dict[str, Any]]):
    """Pairs of one or more generated datasets as tensors, with geometry-consistent augmentation.

    Each item: ``reference`` and ``test`` (3, H, W) float in [0, 1]; ``seg_ref``, ``seg_test`` and
    ``change`` (F, H, W) float 0/1 for the requested features; ``pair_id``, ``feature`` and
    ``place`` (:attr:`PairRecord.place`).

    Args:
        folders: dataset folders.
        split: "train", "val" or "test".
        features: label features to return, in this order.
        augment: random flips and 90-degree turns, applied identically to both images and all labels.
        swap: probability of swapping reference and test (and their segmentations); the change map
            is the same in both orders, so the model learns order-independence.
        crop: random square crop of this size (None: whole images).
        seed: seeds the augmentation (with the item index and the epoch set by :meth:`set_epoch`).
        cache: keep decoded pairs in memory (8-bit images and boolean labels, about 1.4 MB per
            256x256 pair with 5 label features).
        in_progress: read ``split`` of a dataset still being generated once that split is complete
            (see :func:`read_manifest`).
    """

    def __init__(
        self,
        folders: Sequence[str | os.PathLike[str]],
        split: str,
        features: list[str],
        *,
        augment: bool = False,
        swap: float = 0.0,
        crop: int | None = None,
        seed: int = 0,
        cache: bool = False,
        in_progress: bool = False,
    ) -> None:
        if not folders:
            raise InvalidArgumentError("Expected at least one dataset folder (--data DIR).")
        if split not in SPLITS:
            raise InvalidArgumentError(f"Expected a split from {', '.join(SPLITS)}, got {split!r}.")
        _refuse_repeated_folders(folders)
        if crop is not None:
            _check_crop(folders, crop)
        per_folder = [read_manifest(folder, split, in_progress=in_progress) for folder in folders]
        self.folders = [str(folder) for folder in folders]
        self.pairs = [pair for pairs in per_folder for pair in pairs]
        #: For each pair, the index of the folder it came from (for per-dataset sampling weights).
        self.dataset_index = [k for k, pairs in enumerate(per_folder) for _ in pairs]
        self.split = split
        self.features = list(features)
        self.augment, self.swap, self.crop, self.seed = augment, swap, crop, seed
        self.epoch = 0
        # Decoded pairs by index, when ``cache``: epochs after the first read no files (use it with
        # a single-process loader; each loader worker process would keep a cache of its own).
        self.cache = cache
        self._cache: dict[int, tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]] = {}

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def require_pairs(self, role: str = "pairs") -> None:
        """Raise a clear error when the split holds no pair (an empty set would score nothing).

        Args:
            role: what the pairs were for, as the message should name them (``pairs``, ``unchanged
                pairs``).

        Raises:
            InvalidArgumentError: no pair in this split; the message gives every split's size.
        """
        if self.pairs:
            return
        sizes: dict[str, int] = {}
        for folder in self.folders:
            try:
                for pair in read_manifest(folder):
                    sizes[pair.record["split"]] = sizes.get(pair.record["split"], 0) + 1
            except OutputError:  # a dataset in progress: its sizes are not known yet
                pass
        listed = ", ".join(f"{name} {sizes.get(name, 0)}" for name in SPLITS)
        raise InvalidArgumentError(
            f"Expected {role} in the {self.split} split of {', '.join(self.folders)}, found none (pairs by "
            f"split: {listed}). Fix: pass a dataset with {self.split} pairs, or another split where the "
            "command allows it (--split)."
        )

    def image_side(self, samples: int = 64) -> int | None:
        """The most common shorter side of the pairs' reference images, read from the headers of up to
        ``samples`` files spread over the pairs (a checkpoint's ``train_size``); None without pairs."""
        if not self.pairs:
            return None
        step = max(1, len(self.pairs) // samples)
        sides: dict[int, int] = {}
        for side in filter(None, map(_reference_side, self.pairs[::step])):
            sides[side] = sides.get(side, 0) + 1
        return max(sides, key=lambda side: (sides[side], side)) if sides else None

    def count_larger(self, side: int) -> int:
        """How many pairs' reference images have a shorter side over ``side`` (read from the headers;
        an unreadable image is not counted: it is reported where the pair is read)."""
        return sum((_reference_side(pair) or 0) > side for pair in self.pairs)

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> dict[str, Any]:
        pair = self.pairs[index]
        root, record = pair.root, pair.record
        labels = record["labels"]
        if index in self._cache:
            reference_8bit, test_8bit, maps = self._cache[index]
        else:
            reference_8bit = _image(root / record["reference"])
            test_8bit = _image(root / record["test"])
            if reference_8bit.shape != test_8bit.shape:
                raise OutputError(f"Expected the two images of pair {pair.pair_id} to have one size.")
            maps = {
                key: np.stack([_mask(root / labels[key][name]) for name in self.features])
                for key in ("seg_ref", "seg_test", "change")
            }
            if self.cache:
                self._cache[index] = (reference_8bit, test_8bit, maps)
        reference = reference_8bit.astype(np.float32) / 255.0
        test = test_8bit.astype(np.float32) / 255.0
        rng = np.random.default_rng([self.seed, self.epoch, index])
        arrays = [reference.transpose(2, 0, 1), test.transpose(2, 0, 1), *maps.values()]
        if self.crop is not None:
            height, width = reference.shape[:2]
            if self.crop > min(height, width):
                raise InvalidArgumentError(f"Expected --crop at most {min(height, width)}, got {self.crop}.")
            top = int(rng.integers(0, height - self.crop + 1))
            left = int(rng.integers(0, width - self.crop + 1))
            arrays = [a[:, top : top + self.crop, left : left + self.crop] for a in arrays]
        if self.augment:
            turns = int(rng.integers(4))
            flip = bool(rng.integers(2))
            arrays = [np.rot90(a, turns, axes=(1, 2)) for a in arrays]
            if flip:
                arrays = [a[:, :, ::-1] for a in arrays]
        # Converted in numpy: torch's bool-to-float copy was the slowest step of loading a pair.
        first, second, seg_ref, seg_test, change = (
            torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)) for a in arrays
        )
        if self.swap and rng.uniform() < self.swap:
            first, second, seg_ref, seg_test = second, first, seg_test, seg_ref
        return {
            "reference": first,
            "test": second,
            "seg_ref": seg_ref,
            "seg_test": seg_test,
            "change": change,
            "pair_id": pair.pair_id,
            "feature": pair.feature,
            "place": pair.place,
        }
