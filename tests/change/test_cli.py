"""``synthdiff train change`` and ``synthdiff eval change`` through the CLI runner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from synthdiff.cli import app
from tests.change.test_data import fake_dataset, make_in_progress


def test_train_then_eval(tmp_path: Path) -> None:
    data = fake_dataset(tmp_path / "data", pairs=4)
    runner = CliRunner()
    common = ["--model", "fresunet-tiny", "--features", "texture", "--epochs", "2", "--batch-size", "2"]
    config = tmp_path / "run.yaml"
    config.write_text("loader_workers: 0\ncrop: 0\ndevice: cpu\n")
    result = runner.invoke(
        app,
        [
            "train",
            "change",
            "--data",
            str(data),
            *common,
            "--config",
            str(config),
            "--out",
            str(tmp_path / "run"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "best epoch" in result.output

    result = runner.invoke(
        app,
        [
            "eval",
            "change",
            "--model",
            str(tmp_path / "run" / "best.pt"),
            "--data",
            str(data),
            "--split",
            "val",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "| texture | 1 | texture |" in result.output
    assert "swap consistency" in result.output

    eval_args = [
        "eval",
        "change",
        "-m",
        str(tmp_path / "run" / "best.pt"),
        "--data",
        str(data),
        "--split",
        "val",
    ]
    result = runner.invoke(app, [*eval_args, "-o", str(tmp_path / "ev")])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "ev" / "eval.json").read_text())
    assert report["features"] == ["texture"] and report["swap_iou"] is not None
    assert (tmp_path / "ev" / "eval.md").read_text().startswith("Model `fresunet-tiny`")
    # The run recorded the size of its training images; larger pairs would run scaled down to it.
    assert report["schema_version"] == "1.5" and report["train_size"] == 24 == report["work_size"]
    # The 24x24 pairs are not larger: the output says so (it said they "ran scaled down" whatever their size).
    assert "No pair is over 24 pixels on its shorter side" in " ".join(result.output.split())
    from synthdiff.change import set_train_size

    smaller = tmp_path / "smaller.pt"
    smaller.write_bytes((tmp_path / "run" / "best.pt").read_bytes())
    set_train_size(smaller, 12)
    result = runner.invoke(app, ["eval", "change", "-m", str(smaller), "--data", str(data), "--split", "val"])
    assert result.exit_code == 0, result.output
    assert "1 of 1 pairs had a shorter side over 12 pixels and ran scaled down" in " ".join(
        result.output.split()
    )
    native = [*eval_args, "-o", str(tmp_path / "native"), "--native-size"]
    result = runner.invoke(app, native)
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "native" / "eval.json").read_text())["work_size"] is None
    assert "scaled down" not in result.output

    # A warm restart from the first run, named by --init, is recorded in the new run's config.
    first = str(tmp_path / "run" / "best.pt")
    warm = ["--epochs", "1", "--config", str(config), "--init", first, "--out", str(tmp_path / "warm")]
    result = runner.invoke(app, ["train", "change", "--data", str(data), *common, *warm])
    assert result.exit_code == 0, result.output
    assert f"init: {first}" in (tmp_path / "warm" / "config.yaml").read_text()


def test_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    runner = CliRunner()
    data = fake_dataset(tmp_path / "data", pairs=2)
    result = runner.invoke(
        app, ["train", "change", "--data", str(data), "--model", "unet", "--out", str(tmp_path / "r")]
    )
    assert result.exit_code == 2 and "fresunet, changestar" in result.output
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"nonsense")
    result = runner.invoke(app, ["eval", "change", "--model", str(broken), "--data", str(data)])
    assert result.exit_code == 2 and "cannot be read" in result.output
    assert "Traceback" not in result.output
    # fake_dataset puts no pair in the test split, the default of eval change (this was a KeyError).
    result = runner.invoke(app, ["eval", "change", "--model", "fresunet-wide", "--data", str(data)])
    assert result.exit_code == 2 and "found none (pairs by split: train 1, val 1, test 0)" in result.output


def test_default_model_is_the_same_everywhere() -> None:
    """`detect`, `demo` and the library name one default (the CLI keeps a literal: no torch import)."""
    import inspect

    from synthdiff.change import DEFAULT_MODEL, shipped_models
    from synthdiff.cli._change import detect_command
    from synthdiff.demo import run_demo

    assert DEFAULT_MODEL in shipped_models()
    assert inspect.signature(detect_command).parameters["checkpoint"].default == DEFAULT_MODEL
    assert inspect.signature(run_demo).parameters["change_model"].default == DEFAULT_MODEL
    from synthdiff.cli._common import SHIPPED_CHANGE_MODELS

    names = SHIPPED_CHANGE_MODELS.split(", ")
    assert names[0] == DEFAULT_MODEL and sorted(names) == shipped_models()  # what --help lists


def test_eval_reads_a_complete_split_of_a_dataset_in_progress(tmp_path: Path) -> None:
    from synthdiff.change import create_model, save_checkpoint

    data = fake_dataset(tmp_path / "data")  # pairs 0 and 1 in train, pair 2 in val
    make_in_progress(data)
    model = tmp_path / "tiny.pt"
    save_checkpoint(model, create_model("fresunet-tiny", ["texture"]), "fresunet-tiny", ["texture"])
    command = ["eval", "change", "--model", str(model), "--data", str(data), "--device", "cpu"]

    result = CliRunner().invoke(app, [*command, "--split", "val"])
    assert result.exit_code == 2 and "no manifest.jsonl" in result.output
    result = CliRunner().invoke(app, [*command, "--split", "val", "--in-progress"])
    assert result.exit_code == 0, result.output
    assert "| texture | 1 | texture |" in result.output
    result = CliRunner().invoke(app, [*command, "--split", "train", "--in-progress"])
    assert result.exit_code == 2 and "only 2 of 8 are" in result.output
