"""Run settings as dataclasses: defaults, then a YAML file, then command-line flags."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import types
import typing
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
    from synthdiff.io._tables import read_utf8_text

    try:
        loaded = yaml.safe_load(read_utf8_text(path, "YAML config"))
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
        InvalidArgumentError: unreadable YAML, unknown keys (the message lists the valid ones), or a
            value in the file of another type than its setting's ("epochs: 1.5", "crop: big").
    """
    given: dict[str, Any] = _read_file(path) if path is not None else {}
    hints = typing.get_type_hints(cls)
    for name, value in list(given.items()):
        if hints.get(name) is float and isinstance(value, str):
            # YAML reads 1e-3 (no dot in the mantissa) as text; it is meant as a number.
            with contextlib.suppress(ValueError):
                given[name] = value = float(value)
        if name in hints and not _matches(value, hints[name]):
            raise InvalidArgumentError(
                f"Expected {name} to be {_describe(hints[name])} in {str(path)!r}, got {value!r}. Fix: "
                "correct that line."
            )
    given.update({k: v for k, v in overrides.items() if v is not None})
    values = {**(defaults(given) if defaults is not None else {}), **given}
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - known)
    if unknown:
        raise InvalidArgumentError(f"Unknown config keys {unknown}; valid keys: {', '.join(sorted(known))}.")
    return cls(**values)


def _matches(value: Any, hint: Any) -> bool:
    """Whether a value read from YAML fits a setting's type (an int where a float is asked is fine)."""
    origin, arguments = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, option) for option in arguments)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if origin in (list, tuple):
        return isinstance(value, list) and all(_matches(item, arguments[0]) for item in value)
    if origin is dict:
        return isinstance(value, dict) and all(
            _matches(key, arguments[0]) and _matches(item, arguments[1]) for key, item in value.items()
        )
    return True  # a type this check does not know: left to the settings' own validation


def _describe(hint: Any) -> str:
    """A setting's type in words: "a whole number", "a list of numbers", "a text or null"."""
    origin, arguments = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(option) for option in arguments)
    if origin in (list, tuple):
        return f"a list of {_describe(arguments[0]).removeprefix('a ').removeprefix('an ')}s"
    if origin is dict:
        return f"a mapping of {_describe(arguments[0])} to {_describe(arguments[1])}"
    names = {
        bool: "true or false",
        int: "a whole number",
        float: "a number",
        str: "a text",
        type(None): "null",
    }
    return names.get(hint, getattr(hint, "__name__", str(hint)))


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
            previous = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as error:
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
