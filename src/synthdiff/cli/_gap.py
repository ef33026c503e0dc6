"""``synthdiff gap``: how far one image set is from another."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from synthdiff.cli._common import app, counted, friendly_errors, out, resumable_progress
from synthdiff.errors import InvalidArgumentError


@app.command("gap")
@friendly_errors
def gap_command(
    folder_a: Annotated[Path, typer.Argument(help="Reference set (e.g. real photos).")],
    folder_b: Annotated[Path, typer.Argument(help="Set judged against it (e.g. renders).")],
    output: Annotated[Path, typer.Option("--out", "-o", help="Folder for gap.json, index.html and plots.")],
    names: Annotated[str, typer.Option("--names", help="Display names A,B.")] = "A,B",
    max_images: Annotated[
        int | None, typer.Option("--max-images", help="Use at most N images per set (seeded random subset).")
    ] = None,
    cache_dir: Annotated[
        Path | None, typer.Option("--cache-dir", help="Per-image cache (default: ~/.cache/synthdiff/gap).")
    ] = None,
    resamples: Annotated[int, typer.Option("--resamples", help="Random splits for the baseline.")] = 50,
    seed: Annotated[
        int,
        typer.Option(
            "--seed", help="Seed for the subset (--max-images), the resamples and every other random choice."
        ),
    ] = 0,
) -> None:
    """How far set B is from set A, in what way, with intervals and a same-size A-vs-A baseline."""
    from synthdiff.gap import default_cache_dir, gap
    from synthdiff.io import output_folder

    output_folder(output, create=False, page="index.html")  # before the images are read: no work lost
    labels = [n.strip() for n in names.split(",")]
    if len(labels) != 2 or not all(labels) or labels[0] == labels[1]:
        raise InvalidArgumentError(f"Expected --names as two different names A,B, got {names!r}.")
    cache = default_cache_dir() if cache_dir is None else cache_dir
    with resumable_progress(
        "{task.description}", f"the images read so far, which are cached in {cache}"
    ) as bar:
        tasks = {
            key: bar.add_task(f"reading {label}", total=None) for key, label in zip("ab", labels, strict=True)
        }
        report = gap(
            folder_a,
            folder_b,
            names=(labels[0], labels[1]),
            max_images=max_images,
            cache_dir=cache,
            resamples=resamples,
            seed=seed,
            on_progress=lambda key, done, total: bar.update(tasks[key], completed=done, total=total),
            leave_out=[output, cache],  # inside a set's folder, the plots and cache are no images of it
        )
    page = report.save(output)
    results = report.to_dict()
    for key, label in zip("ab", labels, strict=True):
        inv = results["inventory"][key]
        unreadable = len(inv["unreadable"])
        out.print(f"{label}: {counted(inv['images'], 'image')}, {unreadable} unreadable", highlight=False)
    reused = results["cache"]["records_reused"]
    if reused:
        out.print(
            f"measurements of {counted(reused, 'image')} reused from the cache in {cache}", highlight=False
        )
    for note in results["notes"]:
        out.print(f"note: {note}", highlight=False)
    if "status" in results:
        # No file of a set could be read: the report lists why; the exit code says nothing was measured.
        out.print(f"report: {page}", highlight=False)
        raise InvalidArgumentError(f"Expected readable images in both sets, got {results['status']}.")
    else:
        deep = results["deep_features"]
        out.print(deep["status"], highlight=False)
        for name, metric in deep["metrics"].items():
            out.print(
                f"  {name:17s} gap {_summary(metric['gap'])}  baseline {_summary(metric['baseline'])}",
                highlight=False,
            )
        if deep["classifier"]:
            classifier = deep["classifier"]
            low_high = classifier.get("interval")
            interval = f" [{low_high[0]:.3f}, {low_high[1]:.3f}]" if low_high else ""
            out.print(
                f"  classifier AUC {classifier['auc']:.3f}{interval} (0.5: indistinguishable)",
                highlight=False,
            )
    out.print(f"report: {page}", highlight=False)


def _summary(values: dict[str, Any] | None) -> str:
    if values is None:
        return "n/a"
    low, high = values["interval"]
    return f"{values['median']:.4g} [{low:.4g}, {high:.4g}]"
