"""``synthdiff realness``, ``synthdiff realness-bench`` and ``synthdiff train realness``."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from synthdiff.cli._change import train_app
from synthdiff.cli._common import (
    DEVICE_HELP,
    app,
    console,
    counted,
    friendly_errors,
    labelled,
    out,
    print_error,
    resumable_progress,
    training_progress,
)
from synthdiff.errors import InvalidArgumentError

if TYPE_CHECKING:
    from rich.console import Console

MODEL_HELP = (
    "Shipped model name (realness-effnet, the default, which reads EfficientNet-Lite2 features; "
    "realness-cnn) or a checkpoint from train realness."
)
# Written out so that --help does not import torch; tests/realness/test_cli.py checks it lists MODELS.
TRAIN_MODEL_HELP = (
    "realness-cnn, realness-effnet, realness-effnet-levels, realness-effnet-mlp, realness-effnet-traces, "
    "realness-effnet-tuned, realness-effnet-lite1 (needs the backbones extra), realness-effnet-lite2 "
    "(the shipped default's recipe) or realness-tiny."
)
# realness-bench prints the loader notes of this many images; the page and scores.csv hold them all.
NOTES_PRINTED = 10


@app.command("realness")
@friendly_errors
def realness_command(
    images: Annotated[
        list[Path],
        typer.Argument(help="Images to score (any size, any format synthdiff reads), or folders of them."),
    ],
    model_spec: Annotated[str, typer.Option("--model", "-m", help=MODEL_HELP)] = "realness-effnet",
    heatmap: Annotated[
        Path | None,
        typer.Option("--heatmap", help="Write NAME_realness.png overlays (every crop scored) here."),
    ] = None,
    json_out: Annotated[
        Path | None,
        typer.Option("--json", help="Write the scores as JSON to this file ('-': stdout, lines to stderr)."),
    ] = None,
    stability: Annotated[
        bool,
        typer.Option("--stability/--no-stability", help="Also score a JPEG-90 copy and a 1-pixel shift."),
    ] = True,
    device: Annotated[str, typer.Option("--device", help=DEVICE_HELP)] = "auto",
) -> None:
    """How likely each image is a render rather than a camera photo (calibrated probability).

    A folder stands for the images under it (recursively, sorted). With --json FILE, an interrupted run
    (Ctrl-C) writes the scores it has; the same command then scores only the rest.
    """
    from synthdiff.io import atomic_write_text, json_text, output_folder
    from synthdiff.realness import FileScores, interrupted_scores, load_realness_model, score_files

    images = _expand_folders(images, leave_out=[] if heatmap is None else [heatmap])
    if heatmap is not None:  # before any scoring: a bad place costs no work
        output_folder(heatmap, create=False, option="--heatmap")
    to_stdout = json_out == Path("-")  # the JSON alone on stdout, for a pipe; the lines go to stderr
    lines = console if to_stdout else out
    if to_stdout:
        json_out = None
    if json_out is not None and json_out.is_dir():
        raise InvalidArgumentError(f"Expected --json to name a file, but '{json_out}' is a folder.")
    model = load_realness_model(model_spec, device=device)
    settings = {"stability": stability, "heatmap": None if heatmap is None else str(heatmap)}
    scores = FileScores(str(model_spec), model.name, model.checkpoint_sha256, settings)
    earlier = interrupted_scores(json_out, model.checkpoint_sha256, settings) if json_out else {}
    try:
        for scored in score_files(model, images, stability=stability, heatmap_dir=heatmap, earlier=earlier):
            scores.add(scored)
            if scored.error is not None:  # one bad file among many: said, the rest scored, exit 2 at the end
                print_error(scored.error)
            elif scored.result is not None and not scored.resumed:
                _print_score(scored.path, scored.result, lines)
    except KeyboardInterrupt:
        scores.complete = False
    if scores.resumed:
        out.print(
            f"{counted(scores.resumed, 'score')} taken from the interrupted run in {json_out}",
            highlight=False,
        )
    if json_out is not None:
        atomic_write_text(json_out, json_text(scores.to_dict()), protected=images)
    elif to_stdout:
        sys.stdout.write(json_text(scores.to_dict()))
        sys.stdout.flush()
    if not scores.complete:
        where = (
            f"; the scores so far are in {json_out}, and the same command scores the rest" if json_out else ""
        )
        console.print(
            f"interrupted: {len(scores.images)} of {counted(len(images), 'image')} scored{where}",
            highlight=False,
        )
        raise typer.Exit(130)
    if scores.errors:
        scored_text = "the others were scored" if scores.images else "nothing was scored"
        unread = f"{len(scores.errors)} of {counted(len(images), 'image')} could not be read"
        console.print(f"{unread}; {scored_text}.", highlight=False)
        raise typer.Exit(2)


def _print_score(path: Path, result: dict[str, Any], lines: Console) -> None:
    """The probability, verdict and reasons, then what the loader changed (it bears on the score) and
    where the heatmap went."""
    reasons = f"  ({'; '.join(result['reasons'])})" if result["reasons"] else ""
    lines.print(
        f"{result['probability_synthetic']:6.3f}  {result['verdict']:9s}  {path}{reasons}", highlight=False
    )
    for note in result["notes"]:
        lines.print(f"       note: {note}", highlight=False)
    if "heatmap" in result:
        lines.print(f"       heatmap: {result['heatmap']}", highlight=False)


def _expand_folders(paths: list[Path], leave_out: list[Path]) -> list[Path]:
    """Each folder replaced by the images under it (but those under ``leave_out``, the heatmaps of an
    earlier run); files stay as given (a bad one is reported later). A file named twice (directly, or
    also inside a folder given) is scored once, where it first comes."""
    from synthdiff.io import images_in_folder

    expanded: list[Path] = []
    seen: set[Path] = set()
    for path in paths:
        for image in images_in_folder(path, leave_out=leave_out) if path.is_dir() else [path]:
            if image.resolve() not in seen:
                seen.add(image.resolve())
                expanded.append(image)
    return expanded


@app.command("realness-bench")
@friendly_errors
def realness_bench_command(
    folders: Annotated[list[Path], typer.Argument(help="Folders of images (searched recursively).")],
    labels: Annotated[
        list[str],
        typer.Option("--label", help="real or synthetic: one for all folders, or one per folder in order."),
    ],
    output: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for index.html, bench.json, scores.csv, mistakes.png.")
    ],
    model_spec: Annotated[str, typer.Option("--model", "-m", help=MODEL_HELP)] = "realness-effnet",
    restart: Annotated[
        bool, typer.Option("--restart", help="Score every image again, ignoring an earlier run in --out.")
    ] = False,
    device: Annotated[str, typer.Option("--device", help=DEVICE_HELP)] = "auto",
) -> None:
    """Accuracy (and AUC with both labels) of the realness model on labelled folders, with intervals.

    Resumable: after an interruption, the same command scores only the images not yet scored.
    Unreadable images are listed and skipped.
    """
    from synthdiff.io import output_folder
    from synthdiff.realness import evaluate_images, list_source, load_realness_model
    from synthdiff.realness._evaluate import ECE_INTERVAL_MIN_IMAGES
    from synthdiff.realness._report import write_bench

    if len(labels) not in (1, len(folders)):
        raise InvalidArgumentError(
            f"Expected one --label for all folders or one per folder, "
            f"got {len(labels)} for {counted(len(folders), 'folder')}."
        )
    output_folder(output, create=False, page="index.html")  # before the scoring: a bad place costs no work
    pairs = zip(folders, labels * len(folders) if len(labels) == 1 else labels, strict=False)
    # --out inside a folder holds mistakes.png, which is no image of the benchmark.
    images = [image for folder, label in pairs for image in list_source(folder, label, leave_out=[output])]
    model = load_realness_model(model_spec, device=device)
    with resumable_progress("scoring", output) as bar:
        task = bar.add_task("bench", total=len(images))
        evaluation = evaluate_images(
            model,
            images,
            on_image=lambda done, total: bar.update(task, completed=done),
            skip_unreadable=True,
            journal=output,
            restart=restart,
        )
    identity: dict[str, object] = {
        "spec": str(model_spec),
        "name": model.name,
        "checkpoint_sha256": model.checkpoint_sha256,
    }
    write_bench(evaluation, output, identity)
    summary = evaluation.summary

    def interval(key: str) -> str:
        bounds = summary.get(key)
        return f" [{bounds[0]:.3f}, {bounds[1]:.3f}]" if bounds else ""

    auc = (
        "n/a (one class)"
        if summary["auc"] is None
        else f"{summary['auc']:.3f}{interval('auc_interval')} (95% score interval)"
    )
    ece = (
        f"{interval('ece_interval')} (95% bootstrap)"
        if summary["ece_interval"]
        else f" (no interval under {ECE_INTERVAL_MIN_IMAGES} images)"
    )
    out.print(
        f"{counted(summary['images'], 'image')} ({summary['real']} real, {summary['synthetic']} synthetic): "
        "accuracy "
        f"{summary['accuracy']:.3f}{interval('accuracy_interval')} (95% Wilson), AUC {auc}, "
        f"ECE {summary['ece']:.3f}{ece}, accuracy after JPEG 75 {summary['accuracy_jpeg75']:.3f}",
        highlight=False,
    )
    for source, values in summary["per_source"].items():
        out.print(
            f"  {source:24s} {values['label']:9s} {counted(values['images'], 'image'):>12s}  "
            f"accuracy {values['accuracy']:.3f}",
            highlight=False,
        )
    if evaluation.resumed:
        out.print(
            f"{counted(evaluation.resumed, 'score')} taken from an earlier run in {output}", highlight=False
        )
    noted = [r for r in evaluation.images if r.notes]
    for result in noted[:NOTES_PRINTED]:
        out.print(f"note: {result.path}: {'; '.join(result.notes)}", highlight=False)
    if len(noted) > NOTES_PRINTED:
        out.print(
            f"note: {len(noted) - NOTES_PRINTED} more images with loader notes (index.html, scores.csv)",
            highlight=False,
        )
    for skipped in evaluation.skipped:
        console.print(labelled("skipped", "yellow", skipped.error), highlight=False)
    out.print(f"report: {output / 'index.html'} (and bench.json, scores.csv)", highlight=False)


@train_app.command("realness")
@friendly_errors
def train_realness_command(
    output: Annotated[Path, typer.Option("--out", "-o", help="Run folder (new, or one to resume).")],
    real: Annotated[
        list[str] | None, typer.Option("--real", help="Folder of camera photos ([NAME=]DIR, repeatable).")
    ] = None,
    synthetic: Annotated[
        list[str] | None, typer.Option("--synthetic", help="Folder of renders ([NAME=]DIR, repeatable).")
    ] = None,
    config_file: Annotated[Path | None, typer.Option("--config", help="YAML file of settings.")] = None,
    model: Annotated[str | None, typer.Option("--model", help=TRAIN_MODEL_HELP)] = None,
    cues: Annotated[
        str | None, typer.Option("--cues", help="Comma-separated: fourier, rgb, residual.")
    ] = None,
    head: Annotated[
        str | None,
        typer.Option(
            "--head",
            help="crops (SGD on crops) or images (realness-effnet models: head on whole-image "
            "embeddings, penalty and calibration by leave-one-source-out).",
        ),
    ] = None,
    crop: Annotated[
        int | None, typer.Option("--crop", help="Crop side in pixels (native resolution).")
    ] = None,
    max_patches: Annotated[
        int | None, typer.Option("--max-patches", help="Crops scored per image at most.")
    ] = None,
    epochs: Annotated[
        int | None, typer.Option("--epochs", help="Training epochs (overrides the config).")
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option("--seed", help="Seed for weights, crops and the val split (overrides the config)."),
    ] = None,
    device: Annotated[str | None, typer.Option("--device", help=DEVICE_HELP)] = None,
) -> None:
    """Train the real-vs-synthetic classifier; the epoch is chosen and the calibration fitted on val.

    Resumable: run the same command again after an interruption.
    """
    from synthdiff.realness import load_realness_config, train_realness

    overrides: dict[str, Any] = {
        "real": real or None,
        "synthetic": synthetic or None,
        "model": model,
        "cues": [c.strip() for c in cues.split(",") if c.strip()] if cues else None,
        "head": head,
        "crop": crop,
        "max_patches": max_patches,
        "epochs": epochs,
        "seed": seed,
        "device": device,
    }
    config = load_realness_config(config_file, overrides)
    if config.head == "images":
        result = train_realness(
            config, output, on_epoch=lambda e: out.print(f"scored held-out source {e['held_out_source']}")
        )
        out.print(
            f"penalty {result.penalty:.2g} (out-of-source log loss {result.best_loss:.4f}); calibration "
            f"scale {result.calibration.scale:.3f} bias {result.calibration.bias:.3f}; checkpoint "
            f"{output / 'best.pt'}",
            highlight=False,
        )
        if result.best_loss >= math.log(2):
            out.print(
                "warning: on training sources it did not see, this head does no better than a coin "
                "(log loss >= ln 2), so its probabilities stay near 0.5. Fix: add more, and more "
                "varied, sources of each class.",
                highlight=False,
            )
        return
    with training_progress(config.epochs, output) as (step, line):

        def on_step(epoch: int, done: int, steps: int, loss: float) -> None:
            step(epoch, done, steps, f"loss {loss:.3f}")

        def on_epoch(entry: dict[str, Any]) -> None:
            best = "  (best)" if entry["best"] else ""
            line(
                f"epoch {entry['epoch'] + 1}/{config.epochs}  loss {entry['train_loss']:.3f}  val loss "
                f"{entry['val_loss']:.3f}  val crop accuracy {entry['val_crop_accuracy']:.3f}{best}  "
                f"{entry['seconds']:.0f} s"
            )

        result = train_realness(config, output, on_step=on_step, on_epoch=on_epoch)
    out.print(
        f"best epoch {result.best_epoch + 1} (validation loss {result.best_loss:.4f}); calibration scale "
        f"{result.calibration.scale:.3f} bias {result.calibration.bias:.3f}; checkpoint {output / 'best.pt'}",
        highlight=False,
    )
