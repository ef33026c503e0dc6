"""Run settings: defaults, a YAML file, flags; and the check that a resumed run keeps its settings."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from synthdiff._config import load_settings, save_or_check_settings
from synthdiff.errors import InvalidArgumentError, OutputError


@dataclasses.dataclass
class Settings:
    epochs: int = 3
    rate: float = 0.1


@dataclasses.dataclass
class Typed:
    epochs: int = 3
    rate: float = 0.1
    cache: bool = False
    names: list[str] = dataclasses.field(default_factory=list)
    weights: dict[str, float] = dataclasses.field(default_factory=dict)
    init: str | None = None


def test_file_then_flags_override_the_defaults(tmp_path: Path) -> None:
    (tmp_path / "run.yaml").write_text("epochs: 5\nrate: 0.2\n")
    settings = load_settings(Settings, tmp_path / "run.yaml", {"rate": 0.3, "epochs": None})
    assert settings == Settings(epochs=5, rate=0.3)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("epochs: [1\n", "line 2, column 1"),
        ("epochs: 1\n  rate: 2\n", "line 2, column 7"),
        ("\tepochs: 1\n", "line 1, column 1"),
    ],
)
def test_broken_yaml_is_explained_on_one_line(tmp_path: Path, text: str, where: str) -> None:
    (tmp_path / "run.yaml").write_text(text)
    with pytest.raises(
        InvalidArgumentError, match=rf"readable YAML config at .*{where}\. Fix: correct"
    ) as error:
        load_settings(Settings, tmp_path / "run.yaml", {})
    assert "\n" not in str(error.value)


def test_a_yaml_file_that_is_not_utf8_is_named_with_its_line(tmp_path: Path) -> None:
    # A comment with an accent saved as Latin-1 (a UnicodeDecodeError traceback before); a UTF-8
    # byte-order mark is fine.
    (tmp_path / "run.yaml").write_bytes("epochs: 2\n# r\u00e9glages\nrate: 0.5\n".encode("latin-1"))
    with pytest.raises(
        InvalidArgumentError, match=r"UTF-8 YAML config at .*run.yaml', but byte 13 \(line 2\) is not UTF-8"
    ):
        load_settings(Settings, tmp_path / "run.yaml", {})
    (tmp_path / "bom.yaml").write_bytes("epochs: 2\n# r\u00e9glages\n".encode("utf-8-sig"))
    assert load_settings(Settings, tmp_path / "bom.yaml", {}).epochs == 2


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("epochs: abc", "epochs to be a whole number"),  # a TypeError deep in training before
        ("epochs: 1.5", "epochs to be a whole number"),
        ("epochs: true", "epochs to be a whole number"),
        ("rate: fast", "rate to be a number"),
        ("cache: 1", "cache to be true or false"),
        ("names: texture", "names to be a list of texts"),
        ("weights: {a: big}", "weights to be a mapping of a text to a number"),
        ("init: 5", "init to be a text or null"),
    ],
)
def test_values_of_the_wrong_type_are_named(tmp_path: Path, line: str, expected: str) -> None:
    (tmp_path / "run.yaml").write_text(line + "\n")
    with pytest.raises(
        InvalidArgumentError, match=rf"Expected {expected} in '.*run.yaml', got .*Fix: correct"
    ):
        load_settings(Typed, tmp_path / "run.yaml", {})


def test_values_of_the_right_type_are_taken(tmp_path: Path) -> None:
    (tmp_path / "run.yaml").write_text(
        "epochs: 4\nrate: 1\ncache: true\nnames: [a, b]\nweights: {a: 2}\ninit: null\n"
    )
    loaded = load_settings(Typed, tmp_path / "run.yaml", {})
    assert loaded == Typed(epochs=4, rate=1, cache=True, names=["a", "b"], weights={"a": 2}, init=None)
    # YAML reads 1e-3 as text (it wants 1.0e-3): a number is meant.
    (tmp_path / "run.yaml").write_text("rate: 1e-3\n")
    assert load_settings(Typed, tmp_path / "run.yaml", {}).rate == 0.001


def test_not_a_mapping_and_unknown_keys(tmp_path: Path) -> None:
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(InvalidArgumentError, match="YAML mapping of settings"):
        load_settings(Settings, tmp_path / "list.yaml", {})
    with pytest.raises(
        InvalidArgumentError, match=r"Unknown config keys \['epoch'\]; valid keys: epochs, rate"
    ):
        load_settings(Settings, None, {"epoch": 2})


def test_a_resumed_run_must_keep_its_settings(tmp_path: Path) -> None:
    assert save_or_check_settings(Settings(), tmp_path) == {"epochs": 3, "rate": 0.1}
    # Stopped before its first epoch (no last.pt, best.pt or history): other settings replace these.
    save_or_check_settings(Settings(epochs=4), tmp_path)
    assert "epochs: 4" in (tmp_path / "config.yaml").read_text()
    save_or_check_settings(Settings(), tmp_path)
    (tmp_path / "history.jsonl").write_text("")  # one epoch begun: now the settings are the run's
    save_or_check_settings(Settings(), tmp_path)  # the same: resumable
    with pytest.raises(OutputError, match="these differ: epochs"):
        save_or_check_settings(Settings(epochs=4), tmp_path)
    (tmp_path / "config.yaml").write_text("epochs: [3\n")  # damaged by hand or by a full disk
    with pytest.raises(OutputError, match=r"not a YAML mapping\. Fix: use a new --out folder"):
        save_or_check_settings(Settings(), tmp_path)
