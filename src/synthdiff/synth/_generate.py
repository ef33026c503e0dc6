"""``generate``: render a labelled dataset with Blender worker processes, resumably."""

from __future__ import annotations

import importlib.util
import json
import os
import queue as queue_module
import shutil
import sys
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthdiff._journal import folder_lock, read_journal
from synthdiff._pool import stop_pool
from synthdiff.errors import InvalidArgumentError, MissingDependencyError, OutputError
from synthdiff.synth._options import GenerateOptions
from synthdiff.synth._scene import scene_rng, texture_images
from synthdiff.synth._worker import (
    LABELS_VERSION,
    SceneTask,
    _initialise,
    pair_id,
    worker_entry,
    worker_pool_context,
)

__all__ = ["GenerateResult", "check_blender", "generate"]

DATASET_SCHEMA_VERSION = "1.0"
BPY_PYTHON = (3, 11)
INSTALL_HINT = "pip install 'synthdiff[blender]' (which installs bpy==5.0.1)"


@dataclass
class GenerateResult:
    """What a ``generate`` run produced.

    Attributes:
        out: the dataset folder.
        pairs: number of pairs in the manifest.
        rendered: pairs rendered by this run (the rest were already there: a resumed run).
        seconds: wall time of this run.
        splits: pairs per split.
        workers: the Blender worker processes that ran (fewer than asked for when there were fewer
            scenes left to render, or CPU cores).
    """

    out: Path
    pairs: int
    rendered: int
    seconds: float
    splits: dict[str, int] = field(default_factory=dict)
    workers: int = 0

    @property
    def pairs_per_minute(self) -> float:
        return 60.0 * self.rendered / self.seconds if self.seconds > 0 else 0.0


def check_blender() -> None:
    """Raise a clear error when Blender's Python module cannot be used here.

    Raises:
        MissingDependencyError: wrong Python version for bpy 5.0.1, or bpy not installed.
    """
    if sys.version_info[:2] != BPY_PYTHON:
        raise MissingDependencyError(
            f"synthdiff generate needs Blender's Python module bpy 5.0.1, which is built for Python "
            f"{BPY_PYTHON[0]}.{BPY_PYTHON[1]} only; "
            f"this is Python {sys.version_info[0]}.{sys.version_info[1]}. "
            f"Fix: make a Python 3.11 environment (python3.11 -m venv .venv) and run {INSTALL_HINT} there."
        )
    if importlib.util.find_spec("bpy") is None:
        raise MissingDependencyError(
            "synthdiff generate needs Blender's Python module bpy, which is not installed. "
            f"Fix: {INSTALL_HINT}."
        )


def assign_splits(scenes: int, seed: int, fractions: tuple[float, float, float]) -> list[str]:
    """Train/val/test by *scene*, shuffled by the seed; val and test get one scene each at least
    when their fraction is above 0 and there are three scenes or more, and train keeps one scene
    unless its fraction is 0 (a test-only dataset: ``--split 0,0,1``)."""
    counts = [round(scenes * f) for f in fractions[1:]]
    for i, fraction in enumerate(fractions[1:]):
        if fraction > 0 and scenes >= 3:
            counts[i] = max(counts[i], 1)
    keep_train = 1 if fractions[0] > 0 else 0
    while sum(counts) > scenes - keep_train and sum(counts) > 0:
        counts[counts.index(max(counts))] -= 1
    order = scene_rng(seed, 5).permutation(scenes)
    split = ["train"] * scenes
    for position, index in enumerate(order):
        if position < counts[1]:
            split[int(index)] = "test"
        elif position < counts[1] + counts[0]:
            split[int(index)] = "val"
    return split


def render_order(splits: list[str]) -> list[int]:
    """Scene indices in the order they are rendered: val scenes, then test, then train (each in index
    order). The pairs do not depend on the order (every scene has its own seeds), but an interrupted
    or unfinished run then holds complete evaluation splits first: ``read_manifest(..., in_progress=True)``
    reads them while the training scenes are still rendering."""
    rank = {"val": 0, "test": 1, "train": 2}
    return sorted(range(len(splits)), key=lambda index: (rank[splits[index]], index))


