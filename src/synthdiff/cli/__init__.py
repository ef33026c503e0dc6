"""The ``synthdiff`` command line: thin Typer commands over the public API (no image maths here).

Exit codes: 0 success (and every ``--fail-above``/``--fail-below`` check passed), 1 a check failed,
2 a usage or input error, reported as one readable line.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer

from synthdiff.cli._common import (
    ALIGN_HELP,
    CHANGE_NATIVE_SIZE_HELP,
    DEVICE_HELP,
    PANELS_HELP,
    SHIPPED_CHANGE_MODELS,
    app,
    check_pair_arguments,
    console,
    counted,
    image_pair,
    labelled,
    out,
    resumable_progress,
)
from synthdiff.cli._common import friendly_errors as _friendly_errors
from synthdiff.errors import InvalidArgumentError

__all__ = ["app", "main"]


def _parse_checks(items: list[str], option: str) -> list[tuple[str, float]]:
    from synthdiff.metrics import get_metric_info

    checks = []
    for item in items:
        name, separator, value = item.partition("=")
        if not separator:
            raise InvalidArgumentError(
                f"Expected {option} METRIC=VALUE (for example ssim=0.95), got {item!r}."
            )
        get_metric_info(name.strip())
        try:
            limit = float(value)
        except ValueError:
            raise InvalidArgumentError(f"Expected a number after '=' in {option} {item!r}.") from None
        if math.isnan(limit):  # every comparison with NaN is false: the check could never fail
            raise InvalidArgumentError(f"Expected a number after '=' in {option} {item!r}, got NaN.")
        checks.append((name.strip(), limit))
    return checks


def _parse_background(text: str) -> tuple[float, float, float]:
    parts = text.split(",")
    try:
        values = tuple(float(part) for part in parts)
    except ValueError:
        values = ()
    if len(values) != 3 or not all(v >= 0.0 for v in values):
        raise InvalidArgumentError(
            f"Expected --background as three numbers R,G,B such as 0,0,0 or 1,1,1, got {text!r}."
        )
    return (values[0], values[1], values[2])


def evaluate_checks(
    metrics: dict[str, float | None], above: list[tuple[str, float]], below: list[tuple[str, float]]
) -> list[str]:
    """Messages for every failed threshold check (empty when all pass)."""
    failures = []
    for name, limit in above:
        value = metrics.get(name)
        if value is None:
            failures.append(f"{name} was not computed (needed by --fail-above)")
        elif value > limit:
            failures.append(f"{name} = {value:.6g} is above {limit:g}")
    for name, limit in below:
        value = metrics.get(name)
        if value is None:
            failures.append(f"{name} was not computed (needed by --fail-below)")
        elif value < limit:
            failures.append(f"{name} = {value:.6g} is below {limit:g}")
    return failures


AlignOption = Annotated[str, typer.Option("--align", help=ALIGN_HELP)]
ResizeOption = Annotated[
    bool, typer.Option("--resize", help="Scale the test image to the reference size when they differ.")
]
FastOption = Annotated[bool, typer.Option("--fast", help="Skip FLIP, MS-SSIM and CIEDE2000.")]
NoFlipOption = Annotated[bool, typer.Option("--no-flip", help="Skip FLIP only.")]
NoGlobalOption = Annotated[
    bool,
    typer.Option("--no-global", help="Do not remove a global gain/offset before finding local differences."),
]
SensitivityOption = Annotated[
    float,
    typer.Option(
        "--sensitivity", min=0.01, help="Above 1 reports fainter differences; below 1 only clearer ones."
    ),
]
AlphaOption = Annotated[
    str, typer.Option("--alpha", help="Alpha channels: composite (over --background) or ignore.")
]
BackgroundOption = Annotated[
    str, typer.Option("--background", help="Background R,G,B in [0, 1] for compositing alpha.")
]
MaxPixelsOption = Annotated[
    int,
    typer.Option("--max-pixels", min=1, help="Refuse images with more pixels (decompression-bomb guard)."),
]


@app.command("compare")
@_friendly_errors
def compare_command(
    reference: Annotated[
        Path,
        typer.Argument(help="The reference image (what the test should look like); with --panels, both."),
    ],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Folder for report.json, index.html and panels.")
    ],
    test: Annotated[Path | None, typer.Argument(help="The image to judge (none with --panels).")] = None,
    panels: Annotated[str | None, typer.Option("--panels", help=PANELS_HELP)] = None,
    align: AlignOption = "auto",
    resize: ResizeOption = False,
    fast: FastOption = False,
    no_flip: NoFlipOption = False,
    no_global: NoGlobalOption = False,
    sensitivity: SensitivityOption = 1.0,
    fail_above: Annotated[
        list[str] | None,
        typer.Option("--fail-above", help="METRIC=VALUE: exit 1 if the metric is above VALUE."),
    ] = None,
    fail_below: Annotated[
        list[str] | None,
        typer.Option("--fail-below", help="METRIC=VALUE: exit 1 if the metric is below VALUE."),
    ] = None,
    alpha: AlphaOption = "composite",
    background: BackgroundOption = "0,0,0",
    max_pixels: MaxPixelsOption = 150_000_000,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print nothing but errors and failed checks.")
    ] = False,
    change_model: Annotated[
        str | None,
        typer.Option(
            "--change-model",
            help=f"Shipped model name ({SHIPPED_CHANGE_MODELS}) or a checkpoint: "
            "which feature changed where.",
        ),
    ] = None,
    realness_model: Annotated[
        str,
        typer.Option(
            "--realness-model",
            help="Shipped model name or a checkpoint: how likely each image is a render; none to skip.",
        ),
    ] = "realness-effnet",
    change_native_size: Annotated[
        bool, typer.Option("--change-native-size", help=CHANGE_NATIVE_SIZE_HELP)
    ] = False,
    device: Annotated[
        str, typer.Option("--device", help=f"Where the learned models run: {DEVICE_HELP}")
    ] = "auto",
    luma_border: Annotated[
        int,
        typer.Option(
            "--luma-border",
            min=0,
            help="psnr_y leaves this many pixels out at each edge (super-resolution papers: the upscaling "
            "factor).",
        ),
    ] = 0,
) -> None:
    """Compare a test image with its reference and write a report (JSON, HTML, PNG panels).

    With --panels, REFERENCE is one image holding two pictures side by side or one above the other (a
    spot-the-difference puzzle): the first picture is the reference, the second the test.
    """
    from synthdiff.diff import compare
    from synthdiff.io import output_folder

    check_pair_arguments(test, panels)

    above = _parse_checks(fail_above or [], "--fail-above")
    below = _parse_checks(fail_below or [], "--fail-below")
    skipped = {"flip": "--fast" if fast else "--no-flip" if no_flip else None}
    skipped |= dict.fromkeys(("ms_ssim", "ciede2000"), "--fast" if fast else None)
    for name, _ in above + below:
        if skipped.get(name):
            raise InvalidArgumentError(
                f"Expected the metrics a check needs to be computed, but {skipped[name]} skips {name}. Fix: "
                f"drop {skipped[name]} or the check on {name}."
            )
    output_folder(output, create=False, page="index.html")  # before the comparison: a bad place costs no work
    load_options = {"alpha": alpha, "background": _parse_background(background), "max_pixels": max_pixels}
    pair = image_pair(reference, test, panels, **load_options)
    result = compare(
        *pair,
        align=align,
        resize=resize,
        fast=fast,
        flip_metric=not no_flip,
        compensate_global=not no_global,
        sensitivity=sensitivity,
        alpha=alpha,
        background=_parse_background(background),
        max_pixels=max_pixels,
        change_model=change_model,
        realness_model=None if realness_model.lower() == "none" else realness_model,
        device=device,
        change_native_size=change_native_size,
        luma_border=luma_border,
    )
    page = result.save_report(output)
    if not quiet:
        _print_summary(result)
        out.print(f"report: {page}", highlight=False)
    failures = evaluate_checks(result.metrics, above, below)
    for failure in failures:
        console.print(labelled("check failed:", "bold red", failure), highlight=False)
    if failures:
        raise typer.Exit(1)


def _print_summary(result: Any) -> None:
    from rich.table import Table

    table = Table(title=f"{result.reference_info.path} vs {result.test_info.path}", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in result.metrics.items():
        table.add_row(name, "n/a" if value is None else f"{value:.6g}")
    out.print(table)
    out.print(f"alignment: {result.registration.message}", highlight=False)
    from synthdiff._text import signed

    change = result.global_change
    ev = result.exposure_change_ev
    exposure = "" if ev is None else f", exposure {signed(ev, 2)} EV in linear light"
    if change.estimated and not change.is_significant:
        line = "global change: none (gain and offset move no value by more than 0.5 %)"
    elif change.estimated:
        line = (
            f"global change: brightness {100 * change.brightness_change:+.1f} % "
            f"({'removed' if result.options['global_change_removed'] else 'not removed'})"
        )
    else:
        line = "global change: not estimated (almost every pixel is black or white in one of the images)"
    out.print(line + exposure, highlight=False)
    if change.is_significant and change.colour_shift:
        out.print(f"colour balance: {change.colour_shift}", highlight=False)
    out.print(f"regions that differ: {len(result.regions)}", highlight=False)
    if result.feature_maps is not None:
        from synthdiff.diff import feature_sentence

        sentence = feature_sentence(result.feature_maps.changed_fractions())
        scaled = result.feature_maps.scaled_to
        if scaled is not None:
            sentence += (
                f" (the model ran on the pair scaled down to {scaled[1]}x{scaled[0]}, its training size)"
            )
        out.print(f"rendering features changed: {sentence}", highlight=False)
    if result.realness:
        scores = ", ".join(
            f"{key} {result.realness[key]['probability_synthetic']:.2f} ({result.realness[key]['verdict']})"
            for key in ("reference", "test")
        )
        out.print(f"p(render): {scores}", highlight=False)
    for note in result.notes:
        out.print(f"note: {note}", highlight=False)


@app.command("batch")
@_friendly_errors
def batch_command(
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Folder for summary.csv/json and results.jsonl.")
    ],
    reference_dir: Annotated[
        Path | None,
        typer.Argument(
            help="Folder of reference images (pairs matched by file name), or one reference image "
            "to compare every test image with."
        ),
    ] = None,
    test_dir: Annotated[Path | None, typer.Argument(help="Folder of test images.")] = None,
    pairs_csv: Annotated[
        Path | None, typer.Option("--csv", help="CSV with columns id (optional), reference, test.")
    ] = None,
    workers: Annotated[int, typer.Option("--workers", "-j", min=1, help="Worker processes.")] = 1,
    reports: Annotated[
        bool, typer.Option("--reports", help="Also write a full HTML report per pair.")
    ] = False,
    restart: Annotated[
        bool, typer.Option("--restart", help="Ignore results of an earlier run in OUTPUT.")
    ] = False,
    align: AlignOption = "auto",
    resize: ResizeOption = False,
    fast: FastOption = False,
    no_flip: NoFlipOption = False,
    sensitivity: SensitivityOption = 1.0,
    change_model: Annotated[
        str | None,
        typer.Option(
            "--change-model",
            help=f"Shipped model name ({SHIPPED_CHANGE_MODELS}) or a checkpoint: "
            "which feature changed where, per pair (columns change_<feature>, features_changed).",
        ),
    ] = None,
    change_native_size: Annotated[
        bool, typer.Option("--change-native-size", help=CHANGE_NATIVE_SIZE_HELP)
    ] = False,
    device: Annotated[
        str,
        typer.Option(
            "--device",
            help=f"Where the change model runs: {DEVICE_HELP} On a GPU each worker holds a copy of it.",
        ),
    ] = "auto",
) -> None:
    """Compare many pairs: two folders matched by name, one reference against a folder, or a CSV.

    Resumable; bad pairs are listed and skipped.
    Writes summary.csv, summary.json and index.html (a table of the pairs that sorts by any column).
    """
    from synthdiff.diff import pairs_from_csv, pairs_from_folders, pairs_from_reference, run_batch

    unmatched: list[str] = []
    if pairs_csv is not None:
        if reference_dir is not None or test_dir is not None:
            raise InvalidArgumentError("Give either two folders or --csv, not both.")
        pairs = pairs_from_csv(pairs_csv)
    elif reference_dir is not None and test_dir is not None and reference_dir.is_file():
        # An output folder inside an input one holds this command's own reports: never inputs.
        pairs = pairs_from_reference(reference_dir, test_dir, leave_out=[output])
    elif reference_dir is not None and test_dir is not None:
        pairs, unmatched = pairs_from_folders(reference_dir, test_dir, leave_out=[output])
    else:
        raise InvalidArgumentError(
            "Expected REFERENCE_DIR and TEST_DIR (or one REFERENCE image and TEST_DIR), or --csv PAIRS.csv."
        )
    with resumable_progress("comparing", Path(output)) as bar:
        task = bar.add_task("pairs", total=len(pairs))
        result = run_batch(
            pairs,
            output,
            workers=workers,
            reports=reports,
            restart=restart,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            unmatched=unmatched,
            align=align,
            resize=resize,
            fast=fast,
            flip_metric=not no_flip,
            sensitivity=sensitivity,
            change_model=change_model,
            device=device,
            change_native_size=change_native_size,
        )
    out.print(
        # Pairs that failed are always tried in this run (never resumed), so they count among `compared`.
        f"{counted(len(result.rows), 'pair')}: "
        f"{result.compared - result.failed} compared now, {result.resumed} from an "
        f"earlier run, {result.failed} could not be compared",
        highlight=False,
    )
    for row in result.rows:
        if row["status"] != "ok":
            console.print(labelled("skipped", "yellow", f"{row['id']}: {row['error']}"), highlight=False)
    for path in unmatched:
        console.print(labelled("no partner", "yellow", path), highlight=False)
    if result.compared and result.workers < workers:
        out.print(
            f"note: {counted(result.workers, 'worker')} ran, not {workers}: at most one per CPU core and per "
            "pair to compare (each holds its own images and maps)",
            highlight=False,
        )
    out.print(f"summary: {Path(output) / 'summary.csv'}", highlight=False)
    out.print(f"table: {Path(output) / 'index.html'}", highlight=False)


@app.command("demo")
@_friendly_errors
def demo_command(
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for the demo reports.")] = Path(
        "synthdiff-demo"
    ),
) -> None:
    """Compare the bundled example renders and say where the reports are."""
    from rich.table import Table

    from synthdiff.demo import run_demo

    table = Table(title="synthdiff demo: bundled example renders", title_justify="left")
    for column in (
        "example",
        "what differs",
        "regions",
        "SSIM",
        "FLIP",
        "changed features (model, % of picture)",
    ):
        table.add_column(column, justify="right" if column in ("regions", "SSIM", "FLIP") else "left")
    cases = run_demo(output)
    for case in cases:
        marked = (
            ", ".join(f"{name} {100 * fraction:.0f} %" for name, fraction in case.marked_features()) or "-"
        )
        verdict = {True: "right", False: "wrong", None: ""}[case.named_right]
        table.add_row(
            case.name,
            case.description + (f" ({case.expected})" if case.expected else ""),
            str(case.regions),
            f"{case.ssim:.4f}",
            f"{case.flip:.4f}",
            marked + (f": {verdict}" if verdict else ""),
        )
    out.print(table)
    for case in cases:
        if case.named_right is False:
            why = (
                " (a moved light moves every highlight, which it takes for changed materials)"
                if case.expected == "illumination"
                else ""
            )
            out.print(
                f"The change detector marks {case.feature} most on {case.name}, where only {case.expected} "
                f"changed: a known failure of the shipped model{why}; docs/models.md, 'Wrong feature'.",
                highlight=False,
            )
    out.print("Reports (open index.html in a browser; report.json holds every number):", highlight=False)
    for case in cases:
        out.print(f"  {case.report}", highlight=False)


# Commands in their own modules register themselves on ``app`` when imported.
from synthdiff.cli import _change, _gap, _generate, _realness, _study  # noqa: E402, F401


def main() -> None:
    """Entry point of the ``synthdiff`` command."""
    app(prog_name="synthdiff")


if __name__ == "__main__":  # pragma: no cover
    main()
