"""Leave-one-source-out of the frozen ``realness-effnet`` recipe with crops of one or more sizes side by side.

The rule: docs/training-logs/realness/scales-round-rule.md. Each image's features are the mean
embeddings of its scoring grid at every ``--crop`` size (16 crops each, native resolution), concatenated;
the head, its penalty and its calibration are fitted exactly as the shipped recipe fits them
(``fit_image_head``). Every source (or group) is held out in turn, then the final model is fitted on all,
and the three conditions of the rule are checked. ``--test`` folders are scored by the final model (after
the decision), and ``--gate`` scores a folder with the final model and the shipped checkpoint.

    python scripts/realness_scales.py --data data/realness-photos-round --out runs/familiarity \\
        --crop 128 --crop 224
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

# scripts/ is on sys.path when this runs as a script; the tests load realness_familiarity first.
from realness_familiarity import (  # type: ignore[import-not-found]
    NINE,
    folds,
    image_record,
    images_of,
    log_loss,
    shipped_probabilities,
)

from synthdiff.realness import load_realness_model
from synthdiff.realness._calibration import expected_calibration_error
from synthdiff.realness._data import LabelledImage, list_source
from synthdiff.realness._image_head import EmbeddingCache, HeadFit, fit_image_head
from synthdiff.realness._model import RealnessEffNet

ENGINES = ("eevee", "mitsuba", "povray-examples", "vtk")


def features(
    cache_folder: Path, crops: Sequence[int], net: RealnessEffNet, images: Sequence[LabelledImage]
) -> np.ndarray:
    """(N, 5, 1280 * len(crops)): each image's mean embeddings at every crop size, side by side."""
    caches = [EmbeddingCache(cache_folder, crop, 16) for crop in crops]
    return np.stack([np.concatenate([c.get(net, image) for c in caches], axis=-1) for image in images])


def records(
    fit: HeadFit, rows: np.ndarray, images: Sequence[LabelledImage], fold: str
) -> list[dict[str, Any]]:
    """Per-image scores of the decoded rows (variant 0) and of the JPEG 75 rows (variant 2)."""
    decoded = fit.calibration.probability(fit.logits(rows[:, 0]))
    jpeg75 = fit.calibration.probability(fit.logits(rows[:, 2]))
    return [
        {"fold": fold, **image_record(image, p, probability_synthetic_jpeg75=round(float(q), 5))}
        for image, p, q in zip(images, decoded, jpeg75, strict=True)
    ]


def _accuracy(rows: list[dict[str, Any]]) -> float:
    return float(np.mean([r["correct"] for r in rows])) if rows else float("nan")


def conditions(held: list[dict[str, Any]]) -> dict[str, Any]:
    """The rule's three conditions on the pooled held-out records."""
    engines = {name: _accuracy([r for r in held if r["source"] == name]) for name in ENGINES}
    nine = [r for r in held if r["source"] in NINE]
    photos = [r for r in nine if r["label"] == 0]
    mean_engines = float(np.mean(list(engines.values())))
    return {
        "engines": engines,
        "engines_mean": mean_engines,
        "nine_accuracy": _accuracy(nine),
        "nine_log_loss": log_loss(nine),
        "nine_ece": expected_calibration_error(
            np.array([r["probability_synthetic"] for r in nine]), np.array([r["label"] for r in nine])
        ),
        "photos_accuracy": _accuracy(photos),
        "photos": f"{sum(r['correct'] for r in photos)} of {len(photos)}",
        "pass": {
            "unseen engines >= 91.7 %": mean_engines >= 0.917,
            "nine sources >= 96.0 % and log loss <= 0.15": _accuracy(nine) >= 0.96 and log_loss(nine) <= 0.15,
            "photos >= 95 %": _accuracy(photos) >= 0.95,
        },
    }


def _table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| source | class | images | accuracy | after JPEG 75 | mean p(synthetic) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for source in sorted({r["source"] for r in rows}):
        part = [r for r in rows if r["source"] == source]
        jpeg = np.mean([(r["probability_synthetic_jpeg75"] >= 0.5) == bool(r["label"]) for r in part])
        lines.append(
            f"| {source} | {'synthetic' if part[0]['label'] else 'real'} | {len(part)} | "
            f"{100 * _accuracy(part):.1f} % | {100 * jpeg:.1f} % | "
            f"{np.mean([r['probability_synthetic'] for r in part]):.3f} |"
        )
    return lines


