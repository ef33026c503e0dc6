"""Image-level evaluation of a realness model: accuracy, AUC, ECE, per source, under JPEG, with intervals."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from synthdiff._stats import auc, bootstrap_interval, wilson_interval
from synthdiff.realness._calibration import expected_calibration_error
from synthdiff.realness._data import LabelledImage, _load_8bit
from synthdiff.realness._registry import RealnessModel
from synthdiff.realness._score import _image_logit, _jpeg

__all__ = ["ImageResult", "RealnessEvaluation", "evaluate_images", "image_logits"]


def image_logits(model: RealnessModel, pixels: np.ndarray, jpeg_quality: int | None = None) -> float:
    """The logit of an HxWx3 uint8 image (see :func:`pooled_logits`), optionally after a JPEG re-encode."""
    image = pixels.astype(np.float32) / 255.0
    if jpeg_quality is not None:
        image = _jpeg(image, jpeg_quality)
    return _image_logit(model, image)


@dataclass(frozen=True)
class ImageResult:
    """One evaluated image."""

    path: str
    source: str
    label: int
    probability: float
    probability_jpeg75: float


@dataclass
class RealnessEvaluation:
    """Scores over a set of labelled images (threshold 0.5 on the calibrated probability)."""

    images: list[ImageResult]
    summary: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "images": [
                {
                    "path": r.path,
                    "source": r.source,
                    "label": "synthetic" if r.label else "real",
                    "probability_synthetic": round(r.probability, 5),
                    "probability_synthetic_jpeg75": round(r.probability_jpeg75, 5),
                }
                for r in self.images
            ],
        }


def _log_loss(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log-likelihood of the labels (probabilities clipped to [1e-7, 1 - 1e-7])."""
    p = np.clip(probabilities, 1e-7, 1 - 1e-7)
    return float(-np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p)))


def summarise_results(results: list[ImageResult]) -> dict[str, Any]:
    """Accuracy (Wilson interval), AUC and ECE (bootstrap intervals), log loss, the JPEG-75 drop; also
    per source."""
    labels = np.array([r.label for r in results])
    probabilities = np.array([r.probability for r in results])
    jpeg = np.array([r.probability_jpeg75 for r in results])
    correct = (probabilities >= 0.5) == labels.astype(bool)
    correct_jpeg = (jpeg >= 0.5) == labels.astype(bool)
    accuracy = float(correct.mean())
    summary: dict[str, Any] = {
        "images": len(results),
        "synthetic": int(labels.sum()),
        "real": int((1 - labels).sum()),
        "accuracy": accuracy,
        # Wilson, not bootstrap: a bootstrap of a perfect score is the degenerate [1, 1]
        "accuracy_interval": wilson_interval(int(correct.sum()), len(results)),
        "auc": auc(probabilities, labels),
        "auc_interval": bootstrap_interval(lambda i: auc(probabilities[i], labels[i]), len(results)),
        "ece": expected_calibration_error(probabilities, labels),
        # ECE is biased upwards on small samples (every bin's gap counts, noise included), and so is
        # this interval: read it as how much the figure moves with the images drawn.
        "ece_interval": bootstrap_interval(
            lambda i: expected_calibration_error(probabilities[i], labels[i]), len(results)
        ),
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
) -> RealnessEvaluation:
    """Score every image as it is and re-encoded as JPEG quality 75, then summarise.

    Raises:
        InvalidArgumentError: no images; the image loading errors for unreadable files.
    """
    from synthdiff.errors import InvalidArgumentError

    if not images:
        raise InvalidArgumentError("Expected at least one image to evaluate.")
    results = []
    for number, image in enumerate(images, start=1):
        pixels = _load_8bit(image.path)
        probability = float(model.calibration.probability(image_logits(model, pixels)))
        jpeg = float(model.calibration.probability(image_logits(model, pixels, jpeg_quality=75)))
        results.append(ImageResult(str(image.path), image.source, image.label, probability, jpeg))
        if on_image is not None:
            on_image(number, len(images))
    return RealnessEvaluation(results, summarise_results(results))
