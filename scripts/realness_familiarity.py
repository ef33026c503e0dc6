"""Does the familiarity check flag the images the shipped realness recipe gets wrong? (the familiarity round)

The rule: docs/training-logs/realness/familiarity-round-rule.md. Part A refits the shipped recipe
(``realness-effnet``, head ``images``) leave-one-source-out over the nine sources it was fitted on; part B
fits it on all nine and scores the sources it never saw. In both, the familiarity check is fitted on the
same training images as the head (:func:`fit_familiarity`, below). With ``--test`` the nine-source fit
and its check also score test-only folders (after the decision; they decide nothing).

    python scripts/realness_familiarity.py --data data/realness-photos-round --out runs/familiarity
    python scripts/realness_familiarity.py --data data/realness-photos-round --out runs/familiarity \\
        --test data/realness-test/real/opencv-scenes ...

The frozen embeddings are cached under OUT/embeddings (shared by every fold), so a second run is quick.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

from synthdiff.realness import load_realness_model
from synthdiff.realness._calibration import expected_calibration_error
from synthdiff.realness._data import LabelledImage, list_source, source_balanced_weights
from synthdiff.realness._image_head import EmbeddingCache, HeadFit, fit_image_head
from synthdiff.realness._model import RealnessEffNet

# The familiarity check (k-nearest-neighbour distances; Sun et al. 2022, "Out-of-distribution detection
# with deep nearest neighbors"), with its threshold chosen by leave-one-source-out like the head's penalty.


def unit_rows(rows: np.ndarray, mean: np.ndarray, variance: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """(N, D) feature rows standardised as the head reads them, then scaled to unit length (float32)."""
    x = (np.asarray(rows, np.float64) - mean) / np.sqrt(variance + eps)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32)


def _kth_distance(queries: np.ndarray, reference: np.ndarray, k: int) -> np.ndarray:
    """Euclidean distance from each unit query row to its k-th nearest unit reference row."""
    if len(reference) == 0:
        raise ValueError("Expected at least one reference row.")
    k = min(k, len(reference))
    squared = np.maximum(2.0 - 2.0 * (queries.astype(np.float32) @ reference.astype(np.float32).T), 0.0)
    return np.sqrt(np.partition(squared, k - 1, axis=1)[:, k - 1]).astype(np.float64)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The smallest value whose cumulative share of the total weight (in sorted order) reaches ``q``."""
    values, weights = np.asarray(values, np.float64), np.asarray(weights, np.float64)
    if values.size == 0 or values.shape != weights.shape or (weights < 0).any() or weights.sum() <= 0:
        raise ValueError("Expected values with as many non-negative weights, with a positive sum.")
    if not 0.0 < q <= 1.0:
        raise ValueError(f"Expected 0 < q <= 1, got {q}.")
    order = np.argsort(values, kind="stable")
    share = np.cumsum(weights[order]) / weights.sum()
    return float(values[order][min(int(np.searchsorted(share, q - 1e-12)), len(values) - 1)])


@dataclass
class Familiarity:
    """Reference rows (unit length, on the head's standardised features), k and the threshold.

    Attributes:
        reference: (R, D) unit rows of the training images (every training variant).
        k: which nearest reference row's distance is the score.
        threshold: scores above it are "unfamiliar".
    """

    reference: np.ndarray
    k: int
    threshold: float

    def scores(self, unit: np.ndarray) -> np.ndarray:
        """(N,) distances of (N, D) unit rows (see :func:`unit_rows`) to their k-th nearest reference."""
        return _kth_distance(np.atleast_2d(unit), self.reference, self.k)

    def unfamiliar(self, unit: np.ndarray) -> np.ndarray:
        """(N,) booleans: the rows lie farther from the training images than the threshold."""
        return self.scores(unit) > self.threshold


def fit_familiarity(
    embeddings: np.ndarray,
    images: Sequence[LabelledImage],
    mean: np.ndarray,
    variance: np.ndarray,
    *,
    eps: float = 1e-5,
    k: int = 10,
    quantile: float = 0.95,
    scored_variant: int = 0,
) -> Familiarity:
    """The familiarity check of a head fitted on (N, V, D) ``embeddings`` (V variants of each image).

    Every variant row is a reference. The threshold is the ``quantile`` of the leave-one-source-out
    scores of the training images (their variant ``scored_variant``, the one inference sees, against
    the other sources' rows), each image weighted as the head weights it.

    Raises:
        ValueError: fewer than two sources, or mismatched lengths.
    """
    count, variants, dim = embeddings.shape
    if count != len(images):
        raise ValueError(f"Expected one embedding per image, got {count} for {len(images)} images.")
    sources = np.array([i.source for i in images])
    if len(set(sources.tolist())) < 2:
        raise ValueError("Expected at least two sources to choose the threshold by leave-one-source-out.")
    flat = embeddings.reshape(count * variants, dim)
    unit = unit_rows(flat, mean, variance, eps).reshape(count, variants, dim)
    held_scores = np.zeros(count)
    for source in sorted(set(sources.tolist())):
        held = sources == source
        others = unit[~held].reshape(-1, dim)
        held_scores[held] = _kth_distance(unit[held, scored_variant], others, k)
    threshold = weighted_quantile(held_scores, source_balanced_weights(images), quantile)
    return Familiarity(unit.reshape(-1, dim), k, threshold)