def _read_journal(path: Path) -> dict[str, dict[str, Any]]:
    """The pairs rendered so far, by pair id; a line an interruption cut short, or with damaged bytes, is
    left out, so that pair is rendered again (the journal reader every resumable command shares)."""
    return read_journal(path, "pair_id")


def _settings(options: GenerateOptions, images: list[str]) -> dict[str, Any]:
    from synthdiff import __version__

    return {
        "schema_version": DATASET_SCHEMA_VERSION,
        "generator": f"synthdiff {__version__}",
        "labels_version": LABELS_VERSION,
        "options": options.to_dict(),
        "texture_images": images,
    }


def _check_settings(out: Path, settings: dict[str, Any]) -> None:
    path = out / "dataset.json"
    if path.is_file():
        try:
            existing = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:  # not JSON, or not UTF-8: a damaged record, written anew
            existing = None
        if existing is not None and existing.get("options") != settings["options"]:
            differing = sorted(
                key
                for key in set(existing.get("options", {})) | set(settings["options"])
                if existing.get("options", {}).get(key) != settings["options"].get(key)
            )
            if differing == ["variants"]:
                # Variants are seeded per (scene, variant), so more of them extend the dataset
                # exactly as a fresh run with the larger count would have made it.
                if settings["options"]["variants"] > existing["options"]["variants"]:
                    return
                raise OutputError(
                    f"Expected --variants of at least {existing['options']['variants']} to resume "
                    f"{str(out)!r} (a dataset can grow, not shrink), got {settings['options']['variants']}. "
                    "Fix: use the same or a larger --variants, or a new --out folder."
                )
            raise OutputError(
                f"Expected {str(out)!r} to hold a dataset made with the same options to resume it, but "
                f"these differ: {', '.join(differing)}. Fix: use a new --out folder, or the same options."
            )
    elif out.is_dir() and any(p.name not in (".work", ".lock", "logs") for p in out.iterdir()):
        raise OutputError(
            f"Expected --out to be a new or empty folder (or a dataset to resume), but {str(out)!r} "
            "holds other files. Fix: choose a new folder."
        )


def generate(
    options: GenerateOptions,
    out: str | os.PathLike[str],
    *,
    workers: int = 1,
    on_pair: Callable[[int, int], None] | None = None,
) -> GenerateResult:
    """Render a labelled dataset of reference/test pairs into ``out`` (see docs/generate.md).

    A re-run with the same options continues where an interrupted one stopped: finished pairs
    (those in ``progress.jsonl``) are never rendered twice. Same options and seed give the same
    parameters and the same manifest.

    Args:
        options: what to render.
        out: the dataset folder (new, empty, or a dataset made with the same options).
        workers: Blender worker processes; the CPU threads are shared among them. At most one per CPU
            core and per scene left to render: each worker holds a Blender of its own (about 0.5 GB),
            so more would add memory, not speed.
        on_pair: called as ``on_pair(done, total)`` after each pair, for a progress bar.

    Returns:
        Counts and timing of the run.

    Raises:
        MissingDependencyError: bpy is missing or this Python cannot run it.
        OutputError: ``out`` holds something else, or a dataset made with other options.
        SceneError: a user scene cannot be used.
    """
    check_blender()
    if not isinstance(workers, int) or workers < 1:
        raise InvalidArgumentError(f"Expected --workers to be 1 or more, got {workers!r}.")
    out = Path(out)
    created = not out.exists()
    images = texture_images() if options.scene_file is None else []
    settings = _settings(options, images)
    _check_settings(out, settings)
    with folder_lock(out, "generate"):
        (out / "dataset.json").write_text(json.dumps(settings, indent=2) + "\n")
        try:
            return _run(options, out, settings, images, workers, on_pair)
        except BaseException:
            if created and not _read_journal(out / "progress.jsonl"):
                shutil.rmtree(out, ignore_errors=True)  # nothing was made: leave no half-made folder
            raise


