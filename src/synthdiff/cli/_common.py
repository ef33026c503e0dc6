"""What every synthdiff command shares: the Typer app, the consoles, the error wrapper."""

from __future__ import annotations

import errno
import functools
import io
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from time import monotonic
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from synthdiff.errors import OutputError, SynthdiffError

__all__ = [
    "SHIPPED_CHANGE_MODELS",
    "SynthdiffTyper",
    "app",
    "console",
    "count_progress",
    "counted",
    "friendly_errors",
    "labelled",
    "out",
    "print_error",
    "resumable_progress",
    "training_progress",
]


class _RepeatNotingCommand(typer.core.TyperCommand):
    """A command that says so when an option that takes one value is given twice with different values.

    Click keeps the last value, as most command lines do (so a script can override an option it set
    earlier), but silently: ``--align none ... --align auto`` ran with ``auto`` and nothing said why.
    The last value is still used; a note on stderr names the option and that value.
    """

    # ctx typed Any: Typer 0.28 carries its own copy of Click, whose classes are not public.
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        given = list(args)  # Click's parser consumes the list it is given
        rest = super().parse_args(ctx, args)
        # Parsed again to count: Click lists an option in ``order`` once per time it was given.
        _, _, order = self.make_parser(ctx).parse_args(args=list(given))
        times = Counter(param.name for param in order if param.param_type_name == "option")
        for param in self.params:
            if param.multiple or times[param.name] < 2 or len(set(_given_values(param, given))) == 1:
                continue
            value = ctx.params.get(param.name)
            shown = value.value if isinstance(value, Enum) else value
            said = f"{'/'.join(param.opts)} was given more than once: the last value, {shown}, is used."
            console.print(labelled("note:", "yellow", said), highlight=False)
        return rest


def _given_values(param: Any, args: list[str]) -> list[str]:
    """What each occurrence of ``param`` in ``args`` said: its value as typed, or which flag was given."""
    names = [*param.opts, *param.secondary_opts]
    values = []
    for index, token in enumerate(args[: args.index("--") if "--" in args else len(args)]):
        for name in names:
            if token == name:
                takes_value = not param.is_flag and param.nargs != 0
                values.append(args[index + 1] if takes_value and index + 1 < len(args) else token)
            elif token.startswith(f"{name}="):
                values.append(token[len(name) + 1 :])
            elif len(name) == 2 and token.startswith(name) and len(token) > 2:  # -oDIR
                values.append(token[2:])
    return values