NINE = (
    "cycles-32spp-384px", "cycles-8spp-denoised", "cycles-undenoised", "exam-scene", "matplotlib",
    "opencv-chessboards", "opencv-photos", "opencv-renders", "skimage",
)  # fmt: skip
GROUPS = (("skimage", "matplotlib"), ("exam-scene", "opencv-renders"))


def folds(sources: Sequence[str]) -> list[tuple[str, ...]]:
    grouped = {name for group in GROUPS for name in group}
    return [*GROUPS, *((name,) for name in sources if name not in grouped)]


def images_of(data: Path) -> list[LabelledImage]:
    images = []
    for label in ("real", "synthetic"):
        for folder in sorted(p for p in (data / label).iterdir() if p.is_dir()):
            images += list_source(folder, label, folder.name)
    return images


def image_record(image: LabelledImage, probability: float, **extra: Any) -> dict[str, Any]:
    """One image's held-out record: where it is from, its p(synthetic) and whether that is right at 0.5."""
    return {
        "path": str(image.path),
        "source": image.source,
        "label": int(image.label),
        "probability_synthetic": round(float(probability), 5),
        "correct": bool((probability >= 0.5) == bool(image.label)),
        **extra,
    }


def shipped_probabilities(rows: np.ndarray, backbone: str = "lite0") -> np.ndarray:
    """The shipped ``realness-effnet`` checkpoint's calibrated p(synthetic) of (N, 1280) embedding rows
    computed by the EfficientNet-Lite ``backbone`` (which must be the one the shipped model reads)."""
    shipped = load_realness_model("realness-effnet")
    reads = cast(RealnessEffNet, shipped.net).backbone_variant
    if reads != backbone:
        raise SystemExit(
            f"Expected rows of the backbone the shipped realness-effnet reads ({reads}), got {backbone} "
            "rows. Fix: embed the images with that backbone."
        )
    with torch.no_grad():
        logits = shipped.net.classify(torch.from_numpy(rows).float()).numpy()  # type: ignore[operator]
    return np.asarray(shipped.calibration.probability(logits))


def _score(
    fit: HeadFit, check: Familiarity, rows: np.ndarray, images: Sequence[LabelledImage], part: str
) -> list[dict[str, Any]]:
    """Per-image records of the decoded rows (variant 0) of ``images``."""
    decoded = rows[:, 0]
    probabilities = fit.calibration.probability(fit.logits(decoded))
    distances = check.scores(unit_rows(decoded, fit.mean, fit.variance, fit.eps))
    return [
        {
            "part": part,
            **image_record(
                image,
                p,
                distance=round(float(d), 5),
                threshold=round(float(check.threshold), 5),
                unfamiliar=bool(d > check.threshold),
            ),
        }
        for image, p, d in zip(images, probabilities, distances, strict=True)
    ]


def _fit(
    rows: np.ndarray, images: Sequence[LabelledImage], k: int, quantile: float
) -> tuple[HeadFit, Familiarity]:
    fit = fit_image_head(rows, images)
    check = fit_familiarity(rows, images, fit.mean, fit.variance, eps=fit.eps, k=k, quantile=quantile)
    return fit, check


def _auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """P(a positive scores above a negative), ties counted half."""
    if not len(positive) or not len(negative):
        return float("nan")
    greater = (positive[:, None] > negative[None, :]).mean()
    return float(greater + 0.5 * (positive[:, None] == negative[None, :]).mean())


def _summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    correct = np.array([r["correct"] for r in records], bool)
    flagged = np.array([r["unfamiliar"] for r in records], bool)
    kept = ~flagged
    return {
        "images": len(records),
        "accuracy": float(correct.mean()),
        "flagged": int(flagged.sum()),
        "flagged_share": float(flagged.mean()),
        "accuracy_unflagged": float(correct[kept].mean()) if kept.any() else float("nan"),
        "mistakes": int((~correct).sum()),
        "mistakes_flagged": int((~correct & flagged).sum()),
        "correct_flagged": int((correct & flagged).sum()),
    }


