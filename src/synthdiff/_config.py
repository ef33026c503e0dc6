"""Run settings as dataclasses: defaults, then a YAML file, then command-line flags."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

from synthdiff.errors import InvalidArgumentError, OutputError
from synthdiff.io import atomic_write_text

__all__ = ["load_settings", "save_or_check_settings"]

T = TypeVar("T")


def _read_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The mapping in a YAML settings file.

    Raises:
        InvalidArgumentError: unreadable YAML, or not a mapping.
    """
    try:
        loaded = yaml.safe_load(Path(path).read_text())
    except OSError as error:
        raise InvalidArgumentError(f"Expected a readable YAML config at {str(path)!r}: {error}") from None
    except yaml.YAMLError as error:
        raise InvalidArgumentError(
            f"Expected a readable YAML config at {str(path)!r}: {_yaml_problem(error)}. Fix: correct the "
            "YAML there (settings as 'name: value' lines)."
        ) from None
    if loaded is not None and not isinstance(loaded, dict):
        raise InvalidArgumentError(f"Expected a YAML mapping of settings in {str(path)!r}.")
    return loaded or {}


def _yaml_problem(error: yaml.YAMLError) -> str:
    """A YAML error on one line: what is wrong and where (PyYAML's own text spans several lines)."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        return f"{error.problem} at line {mark.line + 1}, column {mark.column + 1}"
    return " ".join(str(error).split())


def load_settings(
    cls: type[T],
    path: str | os.PathLike[str] | None,
    overrides: dict[str, Any],
    defaults: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> T:
    """An instance of the dataclass ``cls`` from its defaults, then ``defaults(given)`` (e.g. a model's
    own, chosen from what was given), the YAML file (if any), then ``overrides`` (the flags that were
    given; None values are skipped).

    Raises:
        InvalidArgumentError: unreadable YAML or unknown keys (the message lists the valid ones).
    """
    given: dict[str, Any] = _read_file(path) if path is not None else {}
    given.update({k: v for k, v in overrides.items() if v is not None})
    values = {**(defaults(given) if defaults is not None else {}), **given}
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - known)
    if unknown:
        raise InvalidArgumentError(f"Unknown config keys {unknown}; valid keys: {', '.join(sorted(known))}.")
    return cls(**values)


def _defaults(kind: type) -> dict[str, Any]:
    defaults: dict[str, Any] = {}
    for item in dataclasses.fields(kind):
        if item.default is not dataclasses.MISSING:
            defaults[item.name] = item.default
        elif item.default_factory is not dataclasses.MISSING:
            defaults[item.name] = item.default_factory()
    return defaults


def save_or_check_settings(
    settings: Any, out: Path, progress: tuple[str, ...] = ("last.pt", "best.pt", "history.jsonl")
) -> dict[str, Any]:
    """Write ``out/config.yaml``, or check that a run already there used the same settings.

    A config.yaml beside none of the ``progress`` files is from a run that stopped before its first
    epoch (most often on a bad input, such as a dataset without val pairs): it is replaced, so that
    the corrected command can use the same folder.

    Returns:
        The settings as a plain dict.

    Raises:
        OutputError: ``out`` holds a run with other settings (the message names the differing keys).
    """
    resolved: dict[str, Any] = dataclasses.asdict(settings)
    path = out / "config.yaml"
    if path.is_file() and any((out / name).exists() for name in progress):
        try:
            previous = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as error:
            previous = error
        if not isinstance(previous, dict):
            raise OutputError(
                f"Expected {str(path)!r} to hold the settings of the run in {str(out)!r}, but it is not a "
                "YAML mapping. Fix: use a new --out folder (or restore that file)."
            )
        # A setting added after that run was made ran at its default there.
        previous = {**_defaults(type(settings)), **previous}
        if previous != resolved:
            differing = sorted(k for k in resolved if previous.get(k) != resolved[k])
            raise OutputError(
                f"Expected {str(out)!r} to hold a run with the same config to resume it, but these differ: "
                f"{', '.join(differing)}. Fix: use a new --out folder."
            )
    atomic_write_text(path, yaml.safe_dump(resolved, sort_keys=True))
    return resolved
