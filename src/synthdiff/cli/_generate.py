"""``synthdiff generate``: labelled render pairs made with Blender."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from synthdiff.cli._common import app, console, count_progress, counted, friendly_errors, out
from synthdiff.errors import InvalidArgumentError

__all__ = ["generate_command"]


def _parse_split(text: str) -> tuple[float, float, float]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 3:
        raise InvalidArgumentError(
            f"Expected --split as three fractions TRAIN,VAL,TEST such as 0.8,0.1,0.1, got {text!r}."
        )
    return (values[0], values[1], values[2])


@app.command("generate")
@friendly_errors
def generate_command(
    feature: Annotated[
        str,
        typer.Option(
            "--feature",
            "-f",
            help=(
                "What differs: illumination, reflection, texture, transparency, mixed, all, objects, none, "
                "combined."
            ),
        ),
    ],
    output: Annotated[Path, typer.Option("--out", "-o", help="Dataset folder (new, or one to resume).")],
    scenes: Annotated[int, typer.Option("--scenes", "-n", help="Reference scenes.")] = 10,
    variants: Annotated[int, typer.Option("--variants", "-k", help="Test renders per reference.")] = 19,
    size: Annotated[str, typer.Option("--size", help="Image size: N or WxH.")] = "256",
    samples: Annotated[
        int, typer.Option("--samples", help="Cycles samples per pixel (16+ for reflection).")
    ] = 8,
    seed: Annotated[int, typer.Option("--seed", help="Seed: same seed and options, same dataset.")] = 0,
    scene_file: Annotated[
        Path | None,
        typer.Option("--scene", help="Vary this .blend file (needs a camera) instead of random scenes."),
    ] = None,
    workers: Annotated[int, typer.Option("--workers", "-j", help="Blender worker processes.")] = 1,
    denoise: Annotated[
        bool, typer.Option("--denoise/--no-denoise", help="Denoise the images (not the passes).")
    ] = True,
    split: Annotated[str, typer.Option("--split", help="Scene fractions TRAIN,VAL,TEST.")] = "0.8,0.1,0.1",
    save_scenes: Annotated[
        bool, typer.Option("--save-scenes", help="Also save each reference scene as scenes/ID/scene.blend.")
    ] = False,
    view_transform: Annotated[
        str | None,
        typer.Option(
            "--view-transform",
            help="AgX, Standard, Filmic, 'Khronos PBR Neutral', or mixed (one of the first three per scene). "
            "Default: AgX, or the --scene file's own.",
        ),
    ] = None,
) -> None:
    """Render labelled reference/test pairs with Blender: one feature changed, labels from render passes.

    Resumable: run the same command again to finish an interrupted dataset.
    """
    from synthdiff.synth import GenerateOptions, generate, parse_size

    width, height = parse_size(size)
    options = GenerateOptions(
        feature=feature,
        scenes=scenes,
        variants=variants,
        width=width,
        height=height,
        samples=samples,
        seed=seed,
        scene_file=str(scene_file) if scene_file is not None else None,
        denoise=denoise,
        split=_parse_split(split),
        save_scenes=save_scenes,
        view_transform=view_transform,
    )
    with count_progress(f"rendering {feature} pairs") as bar:
        task = bar.add_task("pairs", total=scenes * variants)
        try:
            result = generate(
                options,
                output,
                workers=workers,
                on_pair=lambda done, total: bar.update(task, completed=done, total=total),
            )
        except KeyboardInterrupt:
            bar.stop()
            console.print(
                f"interrupted: the finished pairs are kept in {output}; run the same command again to resume",
                highlight=False,
            )
            raise typer.Exit(130) from None
    splits = ", ".join(f"{name} {count}" for name, count in result.splits.items())
    out.print(
        f"{counted(result.pairs, 'pair')} in {result.out} ({splits}); {result.rendered} rendered now in "
        f"{result.seconds:.0f} s ({result.pairs_per_minute:.1f} pairs/min)",
        highlight=False,
    )
    out.print(
        f"manifest: {result.out / 'manifest.jsonl'}  card: {result.out / 'README.md'}",
        highlight=False,
    )
    if result.rendered and result.workers < workers:
        out.print(
            f"note: {counted(result.workers, 'Blender worker')} ran, not {workers}: at most one per CPU core "
            "and per scene left to render (each holds a Blender of its own, about 0.5 GB)",
            highlight=False,
        )