def _table(records: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| source | images | accuracy | flagged | accuracy unflagged | mistakes flagged | correct flagged |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for source in sorted({r["source"] for r in records}):
        s = _summary([r for r in records if r["source"] == source])
        lines.append(
            f"| {source} | {s['images']} | {100 * s['accuracy']:.1f} % | {s['flagged']} | "
            f"{100 * s['accuracy_unflagged']:.1f} % | {s['mistakes_flagged']} of {s['mistakes']} | "
            f"{s['correct_flagged']} of {s['images'] - s['mistakes']} |"
        )
    s = _summary(records)
    lines.append(
        f"| **all** | {s['images']} | {100 * s['accuracy']:.1f} % | "
        f"{s['flagged']} ({100 * s['flagged_share']:.1f} %) | "
        f"{100 * s['accuracy_unflagged']:.1f} % | {s['mistakes_flagged']} of {s['mistakes']} | "
        f"{s['correct_flagged']} of {s['images'] - s['mistakes']} |"
    )
    return lines


def log_loss(records: list[dict[str, Any]]) -> float:
    p = np.clip([r["probability_synthetic"] for r in records], 1e-7, 1 - 1e-7)
    y = np.array([r["label"] for r in records], float)
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="DATA/real/* and DATA/synthetic/* sources")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--quantile", type=float, default=0.95)
    parser.add_argument(
        "--test", type=Path, action="append", default=[], help="test-only folders (.../real|synthetic/NAME)"
    )
    args = parser.parse_args()
    torch.set_num_threads(2)
    args.out.mkdir(parents=True, exist_ok=True)
    net = RealnessEffNet().eval()
    cache = EmbeddingCache(args.out / "embeddings", 128, 16)
    images = images_of(args.data)
    rows = np.stack([cache.get(net, image) for image in images])
    source = np.array([i.source for i in images])
    nine = np.isin(source, NINE)
    missing = set(NINE) - set(source.tolist())
    if missing:
        raise SystemExit(f"Expected the nine sources under {args.data}; missing {sorted(missing)}.")

    records: list[dict[str, Any]] = []
    for fold in folds(NINE):
        held = np.isin(source, fold)
        train = nine & ~held
        fit, check = _fit(rows[train], [images[i] for i in np.flatnonzero(train)], args.k, args.quantile)
        records += _score(fit, check, rows[held], [images[i] for i in np.flatnonzero(held)], "A")
        print(f"A {'+'.join(fold)}: penalty {fit.penalty:g}, threshold {check.threshold:.4f}", flush=True)
    fit, check = _fit(rows[nine], [images[i] for i in np.flatnonzero(nine)], args.k, args.quantile)
    records += _score(fit, check, rows[~nine], [images[i] for i in np.flatnonzero(~nine)], "B")
    print(f"B: penalty {fit.penalty:g}, threshold {check.threshold:.4f}", flush=True)

    # Control: the nine-source fit is the shipped checkpoint (same recipe, same images).
    mine = fit.calibration.probability(fit.logits(rows[:, 0]))
    control_gap = float(np.abs(shipped_probabilities(rows[:, 0]) - mine).max())

    a = [r for r in records if r["part"] == "A"]
    b = [r for r in records if r["part"] == "B"]
    sa, sb = _summary(a), _summary(b)
    correct_b = sb["images"] - sb["mistakes"]
    conditions = {
        "A: flagged <= 10 % and unflagged accuracy >= accuracy": sa["flagged_share"] <= 0.10
        and sa["accuracy_unflagged"] >= sa["accuracy"],
        "B: >= 50 % of mistakes flagged": sb["mistakes_flagged"] >= 0.5 * sb["mistakes"],
        "B: <= 25 % of correct answers flagged": sb["correct_flagged"] <= 0.25 * correct_b,
    }
    wrong = np.array([r["distance"] for r in b if not r["correct"]])
    right = np.array([r["distance"] for r in b if r["correct"]])
    report = {
        "k": args.k,
        "quantile": args.quantile,
        "control": {
            "A_accuracy": sa["accuracy"],
            "A_log_loss": log_loss(a),
            "A_ece": expected_calibration_error(
                np.array([r["probability_synthetic"] for r in a]), np.array([r["label"] for r in a])
            ),
            "B_fit_vs_shipped_max_probability_gap": control_gap,
        },
        "A": sa,
        "B": sb,
        "B_distance_auc_mistakes_vs_correct": _auc(wrong, right),
        "conditions": conditions,
        "ship": all(conditions.values()),
        "records": records,
    }
    if args.test:
        tests: list[LabelledImage] = []
        for folder in args.test:
            tests += list_source(folder, folder.parent.name, folder.name)
        test_rows = np.stack([cache.get(net, image) for image in tests])
        report["test"] = _score(fit, check, test_rows, tests, "test")
    (args.out / "familiarity.json").write_text(json.dumps(report, indent=1))
    lines = [
        f"# Familiarity round (k = {args.k}, quantile {args.quantile})",
        "",
        f"Control: A accuracy {100 * sa['accuracy']:.1f} %, log loss {report['control']['A_log_loss']:.3f}, "
        f"ECE {report['control']['A_ece']:.3f}; B fit against the shipped checkpoint: largest "
        f"probability gap {control_gap:.5f}.",
        "",
        "## A: the nine sources, leave-one-source-out",
        "",
        *_table(a),
        "",
        "## B: the nine-source fit on sources it never saw",
        "",
        *_table(b),
        "",
        "AUC of the distance for B's mistakes against B's correct answers: "
        f"{report['B_distance_auc_mistakes_vs_correct']:.3f}",
        "",
        "## The rule's conditions",
        "",
        *(f"- {name}: **{'yes' if ok else 'no'}**" for name, ok in conditions.items()),
        "",
        f"Ship the flag: **{'yes' if report['ship'] else 'no'}**",
    ]
    if args.test:
        lines += ["", "## Test-only sources (decide nothing)", "", *_table(report["test"])]
    (args.out / "familiarity.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
