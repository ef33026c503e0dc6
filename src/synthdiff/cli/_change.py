"""``synthdiff train change`` and ``synthdiff eval change``: thin shells over synthdiff.change."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from synthdiff.cli._common import (
    ALIGN_CHOICES,
    CHANGE_NATIVE_SIZE_HELP,
    DEVICE_HELP,
    PANELS_HELP,
    SHIPPED_CHANGE_MODELS,
    SynthdiffTyper,
    app,
    check_pair_arguments,
    console,
    count_progress,
    friendly_errors,
    image_pair,
    out,
    resumable_progress,
    training_progress,
)

__all__ = ["eval_app", "train_app", "tune_app"]

MODEL_HELP = f"Shipped model name ({SHIPPED_CHANGE_MODELS}) or a checkpoint file."
VIEWS_HELP = (
    "Test-time augmentation: none, flip, flips or dihedral (1, 2, 4 or 8 runs of the model, logits "
    "averaged) (default: the checkpoint's)."
)
MIN_AREA_HELP = (
    "Drop connected changed regions of fewer pixels from the masks (default: the checkpoint's; 0 keeps "
    "every region)."
)
THRESHOLD_HELP = (
    "One change probability threshold for all features (default: the checkpoint's, per feature, "
    "with their low thresholds for hysteresis where it has them)."
)
train_app = SynthdiffTyper(help="Train models.", no_args_is_help=True)
eval_app = SynthdiffTyper(help="Evaluate models.", no_args_is_help=True)
tune_app = SynthdiffTyper(
    help="Choose a trained model's thresholds on validation data.", no_args_is_help=True
)
app.add_typer(train_app, name="train")
app.add_typer(eval_app, name="eval")
app.add_typer(tune_app, name="tune")


def _split_features(values: list[str] | None) -> list[str] | None:
    """``--features a,b`` and ``--features a --features b`` alike (a repeated option would otherwise keep
    only its last value, silently); a name given twice counts once."""
    names = [name.strip() for value in values or [] for name in value.split(",") if name.strip()]
    return list(dict.fromkeys(names)) or None


@train_app.command("change")
@friendly_errors
def train_change_command(
    output: Annotated[Path, typer.Option("--out", "-o", help="Run folder (new, or one to resume).")],
    data: Annotated[
        list[Path] | None, typer.Option("--data", help="Dataset folder from generate (repeatable).")
    ] = None,
    config_file: Annotated[Path | None, typer.Option("--config", help="YAML file of settings.")] = None,
    model: Annotated[str | None, typer.Option("--model", help="fresunet, changestar, ...")] = None,
    features: Annotated[
        list[str] | None,
        typer.Option("--features", help="Label features, comma-separated or repeated (default: the data's)."),
    ] = None,
    epochs: Annotated[
        int | None, typer.Option("--epochs", help="Passes over the training pairs (overrides the config).")
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option("--batch-size", help="Pairs per optimisation step (overrides the config).")
    ] = None,
    learning_rate: Annotated[
        float | None, typer.Option("--lr", help="Learning rate (overrides the config).")
    ] = None,
    crop: Annotated[
        int | None,
        typer.Option(
            "--crop",
            help="Training crop size (0: whole images; default 192, or the data's shorter side if smaller).",
        ),
    ] = None,
    freeze_encoder: Annotated[
        bool | None, typer.Option("--freeze-encoder/--train-encoder", help="Keep changestar's encoder fixed.")
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option("--seed", help="Seed for weights, sampling and augmentation (overrides the config)."),
    ] = None,
    device: Annotated[str | None, typer.Option("--device", help=DEVICE_HELP)] = None,
    init: Annotated[
        str | None,
        typer.Option("--init", help="Start from this checkpoint's weights (a file or a shipped name)."),
    ] = None,
) -> None:
    """Train a change detector on generated datasets; the checkpoint is chosen on the val split.

    Resumable: run the same command again after an interruption.
    """
    from synthdiff.change import load_config, train_change

    overrides: dict[str, Any] = {
        "data": [str(d) for d in data] if data else None,
        "model": model,
        "features": _split_features(features),
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "crop": crop,
        "seed": seed,
        "freeze_encoder": freeze_encoder,
        "device": device,
        "init": init,
    }
    config = load_config(config_file, overrides)
    with training_progress(config.epochs, output) as (step, line):

        def on_step(epoch: int, done: int, steps: int, running: dict[str, float]) -> None:
            step(epoch, done, steps, " ".join(f"{k} {v:.3f}" for k, v in running.items()))

        def on_epoch(entry: dict[str, Any]) -> None:
            losses = " ".join(f"{k[6:]} {v:.3f}" for k, v in entry.items() if k.startswith("train_"))
            best = "  (best)" if entry["best"] else ""
            line(
                f"epoch {entry['epoch'] + 1}/{config.epochs}  {losses}  val change F1 "
                f"{entry['val_change_f1']:.4f}{best}  {entry['seconds']:.0f} s"
            )

        result = train_change(config, output, on_step=on_step, on_epoch=on_epoch)
    out.print(
        f"best epoch {result.best_epoch + 1} with validation change F1 {result.best_score:.4f}; "
        f"checkpoint {Path(output) / 'best.pt'}; change thresholds tuned on val: "
        + ", ".join(f"{name} {value:.2f}" for name, value in result.thresholds.items()),
        highlight=False,
    )


@eval_app.command("change")
@friendly_errors
def eval_change_command(
    checkpoint: Annotated[str, typer.Option("--model", "-m", help=MODEL_HELP)],
    data: Annotated[list[Path], typer.Option("--data", help="Dataset folder from generate (repeatable).")],
    split: Annotated[str, typer.Option("--split", help="train, val or test.")] = "test",
    output: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Write eval.json and eval.md here, and keep each pair's counts as they are made "
            "(results.jsonl), so that an interrupted evaluation resumes.",
        ),
    ] = None,
    threshold: Annotated[float | None, typer.Option("--threshold", help=THRESHOLD_HELP)] = None,
    views: Annotated[str | None, typer.Option("--tta", help=VIEWS_HELP)] = None,
    min_area: Annotated[int | None, typer.Option("--min-area", min=0, help=MIN_AREA_HELP)] = None,
    native_size: Annotated[bool, typer.Option("--native-size", help=CHANGE_NATIVE_SIZE_HELP)] = False,
    device: Annotated[str, typer.Option("--device", help=DEVICE_HELP)] = "auto",
    in_progress: Annotated[
        bool,
        typer.Option(
            "--in-progress",
            help="Also read datasets still being generated, once their --split is complete "
            "(generate renders the val scenes first, then test, then train).",
        ),
    ] = False,
    restart: Annotated[
        bool, typer.Option("--restart", help="Drop the pairs an earlier run kept in --out and start over.")
    ] = False,
) -> None:
    """Score a checkpoint per feature: precision, recall, F1, IoU; none-pair false positives; swap IoU.

    With --out, an interrupted evaluation (Ctrl-C) resumes where it stopped when run again.
    """
    from synthdiff.change import ChangePairs, evaluate, load_checkpoint, resolve_device
    from synthdiff.change._report import markdown_table
    from synthdiff.io import atomic_write_text, json_text, output_folder

    target = resolve_device(device)
    model, metadata = load_checkpoint(checkpoint, device=str(target), views=views)
    pairs = ChangePairs([str(d) for d in data], split, metadata["features"], in_progress=in_progress)
    if threshold is not None:  # one single threshold: no hysteresis
        metadata["thresholds"] = dict.fromkeys(metadata["features"], threshold)
        metadata["low_thresholds"] = dict(metadata["thresholds"])
    if min_area is not None:
        metadata["min_area"] = min_area
    if output is not None:
        output_folder(output, create=False)
    work_size = None if native_size else metadata["train_size"]
    scored = [0]

    with count_progress("scoring pairs") as bar:
        task = bar.add_task("scoring pairs", total=len(pairs))

        def advance(done: int, total: int) -> None:
            scored[0] = done
            bar.update(task, completed=done)

        try:
            result = evaluate(
                model,
                pairs,
                threshold=0.5 if threshold is None else threshold,
                change_thresholds=metadata["thresholds"],
                change_low_thresholds=metadata["low_thresholds"],
                change_min_area=metadata["min_area"],
                device=target,
                check_swap=True,
                on_batch=advance,
                journal_folder=output,
                restart=restart,
                work_size=work_size,
            )
        except KeyboardInterrupt:
            bar.stop()
            kept = (
                f"they are kept in {output / 'results.jsonl'}: run the same command again to go on"
                if output is not None
                else "nothing was kept: pass --out DIR to keep each pair's counts, so that a rerun goes on"
            )
            console.print(f"interrupted after {scored[0]} of {len(pairs)} pairs; {kept}", highlight=False)
            raise typer.Exit(130) from None
    table = markdown_table(result, metadata, split)
    if work_size is not None:
        larger = pairs.count_larger(work_size)
        table += "\n\n" + (
            f"{larger} of {len(pairs)} pairs had a shorter side over {work_size} pixels and ran scaled down "
            "to it, the size the model was trained at (--native-size: at full size)."
            if larger
            else f"No pair is over {work_size} pixels on its shorter side, the size the model was trained "
            "at: every pair ran at its own size."
        )
    out.print(table, highlight=False)
    if output is not None:
        payload = {
            # 1.1 added by_place, 1.2 low_thresholds, 1.3 none_pairs, 1.4 min_area (from the metadata),
            # 1.5 train_size (from the metadata) and work_size
            "schema_version": "1.5",
            "checkpoint": str(checkpoint),
            "split": split,
            **metadata,
            "work_size": work_size,
            **result.to_dict(),
        }
        atomic_write_text(output / "eval.json", json_text(payload))
        atomic_write_text(output / "eval.md", table + "\n")


@tune_app.command("change")
@friendly_errors
def tune_change_command(
    checkpoint: Annotated[str, typer.Option("--model", "-m", help=MODEL_HELP)],
    data: Annotated[
        list[Path], typer.Option("--data", help="Dataset folder from generate (repeatable); val split.")
    ],
    output: Annotated[
        Path, typer.Option("--out", "-o", help="The tuned copy of the model (a new .pt file).")
    ],
    none_data: Annotated[
        list[Path] | None,
        typer.Option("--none-data", help="Dataset of unchanged pairs (repeatable) for --budget; val split."),
    ] = None,
    budget: Annotated[
        float | None,
        typer.Option(
            "--budget", help="Largest share of the unchanged pixels a feature may mark (0.00025: 0.025 %)."
        ),
    ] = None,
    hysteresis: Annotated[
        bool,
        typer.Option(
            "--hysteresis",
            help="Two thresholds per feature: pixels above the low one count where connected to one above "
            "the high one.",
        ),
    ] = False,
    views: Annotated[str | None, typer.Option("--tta", help=VIEWS_HELP)] = None,
    device: Annotated[str, typer.Option("--device", help=DEVICE_HELP)] = "auto",
    restart: Annotated[
        bool, typer.Option("--restart", help="Run the model on every pair again (drop the kept outputs).")
    ] = False,
) -> None:
    """Choose each feature's change threshold(s) for the best F1 on val pairs, within a false-alarm budget.

    Writes a copy of the model that runs with them (OUT) and a record of the choice (x.pt -> x-tune.json).
    Only the val split is read: score the tuned model on test with `eval change`. The model's counts on
    each pair are kept beside OUT (x.pt -> x-tune-journal/) as it goes: run the same command again to
    resume an interrupted tuning, or with another --budget or --data to reuse them.
    """
    from synthdiff.change import (
        ChangePairs,
        load_checkpoint,
        resolve_device,
        store_thresholds,
        tune_change_thresholds,
    )
    from synthdiff.change._report import tune_table
    from synthdiff.change._tune import _check_tuned_path
    from synthdiff.io import atomic_write_text, json_text

    _check_tuned_path(checkpoint, output)  # before the search, not after it
    target = resolve_device(device)
    model, metadata = load_checkpoint(checkpoint, device=str(target), views=views)
    pairs = ChangePairs([str(d) for d in data], "val", metadata["features"])
    unchanged = ChangePairs([str(d) for d in none_data], "val", metadata["features"]) if none_data else None
    journal = output.with_name(output.stem + "-tune-journal")
    with resumable_progress("{task.description}", journal) as bar:
        tasks: dict[str, Any] = {}

        def advance(kind: str, done: int, total: int) -> None:
            if kind not in tasks:
                tasks[kind] = bar.add_task(kind, total=total)
            bar.update(tasks[kind], completed=done)

        result = tune_change_thresholds(
            model,
            pairs,
            unchanged,
            thresholds=metadata["thresholds"],
            low_thresholds=metadata["low_thresholds"],
            budget=budget,
            hysteresis=hysteresis,
            views=metadata["views"],
            device=target,
            on_batch=lambda kind, done, total: advance(f"running the model on the {kind}", done, total),
            on_search=lambda name, done, total: advance(f"two thresholds for {name}", done, total),
            # As detect, compare and eval change run it by default: larger pairs at its training size.
            work_size=metadata["train_size"],
            journal_folder=journal,
            restart=restart,
        )
    store_thresholds(checkpoint, output, result)
    record = output.with_name(output.stem + "-tune.json")
    payload = {"schema_version": "1.0", "model": str(checkpoint), "out": str(output), **result.to_dict()}
    atomic_write_text(record, json_text(payload))
    out.print(tune_table(result, metadata["model"]), highlight=False)
    out.print(f"tuned model: {output}; record: {record}; the model's counts: {journal}/", highlight=False)


@app.command("detect")
@friendly_errors
def detect_command(
    reference: Annotated[Path, typer.Argument(help="Reference image; with --panels, the image of both.")],
    output: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for index.html, detect.json, maps and overlays.")
    ],
    test: Annotated[
        Path | None,
        typer.Argument(
            help="Test image (registered onto the reference first, see --align; none with --panels)."
        ),
    ] = None,
    panels: Annotated[str | None, typer.Option("--panels", help=PANELS_HELP)] = None,
    # Default: synthdiff.change.DEFAULT_MODEL (not imported here: it would load torch for every command).
    checkpoint: Annotated[str, typer.Option("--model", "-m", help=MODEL_HELP)] = "fresunet-wide",
    features: Annotated[
        list[str] | None,
        typer.Option("--features", help="A subset of the model's features, comma-separated or repeated."),
    ] = None,
    threshold: Annotated[float | None, typer.Option("--threshold", help=THRESHOLD_HELP)] = None,
    tile: Annotated[int, typer.Option("--tile", help="Tile size for large images.")] = 256,
    views: Annotated[str | None, typer.Option("--tta", help=VIEWS_HELP)] = None,
    min_area: Annotated[int | None, typer.Option("--min-area", min=0, help=MIN_AREA_HELP)] = None,
    align: Annotated[
        str,
        typer.Option(
            "--align",
            help=f"Registration: {ALIGN_CHOICES} (auto: only where it improves the match; a test image a "
            "pixel off would otherwise read as changed along every edge).",
        ),
    ] = "auto",
    resize: Annotated[
        bool,
        typer.Option("--resize", help="Scale the test image to the reference's size first when they differ."),
    ] = False,
    native_size: Annotated[bool, typer.Option("--native-size", help=CHANGE_NATIVE_SIZE_HELP)] = False,
    device: Annotated[str, typer.Option("--device", help=DEVICE_HELP)] = "auto",
) -> None:
    """Which rendering feature changed where: per-feature change maps, boxes and a JSON summary.

    With --panels, REFERENCE is one image holding both renders side by side or one above the other.
    """
    from synthdiff.change import detect
    from synthdiff.io import output_folder

    check_pair_arguments(test, panels)
    output_folder(output, create=False, page="index.html")  # before the work: a bad place costs none
    result = detect(
        *image_pair(reference, test, panels),
        checkpoint,
        features=_split_features(features),
        threshold=threshold,
        tile=tile,
        views=views,
        min_area=min_area,
        align=align,
        resize=resize,
        out=output,
        device=device,
        native_size=native_size,
    )
    from synthdiff.change._report import min_area_text, threshold_text

    summary = result.to_dict()
    if summary["alignment"] is not None:
        out.print(f"alignment: {summary['alignment']['message']}", highlight=False)
    for name, values in summary["features"].items():
        out.print(
            f"{name:13s} changed {100 * values['changed_fraction']:6.2f} %  regions {values['regions']}",
            highlight=False,
        )
    out.print(
        "change thresholds "
        + threshold_text(summary["thresholds"], summary["low_thresholds"])
        + min_area_text(summary["min_area"]),
        highlight=False,
    )
    if summary["scaled_to"] is not None:
        width, height = summary["scaled_to"]
        out.print(
            f"the model ran on the pair scaled down to {width}x{height}, the size it was trained at "
            "(--native-size: at full size)",
            highlight=False,
        )
    for note in result.notes:
        out.print(f"note: {note}", highlight=False)
    out.print(f"report: {output / 'index.html'} (and detect.json)", highlight=False)