def _leave_one_source_out(
    rows: np.ndarray, images: Sequence[LabelledImage]
) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Held-out records of every fold (each source or group scored by a head fitted on the others)."""
    source = np.array([i.source for i in images])
    held: list[dict[str, Any]] = []
    penalties: dict[str, float] = {}
    for fold in folds(sorted(set(source.tolist()))):
        out = np.isin(source, fold)
        fit = fit_image_head(rows[~out], [images[i] for i in np.flatnonzero(~out)])
        name = "+".join(fold)
        penalties[name] = fit.penalty
        held += records(fit, rows[out], [images[i] for i in np.flatnonzero(out)], name)
        accuracy = _accuracy(held[-int(out.sum()) :])
        print(f"{name}: penalty {fit.penalty:g}, held-out accuracy {100 * accuracy:.1f} %", flush=True)
    return held, penalties


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="DATA/real/* and DATA/synthetic/* sources")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--crop", type=int, action="append", required=True, help="crop size (repeat for more)"
    )
    parser.add_argument(
        "--test", type=Path, action="append", default=[], help="test-only .../LABEL/NAME folders"
    )
    parser.add_argument(
        "--final-only",
        action="store_true",
        help="skip the folds: fit the final model, score --test and --gate",
    )
    parser.add_argument(
        "--gate", type=Path, help="a .../LABEL/NAME folder scored by the final and the shipped model"
    )
    parser.add_argument(
        "--backbone", default="lite0", help="EfficientNet-Lite variant of the embeddings: lite0, lite1, lite2"
    )
    args = parser.parse_args()
    torch.set_num_threads(2)
    net = RealnessEffNet(backbone=args.backbone).eval()
    images = images_of(args.data)
    rows = features(args.out / "embeddings", args.crop, net, images)
    tag, crops = "-".join(map(str, args.crop)), " + ".join(map(str, args.crop))
    if args.backbone != "lite0":
        tag, crops = f"{tag}-{args.backbone}", f"{crops}, EfficientNet-{args.backbone.title()}"
    final = fit_image_head(rows, images)
    report: dict[str, Any] = {
        "crops": args.crop,
        "final": {"penalty": final.penalty, "scale": final.calibration.scale, "bias": final.calibration.bias},
    }
    lines = [
        f"Final model (crops {crops}, {len(images)} images): penalty {final.penalty:g}, "
        f"calibration scale {final.calibration.scale:.3f}, bias {final.calibration.bias:.3f}."
    ]
    if not args.final_only:
        held, penalties = _leave_one_source_out(rows, images)
        verdict = conditions(held)
        report |= {"penalties": penalties, **verdict, "records": held}
        lines = [
            f"# Frozen `realness-effnet` recipe, crops {crops}: leave-one-source-out",
            "",
            *_table(held),
            "",
            f"Unseen engines: {', '.join(f'{k} {100 * v:.1f} %' for k, v in verdict['engines'].items())}; "
            f"mean {100 * verdict['engines_mean']:.1f} %.",
            f"The nine earlier sources: {100 * verdict['nine_accuracy']:.1f} %, "
            f"log loss {verdict['nine_log_loss']:.3f}, ECE {verdict['nine_ece']:.3f}. "
            f"Their photos: {verdict['photos']} ({100 * verdict['photos_accuracy']:.1f} %).",
            *lines,
            "",
            *(f"- {name}: **{'yes' if ok else 'no'}**" for name, ok in verdict["pass"].items()),
        ]
    if args.test:
        tests = [i for folder in args.test for i in list_source(folder, folder.parent.name, folder.name)]
        report["test"] = records(
            final, features(args.out / "embeddings", args.crop, net, tests), tests, "final"
        )
        lines += ["", "## Test-only sources, final model (decide nothing)", "", *_table(report["test"])]
    if args.gate:
        gate = list_source(args.gate, args.gate.parent.name, args.gate.name)
        candidate = records(final, features(args.out / "embeddings", args.crop, net, gate), gate, "final")
        # The shipped model reads its own backbone's embeddings, whatever the candidate's.
        shipped = cast(RealnessEffNet, load_realness_model("realness-effnet").net)
        reads = shipped.backbone_variant
        shipped_net = net if args.backbone == reads else shipped
        base = features(args.out / "embeddings", [128], shipped_net, gate)[:, 0]
        labels = np.array([i.label for i in gate], bool)
        shipped_correct = (shipped_probabilities(base, reads) >= 0.5) == labels
        report["gate"] = {"candidate": _accuracy(candidate), "shipped": float(shipped_correct.mean())}
        lines += ["", f"Gate {args.gate.name}: candidate {100 * report['gate']['candidate']:.1f} %, shipped "
                  f"{100 * report['gate']['shipped']:.1f} %."]  # fmt: skip
    name = f"scales-{tag}{'-final' if args.final_only else ''}"
    (args.out / f"{name}.json").write_text(json.dumps(report, indent=1))
    (args.out / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
