"""What every synthdiff command shares: the Typer app, the consoles, the error wrapper."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console

from synthdiff.errors import SynthdiffError

__all__ = ["app", "console", "count_progress", "friendly_errors", "out"]

app = typer.Typer(
    name="synthdiff",
    help="Machine-learning comparison of synthetic images: how does a render differ from what it should be?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)
out = Console()

F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(function: F) -> F:
    """Turn synthdiff's errors into one line on stderr and exit code 2."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except SynthdiffError as error:
            console.print(f"[bold red]error:[/] {error}", highlight=False, markup=True, soft_wrap=True)
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
