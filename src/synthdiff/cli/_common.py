"""What every synthdiff command shares: the Typer app, the consoles, the error wrapper."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console

from synthdiff.errors import SynthdiffError

__all__ = [
    "SHIPPED_CHANGE_MODELS",
    "app",
    "console",
    "count_progress",
    "friendly_errors",
    "out",
    "print_error",
    "resumable_progress",
    "training_progress",
]

app = typer.Typer(
    name="synthdiff",
    help="Machine-learning comparison of synthetic images: how does a render differ from what it should be?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)
#: The change models whose weights ship, default first, for --help (tests/change/test_cli.py checks it).
SHIPPED_CHANGE_MODELS = "fresunet-wide, fresunet-attention, fresunet, changestar"
#: --device, for every command that runs a model.
DEVICE_HELP = "auto (a GPU when there is one), cpu, cuda or cuda:N."
out = Console()

F = TypeVar("F", bound=Callable[..., Any])


def print_error(error: SynthdiffError) -> None:
    """One readable ``error:`` line on stderr."""
    console.print(f"[bold red]error:[/] {error}", highlight=False, markup=True, soft_wrap=True)


def friendly_errors(function: F) -> F:
    """Turn synthdiff's errors into one line on stderr and exit code 2."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except SynthdiffError as error:
            print_error(error)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def count_progress(label: str) -> Any:
    """A transient progress bar on stderr: label, bar, done/total, time left (a rich ``Progress``)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


@contextmanager
def resumable_progress(label: str, output: Path) -> Iterator[Any]:
    """:func:`count_progress` for resumable work: Ctrl-C says how to resume and exits with 130."""
    with count_progress(label) as bar:
        try:
            yield bar
        except KeyboardInterrupt:
            bar.stop()
            _say_resume(output)


def _say_resume(output: Path) -> NoReturn:
    console.print(f"interrupted: run the same command again to resume from {output}", highlight=False)
    raise typer.Exit(130) from None


@contextmanager
def training_progress(
    epochs: int, output: Path
) -> Iterator[tuple[Callable[[int, int, int, str], None], Callable[[str], None]]]:
    """A training run's progress bar on stderr; Ctrl-C says how to resume and exits with 130.

    Yields:
        ``step(epoch, step, steps, metrics_text)`` to move the bar, and ``line(text)`` to print an
        epoch's summary above it.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("epoch {task.fields[epoch]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[metrics]}"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("train", total=None, epoch=0, metrics="")

        def step(epoch: int, done: int, steps: int, metrics: str) -> None:
            bar.update(task, completed=done, total=steps, epoch=f"{epoch + 1}/{epochs}", metrics=metrics)

        def line(text: str) -> None:
            bar.console.print(text, highlight=False)

        try:
            yield step, line
        except KeyboardInterrupt:
            bar.stop()
            _say_resume(output)
