"""Scoring image files one after another (``synthdiff realness``), resumable from an interrupted run."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthdiff.errors import SynthdiffError
from synthdiff.realness._registry import RealnessModel

__all__ = ["SCORES_SCHEMA_VERSION", "FileScores", "ScoredFile", "interrupted_scores", "score_files"]

# 1.2 added architecture and checkpoint_sha256; 1.3 each image's notes and, with heatmaps, its heatmap;
# 1.4 complete, settings and each image's file stamp (for resuming).
SCORES_SCHEMA_VERSION = "1.4"


@dataclass(frozen=True)
class ScoredFile:
    """One file's outcome, as :func:`score_files` yields it.

    Attributes:
        path: the file.
        result: its score (``RealnessScore.to_dict()``) with ``notes`` (what the loader changed, which
            bears on the score), ``file`` (its ``[size, mtime_ns]`` stamp) and, with heatmaps, ``heatmap``
            (the file written); None when the file could not be read.
        error: why it could not be read (None when it was scored).
        resumed: the result was taken from an interrupted run, not scored again.
    """

    path: Path
    result: dict[str, Any] | None
    error: SynthdiffError | None = None
    resumed: bool = False


@dataclass
class FileScores:
    """The scores of a run over image files; ``to_dict`` is the content of ``synthdiff realness --json``.

    Attributes:
        model_spec: the model as given (a shipped name or a checkpoint file).
        architecture: the registered model it stood for (the shipped weights change over time).
        checkpoint_sha256: the weights' hash.
        settings: what a resumed run must share: ``stability`` and ``heatmap`` (the folder, or None).
        images: per path, the ``result`` of its :class:`ScoredFile`.
        errors: per path that could not be read, why.
        resumed: how many of ``images`` came from an interrupted run.
        complete: False when the run stopped before every file had its outcome.
    """

    model_spec: str
    architecture: str
    checkpoint_sha256: str
    settings: dict[str, Any]
    images: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    resumed: int = 0
    complete: bool = True

    def add(self, scored: ScoredFile) -> None:
        """Record one outcome from :func:`score_files`."""
        if scored.result is None:
            self.errors[str(scored.path)] = str(scored.error)
            return
        self.images[str(scored.path)] = scored.result
        self.resumed += scored.resumed

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCORES_SCHEMA_VERSION,
            "model": self.model_spec,
            "architecture": self.architecture,
            "checkpoint_sha256": self.checkpoint_sha256,
            "settings": self.settings,
            "complete": self.complete,
            "images": self.images,
            "errors": self.errors,
        }


def score_files(
    model: RealnessModel,
    paths: Sequence[Path],
    *,
    stability: bool = True,
    heatmap_dir: str | os.PathLike[str] | None = None,
    earlier: dict[str, dict[str, Any]] | None = None,
) -> Iterator[ScoredFile]:
    """Score image files one by one, yielding each outcome as soon as it exists.

    An unreadable file is yielded with its error and the others are scored; the caller decides what
    that means. Stopping early (Ctrl-C between two files) loses nothing already yielded.

    Args:
        paths: image files, any format synthdiff reads (HDR is tone-mapped first).
        stability: also score a JPEG-90 copy and a 1-pixel shift (see :func:`score_image`).
        heatmap_dir: write a ``NAME_realness.png`` overlay per image there (every crop scored); images
            that share a name get ``_1``, ``_2``, ... in the order given.
        earlier: results of an interrupted run by path (:func:`interrupted_scores`); one whose file is
            unchanged since (and whose heatmap is still there) is yielded again instead of scored.

    Yields:
        A :class:`ScoredFile` per path, in order.
    """
    from synthdiff._journal import file_stamp
    from synthdiff.io import ProtectedInputs, hdr_to_display, load_image, save_png
    from synthdiff.realness._report import heatmap_overlay
    from synthdiff.realness._score import score_image

    names = _heatmap_names(paths)
    inputs = ProtectedInputs(paths)  # never overwritten by a heatmap
    for path in paths:
        stamp = file_stamp(path)
        kept = (earlier or {}).get(str(path))
        if (
            kept is not None
            and kept.get("file") == stamp
            and (heatmap_dir is None or Path(kept.get("heatmap", "")).is_file())
        ):
            yield ScoredFile(path, kept, resumed=True)
            continue
        try:
            loaded = load_image(path)
        except SynthdiffError as error:
            yield ScoredFile(path, None, error)
            continue
        pixels = hdr_to_display(loaded.pixels) if loaded.info.is_hdr else loaded.pixels
        score = score_image(model, pixels, check_stability=stability, all_crops=heatmap_dir is not None)
        result = {**score.to_dict(), "notes": list(loaded.info.notes), "file": stamp}
        if heatmap_dir is not None:
            overlay = heatmap_overlay(pixels, score).astype("float32") / 255.0
            result["heatmap"] = str(save_png(Path(heatmap_dir) / names[path], overlay, protected=inputs))
        yield ScoredFile(path, result)


def interrupted_scores(
    path: str | os.PathLike[str], checkpoint_sha256: str, settings: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """The results in a ``--json`` file when it holds an interrupted run of this model with these
    settings (by path), else none: a finished, foreign or unreadable file is simply written anew."""
    try:
        earlier = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(earlier, dict) or earlier.get("complete", True):
        return {}
    if earlier.get("checkpoint_sha256") != checkpoint_sha256 or earlier.get("settings") != settings:
        return {}
    images = earlier.get("images")
    return images if isinstance(images, dict) else {}


def _heatmap_names(paths: Sequence[Path]) -> dict[Path, str]:
    """NAME_realness.png per image; images that share a name get _1, _2, ... in the order given."""
    counts = Counter(path.stem for path in paths)
    names, seen = {}, dict.fromkeys(counts, 0)
    for path in paths:
        seen[path.stem] += 1
        suffix = f"_{seen[path.stem]}" if counts[path.stem] > 1 else ""
        names[path] = f"{path.stem}{suffix}_realness.png"
    return names
