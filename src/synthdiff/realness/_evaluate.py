"""Image-level evaluation of a realness model: accuracy, AUC, ECE, per source, under JPEG, with intervals."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from synthdiff._stats import auc, auc_interval, bootstrap_interval, wilson_interval
from synthdiff.realness._calibration import expected_calibration_error
from synthdiff.realness._data import LabelledImage, _load_8bit_with_notes, refuse_repeated_images
from synthdiff.realness._registry import RealnessModel
from synthdiff.realness._score import _image_logit, _jpeg

__all__ = ["ImageResult", "RealnessEvaluation", "SkippedImage", "evaluate_images", "image_logits"]

#: Version of ``bench-settings.json``, the record of what an interrupted evaluation was run with.
JOURNAL_SCHEMA_VERSION = "1.0"


def image_logits(model: RealnessModel, pixels: np.ndarray, jpeg_quality: int | None = None) -> float:
    """The logit of an HxWx3 uint8 image (see :func:`pooled_logits`), optionally after a JPEG re-encode."""
    image = pixels.astype(np.float32) / 255.0
    if jpeg_quality is not None:
        image = _jpeg(image, jpeg_quality)
    return _image_logit(model, image)


@dataclass(frozen=True)
class ImageResult:
    """One evaluated image.

    Attributes:
        notes: what the loader changed on the way in (transparent pixels composited on black, the first
            of several frames, ...), which bears on the score.
    """

    path: str
    source: str
    label: int
    probability: float
    probability_jpeg75: float
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SkippedImage:
    """An image that could not be read (or scored), with the reason."""

    path: str
    source: str
    error: str


@dataclass
class RealnessEvaluation:
    """Scores over a set of labelled images (threshold 0.5 on the calibrated probability).

    Attributes:
        images: the scored images (the summary is over these only).
        skipped: unreadable images, when the evaluation was asked to skip them.
        resumed: how many of ``images`` were read back from an interrupted run's journal.
    """

    images: list[ImageResult]
    summary: dict[str, Any] = field(default_factory=dict)
    skipped: list[SkippedImage] = field(default_factory=list)
    resumed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "skipped": [asdict(s) for s in self.skipped],
            "images": [
                {
                    "path": r.path,
                    "source": r.source,
                    "label": "synthetic" if r.label else "real",
                    "probability_synthetic": round(r.probability, 5),
                    "probability_synthetic_jpeg75": round(r.probability_jpeg75, 5),
                    "notes": list(r.notes),
                }
                for r in self.images
            ],
        }


def _log_loss(probabilities: np.ndarray, labels: np.ndarray, eps: float = 1e-7) -> float:
    """Mean negative log-likelihood of the labels (probabilities clipped to [eps, 1 - eps])."""
    p = np.clip(probabilities, eps, 1 - eps)
    return float(-np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p)))


#: Fewer images than this get no ECE interval (``ece_interval`` is None).
ECE_INTERVAL_MIN_IMAGES = 30


def summarise_results(results: list[ImageResult]) -> dict[str, Any]:
    """Accuracy (Wilson interval), AUC (score interval), ECE (bootstrap interval), log loss, the JPEG-75
    drop; also per source."""
    labels = np.array([r.label for r in results])
    probabilities = np.array([r.probability for r in results])
    jpeg = np.array([r.probability_jpeg75 for r in results])
    correct = (probabilities >= 0.5) == labels.astype(bool)
    correct_jpeg = (jpeg >= 0.5) == labels.astype(bool)
    accuracy = float(correct.mean())
    area = auc(probabilities, labels)
    summary: dict[str, Any] = {
        "images": len(results),
        "synthetic": int(labels.sum()),
        "real": int((1 - labels).sum()),
        "accuracy": accuracy,
        # Wilson, not bootstrap: a bootstrap of a perfect score is the degenerate [1, 1]
        "accuracy_interval": wilson_interval(int(correct.sum()), len(results)),
        "auc": area,
        # A score interval, not a bootstrap: that one collapses to [1, 1] for a perfect ranking and covers
        # too little on small sets (docs/realness.md).
        "auc_interval": auc_interval(area, int(labels.sum()), int((1 - labels).sum())),
        "ece": expected_calibration_error(probabilities, labels),
        # ECE is biased upwards on small samples (every bin's gap counts, noise included), and so is
        # this interval: read it as how much the figure moves with the images drawn. On a handful of
        # images its 15 bins are mostly empty and the bootstrap says nothing ([0.000, 0.001] for two).
        "ece_interval": bootstrap_interval(
            lambda i: expected_calibration_error(probabilities[i], labels[i]), len(results)
        )
        if len(results) >= ECE_INTERVAL_MIN_IMAGES
        else None,
        "log_loss": _log_loss(probabilities, labels),
        "accuracy_jpeg75": float(correct_jpeg.mean()),
        "accuracy_drop_jpeg75": accuracy - float(correct_jpeg.mean()),
        "per_source": {},
    }
    for source in sorted({r.source for r in results}):
        members = np.array([r.source == source for r in results])
        summary["per_source"][source] = {
            "images": int(members.sum()),
            "label": "synthetic" if labels[members][0] else "real",
            "accuracy": float(correct[members].mean()),
            "log_loss": _log_loss(probabilities[members], labels[members]),
            "accuracy_jpeg75": float(correct_jpeg[members].mean()),
            "mean_probability_synthetic": float(probabilities[members].mean()),
        }
    return summary


def evaluate_images(
    model: RealnessModel,
    images: Sequence[LabelledImage],
    on_image: Callable[[int, int], None] | None = None,
    *,
    skip_unreadable: bool = False,
    journal: str | os.PathLike[str] | None = None,
    restart: bool = False,
) -> RealnessEvaluation:
    """Score every image as it is and re-encoded as JPEG quality 75, then summarise.

    Args:
        on_image: called as ``on_image(done, total)`` after every image.
        skip_unreadable: list images that cannot be read in ``skipped`` instead of raising.
        journal: a folder in which every image's result is appended to ``results.jsonl`` as it is
            scored, so that the same call after an interruption scores only the rest (images that
            could not be read are tried again). ``bench-settings.json`` beside it records the model.
        restart: ignore the results already in ``journal``.

    Raises:
        InvalidArgumentError: no images; an image listed twice; none readable; a journal of another model
            (fix: ``restart``).
        SynthdiffError: the image loading errors, for an unreadable file, unless ``skip_unreadable``.
    """
    from synthdiff._journal import file_stamp, folder_lock
    from synthdiff.errors import InvalidArgumentError, SynthdiffError

    if not images:
        raise InvalidArgumentError("Expected at least one image to evaluate.")
    refuse_repeated_images(images)
    done: dict[str, dict[str, Any]] = {}
    log = None
    results: list[ImageResult] = []
    skipped: list[SkippedImage] = []
    resumed = 0
    with contextlib.ExitStack() as held:
        if journal is not None:
            held.enter_context(folder_lock(journal, "realness-bench"))
            path, done = _open_journal(Path(journal), model, restart)
            log = held.enter_context(path.open("a", encoding="utf-8"))
        for number, image in enumerate(images, start=1):
            key = _journal_key(image)
            stamp = file_stamp(image.path)
            # A file changed since it was scored is scored again.
            if key in done and done[key].get("file") == stamp:
                row = {name: done[key][name] for name in ImageResult.__dataclass_fields__}
                results.append(ImageResult(**{**row, "notes": tuple(row["notes"])}))
                resumed += 1
            else:
                try:
                    result = _score_one(model, image)
                except SynthdiffError as error:
                    if not skip_unreadable:
                        raise
                    skipped.append(SkippedImage(str(image.path), image.source, str(error)))
                else:
                    results.append(result)
                    if log is not None:
                        log.write(json.dumps({"key": key, **asdict(result), "file": stamp}) + "\n")
                        log.flush()
            if on_image is not None:
                on_image(number, len(images))
    if not results:
        raise InvalidArgumentError(
            f"Expected readable images, but none of the {len(images)} could be read. The first: "
            f"{skipped[0].error}"
        )
    return RealnessEvaluation(results, summarise_results(results), skipped, resumed)


def _score_one(model: RealnessModel, image: LabelledImage) -> ImageResult:
    """Calibrated p(synthetic) of the image as decoded and after a JPEG 75 re-encode."""
    pixels, notes = _load_8bit_with_notes(image.path)
    probability = float(model.calibration.probability(image_logits(model, pixels)))
    jpeg = float(model.calibration.probability(image_logits(model, pixels, jpeg_quality=75)))
    return ImageResult(str(image.path), image.source, image.label, probability, jpeg, notes)


def _journal_key(image: LabelledImage) -> str:
    return f"{image.label}/{image.source}/{image.path}"


def _open_journal(
    folder: Path, model: RealnessModel, restart: bool
) -> tuple[Path, dict[str, dict[str, Any]]]:
    """The journal file, and the results of an earlier run in it by image key (none with ``restart``).

    Raises:
        InvalidArgumentError: the earlier run scored with another model.
    """
    from synthdiff._journal import prepare_journal, read_journal

    settings = {
        "schema_version": JOURNAL_SCHEMA_VERSION,
        "model": model.name,
        "checkpoint_sha256": model.checkpoint_sha256,
        "calibration": asdict(model.calibration),
    }
    journal = prepare_journal(
        folder,
        "bench-settings.json",
        settings,
        restart,
        lambda previous: (
            f"scores of another model ({previous.get('model')}, checkpoint "
            f"{str(previous.get('checkpoint_sha256'))[:12]})"
        ),
    )
    # A row without every field (one written before notes were recorded) is scored again.
    fields = ImageResult.__dataclass_fields__
    return journal, {
        key: row for key, row in read_journal(journal, "key").items() if all(name in row for name in fields)
    }