def _run(
    options: GenerateOptions,
    out: Path,
    settings: dict[str, Any],
    images: list[str],
    workers: int,
    on_pair: Callable[[int, int], None] | None,
) -> GenerateResult:
    from synthdiff.synth._card import write_card

    journal_path = out / "progress.jsonl"
    done = _read_journal(journal_path)
    if journal_path.is_file():  # drop a line an interruption cut short, so appends start cleanly
        temporary = journal_path.with_name(journal_path.name + ".partial")
        temporary.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in done.values()))
        os.replace(temporary, journal_path)
    splits = assign_splits(options.scenes, options.seed, options.split)
    pending_by_scene = {
        index: tuple(v for v in range(options.variants) if pair_id(index, v) not in done)
        for index in render_order(splits)
    }
    pending_scenes = sum(1 for pending in pending_by_scene.values() if pending)
    workers = max(1, min(workers, pending_scenes, os.cpu_count() or 1))
    threads = max(1, (os.cpu_count() or 1) // workers)
    tasks = [
        SceneTask(str(out), options.to_dict(), index, splits[index], pending, threads, tuple(images))
        for index, pending in pending_by_scene.items()
        if pending
    ]
    if tasks:
        # A manifest says the dataset is finished; while this run renders more pairs (a resumed or
        # grown dataset) it would describe fewer pairs than dataset.json now plans. It is written
        # again, complete, when the run ends.
        (out / "manifest.jsonl").unlink(missing_ok=True)
    total = options.scenes * options.variants
    finished = len(done)
    rendered = 0
    start = time.perf_counter()
    if on_pair is not None:
        on_pair(finished, total)

    if tasks:
        log_dir = out / "logs"
        log_dir.mkdir(exist_ok=True)
        context = worker_pool_context()
        messages = context.Queue()
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_initialise,
            initargs=(messages, str(log_dir)),
        )
        with open(journal_path, "a", encoding="utf-8") as journal:

            def drain(timeout: float) -> None:
                nonlocal finished, rendered
                try:
                    record = messages.get(timeout=timeout)
                except queue_module.Empty:
                    return
                while True:
                    journal.write(json.dumps(record, sort_keys=True) + "\n")
                    journal.flush()
                    done[record["pair_id"]] = record
                    finished += 1
                    rendered += 1
                    if on_pair is not None:
                        on_pair(finished, total)
                    try:
                        record = messages.get_nowait()
                    except queue_module.Empty:
                        return

            try:
                pending_futures: set[Future[int]] = {pool.submit(worker_entry, task) for task in tasks}
                while pending_futures:
                    drain(0.2)
                    finished_futures, pending_futures = wait(
                        pending_futures, timeout=0, return_when=FIRST_COMPLETED
                    )
                    for future in finished_futures:
                        error = future.exception()
                        if error is not None:
                            raise error
                # Records may still be in flight from the workers' queue threads.
                expected = sum(len(task.variants) for task in tasks)
                deadline = time.monotonic() + 60.0
                while rendered < expected and time.monotonic() < deadline:
                    drain(0.5)
                pool.shutdown(wait=True)
            except BaseException as error:
                # Interrupted (Ctrl-C) or a worker failed: stop every worker now rather than waiting
                # for their scenes to finish, and keep the pairs that were complete (the journal).
                try:
                    stop_pool(pool)
                    drain(0.5)
                except Exception as cleanup_error:
                    # A worker killed mid-message can leave a truncated record in the queue (EOFError,
                    # UnpicklingError). That pair is simply rendered again on resume; what must not
                    # happen is this error replacing the interruption or failure that stopped the run.
                    error.add_note(f"while stopping the workers: {cleanup_error!r}")
                raise

    records = [done[key] for key in sorted(done)]
    _write_manifest(out, records)
    counts = {name: sum(1 for r in records if r["split"] == name) for name in ("train", "val", "test")}
    write_card(out, settings, records)
    return GenerateResult(
        out, len(records), rendered, time.perf_counter() - start, counts, workers if tasks else 0
    )


def _write_manifest(out: Path, records: list[dict[str, Any]]) -> None:
    lines = "".join(json.dumps(r, sort_keys=True) + "\n" for r in records)
    temporary = out / "manifest.jsonl.partial"
    temporary.write_text(lines)
    os.replace(temporary, out / "manifest.jsonl")
    split_dir = out / "splits"
    split_dir.mkdir(exist_ok=True)
    for name in ("train", "val", "test"):
        ids = [r["pair_id"] for r in records if r["split"] == name]
        (split_dir / f"{name}.txt").write_text("".join(f"{i}\n" for i in ids))