class SynthdiffTyper(typer.Typer):
    """``typer.Typer`` whose commands note repeated one-value options (every synthdiff command)."""

    def command(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", _RepeatNotingCommand)
        return super().command(*args, **kwargs)


app = SynthdiffTyper(
    name="synthdiff",
    help="Machine-learning comparison of synthetic images: how does a render differ from what it should be?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from synthdiff import __version__

        typer.echo(f"synthdiff {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Options of synthdiff itself; the app's help text is the one given to ``typer.Typer`` above."""
    # A file name that is not valid UTF-8 (Latin-1, from an old archive) holds lone surrogates, which a
    # strict UTF-8 terminal cannot print: the command died with a UnicodeEncodeError after its work.
    # Printed as \udce9 escapes instead, as the reports write them.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            stream.reconfigure(errors="backslashreplace")


# No markup: printed text holds paths and messages, in which "[take 2]" is a folder name, not a style (with
# markup it vanished, and "[/x]" raised MarkupError). Styled words go through `labelled`.
console = Console(stderr=True, markup=False, soft_wrap=True)
#: The change models whose weights ship, default first, for --help (tests/change/test_cli.py checks it).
SHIPPED_CHANGE_MODELS = "fresunet-wide, fresunet-attention, fresunet, changestar"
#: --device, for every command that runs a model.
DEVICE_HELP = "auto (a GPU when there is one), cpu, cuda or cuda:N."
CHANGE_NATIVE_SIZE_HELP = (
    "Run the change model on pairs at their own size even when they are larger than the images it was "
    "trained on (default: scaled down to that size for the model, maps brought back to full size, when the "
    "checkpoint records it, as fresunet-wide and changestar do)."
)
#: --align, for compare, batch and detect.
ALIGN_CHOICES = "auto, none, translation or homography"
ALIGN_HELP = f"Registration: {ALIGN_CHOICES}."
out = Console(markup=False, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])


def labelled(label: str, style: str, text: object) -> Text:
    """``label`` in ``style``, then ``text`` as it is (never read as markup)."""
    return Text.assemble((label, style), " ", str(text))


def _without_worker_traceback(message: str) -> str:
    """The error's own message when torch's DataLoader re-raised it from a worker process.

    torch keeps the error's class but replaces its message with "Caught X in DataLoader worker process
    N." and the worker's whole traceback, whose last line is ``module.X: <the message>``.
    """
    if not (message.startswith("Caught ") and "\nOriginal Traceback" in message):
        return message
    last = message.rstrip().splitlines()[-1]
    return last.split(": ", 1)[1] if ": " in last else last


def print_error(error: SynthdiffError) -> None:
    """One readable ``error:`` line on stderr."""
    console.print(labelled("error:", "bold red", _without_worker_traceback(str(error))), highlight=False)


#: What the machine, not synthdiff, refused (a full disk, a read-only or forbidden place, too many open
#: files): said in one line with the fix, like synthdiff's own errors, wherever in a command it happens.
_MACHINE_ERRORS = {
    errno.ENOSPC: "free some space, or write to another disk",
    errno.EDQUOT: "free some space (the disk quota is reached), or write elsewhere",
    errno.EROFS: "write to a writable place",
    errno.EACCES: "check the permissions, or use another place",
    errno.EPERM: "check the permissions, or use another place",
    errno.EMFILE: "raise the open-file limit (ulimit -n)",
}


def machine_error(error: OSError) -> OutputError | None:
    """The one-line error for an OSError the machine raised, or None for any other."""
    fix = _MACHINE_ERRORS.get(error.errno or 0)
    if fix is None:
        return None
    where = f" ('{error.filename}')" if error.filename else ""
    return OutputError(f"The system refused{where}: {error.strerror or error}. Fix: {fix}.")


def friendly_errors(function: F) -> F:
    """Turn synthdiff's errors, and the machine's refusals, into one line on stderr and exit code 2."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except SynthdiffError as error:
            print_error(error)
            raise typer.Exit(2) from None
        except OSError as error:
            said = machine_error(error)
            if said is None:
                raise
            print_error(said)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


#: Seconds between two progress lines when stderr is not a terminal (a log file, CI).
LINE_INTERVAL_S = 30.0


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}"


@dataclass
class _LineTask:
    description: str
    total: float | None
    fields: dict[str, Any]
    started: float
    last_said: float
    updated: float
    completed: float = 0.0
    said: bool = False


class _LineProgress:
    """What a progress bar says, as plain lines, for a stderr that is not a terminal.

    A live bar draws nothing into a log file, so a long run sent to one (a cluster job, CI, ``2> log``)
    would be silent until it ends. This prints one line per task at most every ``LINE_INTERVAL_S``
    seconds (done/total, elapsed, time left) and, if it has said anything, a last one when the task
    completes; short tasks print nothing. It offers the part of rich's ``Progress`` that synthdiff's
    commands use: ``add_task``, ``update``, ``stop`` and ``console``.
    """

    def __init__(self, templates: Sequence[str], console: Console) -> None:
        self.templates = list(templates)
        self.console = console
        self.tasks: list[_LineTask] = []

    def __enter__(self) -> _LineProgress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def stop(self) -> None:
        """Nothing to take down (a live bar's ``stop``)."""

    def add_task(self, description: str, total: float | None = None, **fields: Any) -> int:
        now = monotonic()
        task = _LineTask(description, total, dict(fields), started=now, last_said=now, updated=now)
        self.tasks.append(task)
        return len(self.tasks) - 1

    def update(
        self,
        task_id: int,
        *,
        completed: float | None = None,
        total: float | None = None,
        **fields: Any,
    ) -> None:
        task, now = self.tasks[task_id], monotonic()
        if total is not None:
            task.total = total
        if completed is not None:
            if completed < task.completed:  # counting again from the start: training's next epoch
                task.started, task.said = task.updated, False
            task.completed = completed
        task.fields.update(fields)
        task.updated = now
        if task.total is not None and task.completed >= task.total:
            if task.said:  # a last line, so that a log shows the end of what it showed going
                self._say(task, now)
                task.said = False
        elif now - task.last_said >= LINE_INTERVAL_S:
            self._say(task, now)

    def _say(self, task: _LineTask, now: float) -> None:
        task.said, task.last_said = True, now
        text = " ".join(template.format(task=task) for template in self.templates)
        elapsed = now - task.started
        if task.total:
            share = task.completed / task.total
            text += f" {task.completed:g}/{task.total:g} ({100 * share:.0f} %), {_clock(elapsed)} elapsed"
            if 0 < share < 1:
                text += f", about {_clock(elapsed * (1 - share) / share)} left"
        else:
            text += f" {task.completed:g}, {_clock(elapsed)} elapsed"
        # Any console may be given: its text is plain and unwrapped whatever that console's defaults.
        self.console.print(text, highlight=False, markup=False, soft_wrap=True)


def _progress(text: str, metrics: str | None = None) -> Any:
    """A transient rich progress bar on stderr (text, bar, done/total, [metrics], time left), or
    :class:`_LineProgress` with the same texts when stderr is not a terminal."""
    if not console.is_terminal:
        return _LineProgress([text] if metrics is None else [text, metrics], console)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns: list[Any] = [TextColumn(text, markup=False), BarColumn(), MofNCompleteColumn()]
    if metrics is not None:
        columns.append(TextColumn(metrics, markup=False))
    return Progress(*columns, TimeRemainingColumn(), console=console, transient=True)


def count_progress(label: str) -> Any:
    """A progress bar on stderr: label, bar, done/total, time left (a rich ``Progress``; plain lines
    every ``LINE_INTERVAL_S`` seconds when stderr is not a terminal). ``label`` is a rich text format
    (``{task.description}`` names the task)."""
    return _progress(label)


@contextmanager
def resumable_progress(label: str, output: Path | str) -> Iterator[Any]:
    """:func:`count_progress` for resumable work: Ctrl-C says how to resume and exits with 130.

    Args:
        output: where the work done so far is kept (a folder, or words naming it), for that message.
    """
    with count_progress(label) as bar:
        try:
            yield bar
        except KeyboardInterrupt:
            bar.stop()
            _say_resume(output)


def _say_resume(output: Path | str) -> NoReturn:
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
    with _progress("epoch {task.fields[epoch]}", "{task.fields[metrics]}") as bar:
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


PANELS_HELP = (
    "Compare the two pictures of one image (a spot-the-difference puzzle; no TEST): auto, left-right or "
    "top-bottom."
)


def check_pair_arguments(test: Path | None, panels: str | None) -> None:
    """Refuse a pair command given neither a test image nor ``--panels``, or both (before any work).

    Raises:
        InvalidArgumentError: with the fix.
    """
    from synthdiff.errors import InvalidArgumentError

    if test is not None and panels is not None:
        raise InvalidArgumentError(
            "Expected a test image or --panels, got both. Fix: drop the test image to compare the two "
            "pictures of the first image, or drop --panels."
        )
    if test is None and panels is None:
        raise InvalidArgumentError(
            "Expected a test image after the reference. Fix: name it, or pass --panels to compare the two "
            "pictures of one image (a spot-the-difference puzzle)."
        )


def image_pair(
    reference: Path, test: Path | None, panels: str | None, **load_options: Any
) -> tuple[Any, Any]:
    """What a pair command compares: ``(reference, test)`` as given, or with ``panels`` the two
    pictures of the one image ``reference`` (:func:`synthdiff.align.split_panels`, with
    ``load_options``).

    Raises:
        InvalidArgumentError: see :func:`check_pair_arguments`; SynthdiffError: the splitting's errors.
    """
    check_pair_arguments(test, panels)
    if panels is None:
        return reference, test
    from synthdiff.align import split_panels

    found = split_panels(reference, panels, **load_options)
    return found.first, found.second


def counted(count: int, noun: str) -> str:
    """``1 image``, ``2 images``: a count with its noun (regular plurals only)."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
