"""The command line: outputs, exit codes (0 pass, 1 failed check, 2 input error) and messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from synthdiff.cli import app

runner = CliRunner()


def test_compare_writes_the_three_outputs(tmp_path: Path, example_pair: tuple[Path, Path]) -> None:
    result = runner.invoke(app, ["compare", str(example_pair[0]), str(example_pair[1]), "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "report.json").is_file() and (tmp_path / "index.html").is_file()
    assert (tmp_path / "difference.png").is_file()
    assert "regions that differ" in result.output


@pytest.mark.parametrize(
    "check, code",
    [
        ("--fail-below=ssim=0.99", 1),
        ("--fail-below=ssim=0.5", 0),
        ("--fail-above=regions=0", 1),
        ("--fail-above=flip=0.9", 0),
        ("--fail-below=psnr_y=60", 1),
        ("--fail-below=psnr_y=10", 0),
    ],
)
def test_threshold_exit_codes(tmp_path: Path, example_pair: tuple[Path, Path], check: str, code: int) -> None:
    result = runner.invoke(app, ["compare", *map(str, example_pair), "-o", str(tmp_path), "-q", check])
    assert result.exit_code == code, result.output
    if code == 1:
        assert "check failed" in result.output


def test_unknown_metric_in_check(tmp_path: Path, example_pair: tuple[Path, Path]) -> None:
    result = runner.invoke(
        app, ["compare", *map(str, example_pair), "-o", str(tmp_path), "--fail-above", "lpips=1"]
    )
    assert result.exit_code == 2
    assert "Unknown metric 'lpips'. Expected one of:" in result.output


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--fast", "--fail-above", "flip=0.1"], "--fast skips flip"),
        (["--fast", "--fail-below", "ms_ssim=0.9"], "--fast skips ms_ssim"),
        (["--no-flip", "--fail-above", "flip=0.1"], "--no-flip skips flip"),
        # A NaN limit made a check that could never fail (every comparison with NaN is false).
        (["--fail-above", "ssim=nan"], "Expected a number after '=' in --fail-above 'ssim=nan', got NaN."),
    ],
)
def test_a_check_that_cannot_be_made_is_a_usage_error(
    tmp_path: Path, example_pair: tuple[Path, Path], options: list[str], message: str
) -> None:
    # It ran the comparison and then reported a failed check (exit 1), as if the render were at fault.
    result = runner.invoke(app, ["compare", *map(str, example_pair), "-o", str(tmp_path / "out"), *options])
    assert result.exit_code == 2 and message in result.output and not (tmp_path / "out").exists()


def test_missing_file_is_one_line_and_exit_2(tmp_path: Path, example_pair: tuple[Path, Path]) -> None:
    result = runner.invoke(
        app, ["compare", str(tmp_path / "nope.png"), str(example_pair[1]), "-o", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "Image not found" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("folder", ["take [2]", "[red]", "a [/b] c"])
def test_paths_that_look_like_markup_are_printed_as_they_are(
    tmp_path: Path, example_pair: tuple[Path, Path], folder: str
) -> None:
    """Brackets in a path are a folder name, not a style: they were dropped, or raised MarkupError."""
    missing = tmp_path / folder / "nope.png"
    result = runner.invoke(app, ["compare", str(missing), str(example_pair[1]), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2 and f"Image not found: '{missing}'" in result.output
    (tmp_path / folder).mkdir(parents=True)
    out = tmp_path / folder / "report"
    result = runner.invoke(app, ["compare", *map(str, example_pair), "-o", str(out), "--fast"])
    assert result.exit_code == 0 and f"report: {out / 'index.html'}" in result.output


def test_corrupt_file_exit_2(tmp_path: Path, example_pair: tuple[Path, Path]) -> None:
    (tmp_path / "bad.png").write_bytes(example_pair[1].read_bytes()[:300])
    result = runner.invoke(
        app, ["compare", str(example_pair[0]), str(tmp_path / "bad.png"), "-o", str(tmp_path / "o")]
    )
    assert result.exit_code == 2 and "truncated or corrupt" in result.output


@pytest.mark.parametrize("size", [(1, 1), (1, 30), (6, 6)])
def test_an_image_too_small_to_compare_is_one_line_and_exit_2(tmp_path: Path, size: tuple[int, int]) -> None:
    from PIL import Image

    Image.new("RGB", size, (40, 80, 120)).save(tmp_path / "small.png")
    small = str(tmp_path / "small.png")
    result = runner.invoke(app, ["compare", small, small, "-o", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert "at least 11x11 pixels" in result.output and "Traceback" not in result.output


def test_demo(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for name in ("wrong-light", "wrong-roughness", "shifted-texture"):
        report = json.loads((tmp_path / name / "report.json").read_text())
        assert report["schema_version"] and (tmp_path / name / "index.html").is_file()
        assert report["rendering_features"]["model"]["model"] == "fresunet-wide"  # DEFAULT_MODEL
    assert "changed" in result.output  # the model column (its header may wrap)
    # Each example's own feature beside the model's answer, and a line for each it gets wrong.
    from synthdiff.demo import run_demo

    for case in run_demo(tmp_path / "again"):
        assert case.expected in {"illumination", "reflection", "texture"} and case.named_right is not None
        report = json.loads((tmp_path / case.name / "report.json").read_text())
        fractions = {k: v["changed_fraction"] for k, v in report["rendering_features"]["features"].items()}
        assert case.named_right == (max(fractions, key=fractions.__getitem__) == case.expected)
        wrong_line = f"marks {case.feature} most on {case.name}, where only {case.expected}"
        assert (wrong_line in " ".join(result.output.split())) == (not case.named_right)


def test_the_demo_lists_every_feature_marked_on_much_of_the_picture(tmp_path: Path) -> None:
    from synthdiff.demo import DemoCase

    fractions = {"illumination": 0.58, "reflection": 0.69, "texture": 0.026, "transparency": 0.28}
    case = DemoCase("wrong-light", "moved light", 3, 0.7, 0.5, tmp_path, "reflection", fractions)
    # 0.25 of the top feature's 69 % is 17 %: texture's 2.6 % is left out.
    assert case.marked_features() == [("reflection", 0.69), ("illumination", 0.58), ("transparency", 0.28)]
    assert case.marked_features(share=0.9) == [("reflection", 0.69)]
    tiny = DemoCase("x", "y", 0, 1.0, 0.0, tmp_path, "texture", {"texture": 0.012, "reflection": 0.009})
    assert tiny.marked_features() == [("texture", 0.012)]  # below 1 % of the picture is left out
    assert DemoCase("x", "y", 0, 1.0, 0.0, tmp_path).marked_features() == []
    # Right or wrong against the feature the example changes; nothing to say without either.
    assert DemoCase("x", "y", 0, 1.0, 0.0, tmp_path, "texture", fractions, "texture").named_right is True
    assert case.named_right is None  # no expected feature given
    wrong = DemoCase(
        "wrong-light", "moved light", 3, 0.7, 0.5, tmp_path, "reflection", fractions, "illumination"
    )
    assert wrong.named_right is False
    assert DemoCase("x", "y", 0, 1.0, 0.0, tmp_path, expected="texture").named_right is None  # no model


def test_compare_with_a_change_model_prints_the_features_changed(
    tmp_path: Path, example_pair: tuple[Path, Path]
) -> None:
    from synthdiff.change import create_model, save_checkpoint
    from synthdiff.diff import feature_sentence

    features = ["illumination", "texture"]
    model = tmp_path / "tiny.pt"
    save_checkpoint(model, create_model("fresunet-tiny", features), "fresunet-tiny", features)
    arguments = ["compare", *map(str, example_pair), "-o", str(tmp_path / "out"), "--fast"]
    result = runner.invoke(app, [*arguments, "--change-model", str(model), "--realness-model", "none"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())["rendering_features"]["features"]
    expected = feature_sentence({name: report[name]["changed_fraction"] for name in features})
    assert f"rendering features changed: {expected}" in result.output and "scaled down" not in result.output
    # A model trained on smaller renders runs on the pair scaled down to them, and says so.
    from synthdiff.change import set_train_size

    set_train_size(model, 120)
    result = runner.invoke(app, [*arguments, "--change-model", str(model), "--realness-model", "none"])
    assert result.exit_code == 0, result.output
    assert "(the model ran on the pair scaled down to 160x120, its training size)" in result.output
    result = runner.invoke(
        app, [*arguments, "--change-model", str(model), "--realness-model", "none", "--change-native-size"]
    )
    assert result.exit_code == 0 and "scaled down" not in result.output
    result = runner.invoke(app, [*arguments, "--change-model", str(model), "--device", "tpu9"])
    assert result.exit_code == 2 and "auto, cpu, cuda or cuda:N" in result.output


def _commands(command: Any, path: str = "synthdiff") -> list[tuple[str, Any]]:
    # Duck-typed: typer vendors its own click, whose Group is not click.Group.
    found = [(path, command)]
    for name, sub in getattr(command, "commands", {}).items():
        found += _commands(sub, f"{path} {name}")
    return found


def test_help_texts_survive_rich_markup() -> None:
    # Typer renders help through rich, which drops anything that reads as a markup tag: "[default: x]"
    # vanished from four options' help before this test.
    from rich.text import Text

    changed = []
    commands = _commands(typer.main.get_command(app))
    for path, command in commands:
        texts = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
        changed += [f"{path}: {text!r}" for text in texts if Text.from_markup(text).plain != text]
    assert len(commands) > 15  # the subcommands were walked, not only the top group
    assert not changed, "\n".join(changed)


def test_help_lists_on_off_flags_without_a_value() -> None:
    # "--fast <bool>" would read as if "--fast true" were needed (typer 0.29 prints it so).
    result = runner.invoke(app, ["batch", "--help"], terminal_width=160)
    assert result.exit_code == 0
    rows = [line.lstrip("│ *") for line in result.output.splitlines()]
    lines = {row.split()[0]: row for row in rows if row.startswith("--")}
    assert "<bool>" not in lines["--fast"] and "<bool>" not in lines["--help"]
    assert "<int range>" in lines["--workers"]  # options that take a value still show its type


def test_version() -> None:
    from importlib.metadata import version

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output == f"synthdiff {version('synthdiff')}\n"
    # Also as a module, for a virtual environment that is not activated; the name shown stays synthdiff.
    module = subprocess.run([sys.executable, "-m", "synthdiff", "--version"], capture_output=True, text=True)
    assert module.returncode == 0 and module.stdout == f"synthdiff {version('synthdiff')}\n"
    usage = subprocess.run([sys.executable, "-m", "synthdiff", "compare"], capture_output=True, text=True)
    assert usage.returncode == 2 and "Usage: synthdiff compare" in usage.stderr


def test_luma_border_leaves_the_edges_out_of_psnr_y(tmp_path: Path, example_pair: tuple[Path, Path]) -> None:
    import json

    from synthdiff.io import load_image
    from synthdiff.metrics import luma_psnr

    arguments = ["compare", *map(str, example_pair), "--fast", "--realness-model", "none", "-q"]
    result = runner.invoke(app, [*arguments, "-o", str(tmp_path / "a"), "--luma-border", "4"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "a" / "report.json").read_text())
    reference, test = (load_image(path).pixels for path in example_pair)  # the examples need no alignment
    assert report["options"]["luma_border"] == 4
    assert report["metrics"]["psnr_y"] == pytest.approx(luma_psnr(reference, test, border=4), abs=1e-5)
    assert report["metrics"]["psnr_y"] != pytest.approx(luma_psnr(reference, test), abs=1e-3)
    result = runner.invoke(app, [*arguments, "-o", str(tmp_path / "b"), "--luma-border", "500"])
    assert result.exit_code == 2 and "Expected a border that leaves pixels" in result.output
