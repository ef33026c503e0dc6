"""Progress as plain lines when stderr is not a terminal (a log file, CI)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from synthdiff.cli import _common
from synthdiff.cli._common import _LineProgress


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """A settable monotonic clock for _common alone (seconds in now[0]); the time module itself is left
    alone, since freezing it stalls any wait with a timeout in the process (a loader worker's shutdown)."""
    now = [1000.0]
    monkeypatch.setattr(_common, "monotonic", lambda: now[0])
    return now


def _lines(stream: io.StringIO) -> list[str]:
    return [line for line in stream.getvalue().splitlines() if line]


def test_lines_at_most_every_interval_and_one_at_the_end(clock: list[float]) -> None:
    stream = io.StringIO()
    bar = _LineProgress(["{task.description}"], Console(file=stream, width=200))
    task = bar.add_task("pairs", total=100)
    for done in range(1, 101):
        clock[0] += 1.0  # one pair a second: 100 s in all
        bar.update(task, completed=done)
    lines = _lines(stream)
    # 30, 60 and 90 s into the task, then the end.
    assert lines == [
        "pairs 30/100 (30 %), 0:00:30 elapsed, about 0:01:10 left",
        "pairs 60/100 (60 %), 0:01:00 elapsed, about 0:00:40 left",
        "pairs 90/100 (90 %), 0:01:30 elapsed, about 0:00:10 left",
        "pairs 100/100 (100 %), 0:01:40 elapsed",
    ]


def test_a_short_task_prints_nothing(clock: list[float]) -> None:
    stream = io.StringIO()
    bar = _LineProgress(["{task.description}"], Console(file=stream, width=200))
    task = bar.add_task("pairs", total=5)
    for done in range(1, 6):
        clock[0] += 1.0
        bar.update(task, completed=done)
    assert stream.getvalue() == ""


def test_training_fields_and_a_new_epoch_restarting_the_count(clock: list[float]) -> None:
    stream = io.StringIO()
    templates = ["epoch {task.fields[epoch]}", "{task.fields[metrics]}"]
    bar = _LineProgress(templates, Console(file=stream, width=200))
    task = bar.add_task("train", total=None, epoch=0, metrics="")
    for epoch in range(2):
        for step in range(1, 41):
            clock[0] += 1.0
            metrics = f"loss {0.5 - epoch / 10:.2f}"
            bar.update(task, completed=step, total=40, epoch=f"{epoch + 1}/2", metrics=metrics)
    lines = _lines(stream)
    assert lines[0] == "epoch 1/2 loss 0.50 30/40 (75 %), 0:00:30 elapsed, about 0:00:10 left"
    assert lines[1] == "epoch 1/2 loss 0.50 40/40 (100 %), 0:00:40 elapsed"
    # The second epoch's times count from its own start.
    assert lines[2] == "epoch 2/2 loss 0.40 30/40 (75 %), 0:00:30 elapsed, about 0:00:10 left"
    assert lines[-1] == "epoch 2/2 loss 0.40 40/40 (100 %), 0:00:40 elapsed"


def test_unknown_total(clock: list[float]) -> None:
    stream = io.StringIO()
    bar = _LineProgress(["{task.description}"], Console(file=stream, width=200))
    task = bar.add_task("reading a", total=None)
    clock[0] += 31.0
    bar.update(task, completed=7)
    assert _lines(stream) == ["reading a 7, 0:00:31 elapsed"]


def test_count_progress_is_plain_lines_off_a_terminal() -> None:
    # Under pytest stderr is not a terminal, so the commands' bars are line progress there.
    assert isinstance(_common.count_progress("{task.description}"), _LineProgress)
