"""``synthdiff train realness``, ``realness`` and ``realness-bench`` through the CLI runner."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from synthdiff.cli import app
from tests.realness.test_train import fake_sources


def test_train_then_score_then_bench(tmp_path: Path) -> None:
    real, synthetic = fake_sources(tmp_path / "data", count=10)
    config = tmp_path / "run.yaml"
    config.write_text(
        "crop: 32\nmax_patches: 4\nsamples_per_epoch: 128\nbatch_size: 32\nval_fraction: 0.3\n"
        "loader_workers: 0\ndevice: cpu\n"
    )
    runner = CliRunner()
    run = tmp_path / "run"
    result = runner.invoke(
        app,
        [
            "train",
            "realness",
            "--real",
            str(real),
            "--synthetic",
            f"smooth={synthetic}",
            "--model",
            "realness-tiny",
            "--epochs",
            "2",
            "--config",
            str(config),
            "--out",
            str(run),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "calibration scale" in result.output and (run / "best.pt").is_file()

    image = real / "00.png"
    clear = tmp_path / "clear.png"
    with Image.open(image) as opened:
        rgba = np.asarray(opened.convert("RGBA")).copy()
    rgba[: rgba.shape[0] // 2, :, 3] = 0
    Image.fromarray(rgba, "RGBA").save(clear)
    result = runner.invoke(
        app,
        [
            "realness",
            str(image),
            str(clear),
            "--model",
            str(run / "best.pt"),
            "--json",
            str(tmp_path / "s.json"),
            "--heatmap",
            str(tmp_path / "maps"),
        ],
    )
    assert result.exit_code == 0, result.output
    written = json.loads((tmp_path / "s.json").read_text())
    assert (
        written["schema_version"] == "1.4"
        and written["architecture"] == "realness-tiny"
        and written["complete"]
    )
    assert written["images"][str(image)]["notes"] == []
    assert written["images"][str(clear)]["notes"][0].startswith("50.0 % of pixels transparent")
    assert "note: 50.0 % of pixels transparent" in result.output
    assert written["checkpoint_sha256"] == hashlib.sha256((run / "best.pt").read_bytes()).hexdigest()
    scores = written["images"][str(image)]
    assert 0.0 <= scores["probability_synthetic"] <= 1.0 and scores["verdict"] in {
        "real",
        "synthetic",
        "unsure",
    }
    assert (tmp_path / "maps" / "00_realness.png").is_file()
    assert scores["heatmap"] == str(tmp_path / "maps" / "00_realness.png")
    assert f"heatmap: {tmp_path / 'maps' / 'clear_realness.png'}" in result.output.replace("\n", "")

    result = runner.invoke(
        app,
        [
            "realness-bench",
            str(real),
            str(synthetic),
            "--label",
            "real",
            "--label",
            "synthetic",
            "--model",
            str(run / "best.pt"),
            "-o",
            str(tmp_path / "bench"),
        ],
    )
    assert result.exit_code == 0, result.output
    bench = json.loads((tmp_path / "bench" / "bench.json").read_text())
    assert bench["model"]["checkpoint_sha256"] == written["checkpoint_sha256"]
    assert bench["summary"]["images"] == 20 and bench["summary"]["auc"] is not None
    assert bench["summary"]["ece_interval"] is None and "(no interval under 30 images)" in result.output
    # The page: the same figures, one row per source, the mistakes sheet embedded when there is one.
    page = (tmp_path / "bench" / "index.html").read_text()
    summary = bench["summary"]
    assert f"{100 * summary['accuracy']:.1f} %" in page and f"{summary['auc']:.3f}" in page
    assert all(f"<code>{source}</code>" in page for source in summary["per_source"])
    has_sheet = (tmp_path / "bench" / "mistakes.png").is_file()
    assert ("data:image/png;base64," in page) == has_sheet and (
        "every image is on the right side" in page
    ) != has_sheet
    rows = list(csv.DictReader((tmp_path / "bench" / "scores.csv").read_text().splitlines()))
    assert len(rows) == 20 and {r["label"] for r in rows} == {"real", "synthetic"}


def test_bad_inputs_give_one_line_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("hello")
    model = tmp_path / "m.pt"
    from synthdiff.realness import create_model, save_realness_model

    save_realness_model(model, create_model("realness-tiny"))
    result = runner.invoke(app, ["realness", str(not_an_image), "--model", str(model)])
    assert result.exit_code == 2 and "error:" in result.output and "nothing was scored" in result.output
    (tmp_path / "empty").mkdir()
    result = runner.invoke(
        app,
        [
            "realness-bench",
            str(tmp_path / "empty"),
            "--label",
            "real",
            "-m",
            str(model),
            "-o",
            str(tmp_path / "b"),
        ],
    )
    assert result.exit_code == 2 and "found none" in result.output
    result = runner.invoke(
        app, ["realness-bench", str(tmp_path), "--label", "fake", "-m", str(model), "-o", str(tmp_path / "b")]
    )
    assert result.exit_code == 2 and "real or synthetic" in result.output
    labels = ["--label", "real", "--label", "synthetic"]
    result = runner.invoke(
        app, ["realness-bench", str(tmp_path), *labels, "-m", str(model), "-o", str(tmp_path / "b")]
    )
    assert result.exit_code == 2 and "one per folder, got 2 for 1 folder." in result.output
    result = runner.invoke(app, ["realness", str(not_an_image), "--model", str(tmp_path / "none.pt")])
    assert result.exit_code == 2 and "realness checkpoint" in result.output
    bench = ["realness-bench", str(tmp_path), "--label", "real", "-o", str(tmp_path / "c")]
    for command in (["realness", str(not_an_image)], bench):
        result = runner.invoke(app, [*command, "-m", str(model), "--device", "tpu9"])
        assert result.exit_code == 2 and "auto, cpu, cuda or cuda:N" in result.output, command


def test_compare_reports_the_realness_of_both_images(tmp_path: Path) -> None:
    from synthdiff import compare
    from synthdiff.realness import create_model, save_realness_model

    model = tmp_path / "m.pt"
    save_realness_model(model, create_model("realness-tiny"))
    pair = Path(__file__).resolve().parents[2] / "examples" / "wrong-light"
    assert compare(pair / "reference.png", pair / "test.png", fast=True).to_dict()["realness"] is None
    result = compare(pair / "reference.png", pair / "test.png", fast=True, realness_model=model)
    section = result.to_dict()["realness"]
    assert set(section) == {"model", "reference", "test"}
    assert section["model"] == {
        "checkpoint": str(model),
        "model": "realness-tiny",
        "checkpoint_sha256": hashlib.sha256(model.read_bytes()).hexdigest(),
    }
    for key in ("reference", "test"):
        assert 0.0 <= section[key]["probability_synthetic"] <= 1.0 and section[key]["crops"] > 0
    html = result.save_report(tmp_path / "report").read_text()
    assert "Render or photo?" in html


def test_train_the_effnet_head_from_the_command_line(tmp_path: Path) -> None:
    """Labels that mean nothing: the head learns nothing that carries over to an unseen source, and
    the command says so rather than leaving a confident-looking model."""
    sources = [fake_sources(tmp_path / f"set{i}", count=2, seed=i) for i in range(2)]
    arguments = ["train", "realness", "--model", "realness-effnet", "--crop", "64", "--max-patches", "2"]
    for i in range(2):
        # the 'synthetic' sources are copies of the other set's photos: the same pictures under both labels
        # (the very same files are refused: each image may be listed once)
        copies = shutil.copytree(sources[1 - i][0], tmp_path / f"copies{i}")
        arguments += ["--real", f"real{i}={sources[i][0]}", "--synthetic", f"renders{i}={copies}"]
    result = CliRunner().invoke(app, [*arguments, "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "scored held-out source real0" in result.output and "penalty" in result.output
    assert "no better than a coin" in result.output
    assert (tmp_path / "run" / "best.pt").is_file() and (tmp_path / "run" / "cv.json").is_file()


def test_the_train_help_names_every_registered_model() -> None:
    from synthdiff.cli._realness import TRAIN_MODEL_HELP
    from synthdiff.realness import MODELS

    assert all(name in TRAIN_MODEL_HELP for name in MODELS)


def _tiny_model(folder: Path, seed: int = 0) -> Path:
    import torch

    from synthdiff.realness import create_model, save_realness_model

    torch.manual_seed(seed)
    path = folder / f"tiny{seed}.pt"
    save_realness_model(path, create_model("realness-tiny"))
    return path


def test_one_unreadable_image_among_many(tmp_path: Path) -> None:
    """A bad file is reported and skipped; the others are scored (realness exits 2 at the end,
    realness-bench lists it and summarises the rest)."""
    real, synthetic = fake_sources(tmp_path / "data", count=3)
    (real / "01.png").write_bytes(b"not a png")
    model = str(_tiny_model(tmp_path))
    runner = CliRunner()
    images = [str(real / name) for name in ("00.png", "01.png", "02.png")]
    result = runner.invoke(
        app, ["realness", *images, "-m", model, "--no-stability", "--json", str(tmp_path / "s.json")]
    )
    assert result.exit_code == 2, result.output
    assert "1 of 3 images could not be read" in result.output
    scores = json.loads((tmp_path / "s.json").read_text())
    assert set(scores["images"]) == {images[0], images[2]} and set(scores["errors"]) == {images[1]}

    bench = tmp_path / "bench"
    arguments = ["realness-bench", str(real), str(synthetic), "--label", "real", "--label", "synthetic"]
    result = runner.invoke(app, [*arguments, "-m", model, "-o", str(bench)])
    assert result.exit_code == 0, result.output
    assert "skipped" in result.output and "01.png" in result.output
    report = json.loads((bench / "bench.json").read_text())
    assert report["summary"]["images"] == 5
    assert [s["path"] for s in report["skipped"]] == [images[1]]
    assert len((bench / "scores.csv").read_text().splitlines()) == 1 + 5

    for name in ("00.png", "02.png"):
        (real / name).write_bytes(b"")
    result = runner.invoke(
        app, ["realness-bench", str(real), "--label", "real", "-m", model, "-o", str(tmp_path / "b2")]
    )
    assert result.exit_code == 2 and "none of the 3 could be read" in result.output


def test_bench_resumes_and_refuses_another_models_scores(tmp_path: Path) -> None:
    real, synthetic = fake_sources(tmp_path / "data", count=3)
    model = str(_tiny_model(tmp_path))
    bench = tmp_path / "bench"
    arguments = ["realness-bench", str(real), str(synthetic), "--label", "real", "--label", "synthetic"]
    runner = CliRunner()
    assert runner.invoke(app, [*arguments, "-m", model, "-o", str(bench)]).exit_code == 0
    journal = bench / "results.jsonl"
    rows = [json.loads(line) for line in journal.read_text().splitlines()]
    assert len(rows) == 6
    # An interrupted run: the last line cut short, one score marked so that reading it back shows.
    rows[0]["probability"] = 0.123
    journal.write_text("\n".join(json.dumps(r) for r in rows[:5]) + "\n" + json.dumps(rows[5])[:20])
    result = runner.invoke(app, [*arguments, "-m", model, "-o", str(bench)])
    assert result.exit_code == 0, result.output
    assert "5 scores taken from an earlier run" in result.output
    scores = {r["path"]: r for r in csv.DictReader((bench / "scores.csv").read_text().splitlines())}
    assert len(scores) == 6 and scores[rows[0]["path"]]["probability_synthetic"] == "0.12300"
    # An image replaced since it was scored is scored again; the others are taken as they were.
    replaced = Path(rows[0]["path"])
    replaced.write_bytes((Path(rows[1]["path"])).read_bytes())
    result = runner.invoke(app, [*arguments, "-m", model, "-o", str(bench)])
    assert result.exit_code == 0 and "5 scores taken from an earlier run" in result.output
    scores = {r["path"]: r for r in csv.DictReader((bench / "scores.csv").read_text().splitlines())}
    assert scores[str(replaced)]["probability_synthetic"] != "0.12300"

    other = str(_tiny_model(tmp_path, seed=1))
    result = runner.invoke(app, [*arguments, "-m", other, "-o", str(bench)])
    assert result.exit_code == 2 and "another model" in result.output and "--restart" in result.output
    result = runner.invoke(app, [*arguments, "-m", other, "-o", str(bench), "--restart"])
    assert result.exit_code == 0 and "earlier run" not in result.output
    scores = {r["path"]: r for r in csv.DictReader((bench / "scores.csv").read_text().splitlines())}
    assert scores[rows[0]["path"]]["probability_synthetic"] != "0.12300"


def test_folders_stand_for_their_images_and_heatmap_names_stay_apart(tmp_path: Path) -> None:
    real, synthetic = fake_sources(tmp_path / "data", count=2)
    model = str(_tiny_model(tmp_path))
    runner = CliRunner()
    maps = tmp_path / "maps"
    arguments = ["realness", str(real), str(synthetic), "-m", model, "--no-stability"]
    result = runner.invoke(app, [*arguments, "--json", str(tmp_path / "s.json"), "--heatmap", str(maps)])
    assert result.exit_code == 0, result.output
    scored = json.loads((tmp_path / "s.json").read_text())["images"]
    expected = [str(folder / name) for folder in (real, synthetic) for name in ("00.png", "01.png")]
    assert sorted(scored) == sorted(expected)
    # Both folders hold 00.png and 01.png: each image gets its own overlay.
    assert sorted(path.name for path in maps.iterdir()) == [
        "00_1_realness.png",
        "00_2_realness.png",
        "01_1_realness.png",
        "01_2_realness.png",
    ]
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["realness", str(tmp_path / "empty"), "-m", model])
    assert result.exit_code == 2 and "found none" in result.output
    # A file named twice, or inside a folder also given, is scored once (printed three times, kept once).
    image = real / "00.png"
    result = runner.invoke(
        app, ["realness", str(image), str(real), f"{real}/./00.png", "-m", model, "--no-stability"]
    )
    assert result.exit_code == 0 and result.output.count("00.png") == 1 and result.output.count("01.png") == 1


def test_heatmaps_and_bench_outputs_inside_a_folder_are_not_scored_next_time(tmp_path: Path) -> None:
    real, synthetic = fake_sources(tmp_path / "data", count=2)
    model = str(_tiny_model(tmp_path))
    runner = CliRunner()
    maps = real / "maps"  # inside the folder scored: its overlays were scored as images next time
    arguments = ["realness", str(real), "-m", model, "--no-stability", "--heatmap", str(maps)]
    for _ in range(2):
        result = runner.invoke(app, [*arguments, "--json", str(tmp_path / "s.json")])
        assert result.exit_code == 0, result.output
        assert sorted(json.loads((tmp_path / "s.json").read_text())["images"]) == [
            str(real / "00.png"),
            str(real / "01.png"),
        ]
    shutil.rmtree(maps)  # another command's outputs are images to this one
    bench = ["realness-bench", str(real), str(synthetic), "--label", "real", "--label", "synthetic"]
    bench += ["-m", model, "-o", str(synthetic / "bench"), "--restart"]
    for _ in range(2):  # mistakes.png lands inside the synthetic folder
        result = runner.invoke(app, bench)
        assert result.exit_code == 0, result.output
        rows = (synthetic / "bench" / "scores.csv").read_text().strip().splitlines()
        assert len(rows) == 1 + 2 + 2  # the header, two images of each source
    assert (synthetic / "bench" / "mistakes.png").is_file()


def test_bench_shows_what_the_loader_changed(tmp_path: Path) -> None:
    real, synthetic = fake_sources(tmp_path / "data", count=2)
    with Image.open(real / "00.png") as opened:
        rgba = np.asarray(opened.convert("RGBA")).copy()
    rgba[: rgba.shape[0] // 2, :, 3] = 0
    Image.fromarray(rgba, "RGBA").save(real / "00.png")
    model = str(_tiny_model(tmp_path))
    bench = tmp_path / "bench"
    arguments = ["realness-bench", str(real), str(synthetic), "--label", "real", "--label", "synthetic"]
    runner = CliRunner()
    result = runner.invoke(app, [*arguments, "-m", model, "-o", str(bench)])
    assert result.exit_code == 0, result.output
    assert f"note: {real / '00.png'}: 50.0 % of pixels transparent" in result.output
    report = json.loads((bench / "bench.json").read_text())
    assert report["schema_version"] == "1.3"
    notes = {Path(r["path"]).name + r["label"]: r["notes"] for r in report["images"]}
    assert notes["00.pngreal"][0].startswith("50.0 % of pixels transparent")
    assert notes["01.pngreal"] == notes["00.pngsynthetic"] == []
    scores = {r["path"]: r for r in csv.DictReader((bench / "scores.csv").read_text().splitlines())}
    assert scores[str(real / "00.png")]["notes"].startswith("50.0 % of pixels transparent")
    page = (bench / "index.html").read_text()
    assert "1 with loader notes" in page and "1 image changed on the way in" in page
    # A journal row from before notes were recorded is scored again, so its notes are not lost.
    journal = bench / "results.jsonl"
    rows = [json.loads(line) for line in journal.read_text().splitlines()]
    for row in rows:
        del row["notes"]
    journal.write_text("".join(json.dumps(row) + "\n" for row in rows[:3]))
    result = runner.invoke(app, [*arguments, "-m", model, "-o", str(bench)])
    assert result.exit_code == 0 and "earlier run" not in result.output
    assert "50.0 % of pixels transparent" in result.output


def test_an_interrupted_realness_run_keeps_its_scores_and_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import synthdiff.realness._score

    real, _ = fake_sources(tmp_path / "data", count=5)
    model = str(_tiny_model(tmp_path))
    arguments = ["realness", str(real), "-m", model, "--no-stability", "--json", str(tmp_path / "s.json")]
    scoring = synthdiff.realness._score.score_image
    calls: list[int] = []

    def interrupted_after_three(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return scoring(*args, **kwargs)

    monkeypatch.setattr(synthdiff.realness._score, "score_image", interrupted_after_three)
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 130 and "interrupted: 3 of 5 images scored" in result.output
    written = json.loads((tmp_path / "s.json").read_text())
    assert not written["complete"] and len(written["images"]) == 3
    first_three = dict(written["images"])
    monkeypatch.setattr(synthdiff.realness._score, "score_image", scoring)
    # Other settings score everything again.
    shutil.copy(tmp_path / "s.json", tmp_path / "other.json")
    result = CliRunner().invoke(app, [*arguments[:-2], "--stability", "--json", str(tmp_path / "other.json")])
    assert result.exit_code == 0 and "interrupted run" not in result.output
    # The same command scores only the images not scored yet, and keeps the others as they were.
    (real / "01.png").touch()  # changed since it was scored: scored again
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0 and "2 scores taken from the interrupted run" in result.output
    written = json.loads((tmp_path / "s.json").read_text())
    assert written["complete"] and len(written["images"]) == 5
    assert written["images"][str(real / "00.png")] == first_three[str(real / "00.png")]


@pytest.mark.parametrize("brightest", [255, 65535])
def test_a_16_bit_image_scores_the_same_in_realness_compare_and_the_bench(
    tmp_path: Path, brightest: int
) -> None:
    """The models were trained, calibrated and benchmarked on 8-bit pixels; `realness` and `compare`
    scored a 16-bit file's finer steps, so the same image got another probability (an almost black one,
    8-bit data saved unscaled: 0.32 in `realness`, 0.28 in `realness-bench` with the shipped model)."""
    import cv2

    from synthdiff import compare

    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(3)
    values = np.round(rng.random((80, 96, 3)) ** 2 * brightest).astype(np.uint16)  # between 8-bit steps
    cv2.imwrite(str(folder / "deep.png"), values)
    image = str(folder / "deep.png")
    model = str(_tiny_model(tmp_path))
    runner = CliRunner()
    result = runner.invoke(app, ["realness", image, "-m", model, "--json", str(tmp_path / "s.json")])
    assert result.exit_code == 0, result.output
    scored = json.loads((tmp_path / "s.json").read_text())["images"][image]["probability_synthetic"]
    result = runner.invoke(
        app, ["realness-bench", str(folder), "--label", "real", "-m", model, "-o", str(tmp_path / "b")]
    )
    assert result.exit_code == 0, result.output
    (row,) = csv.DictReader((tmp_path / "b" / "scores.csv").read_text().splitlines())
    benched = float(row["probability_synthetic"])
    compared = compare(image, image, fast=True, realness_model=model).to_dict()["realness"]["reference"]
    assert scored == pytest.approx(benched, abs=1e-4) and compared["probability_synthetic"] == pytest.approx(
        benched, abs=1e-4
    )


def test_json_to_stdout_for_a_pipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `--json -` wrote a file named '-' and printed the lines on stdout, so `| jq` read no JSON.
    real, _ = fake_sources(tmp_path / "data", count=2)
    model = str(_tiny_model(tmp_path))
    monkeypatch.chdir(tmp_path)
    arguments = ["realness", str(real), "-m", model, "--no-stability", "--json"]
    piped = CliRunner().invoke(app, [*arguments, "-"])
    assert piped.exit_code == 0, piped.output
    assert not (tmp_path / "-").exists()
    assert "00.png" in piped.stderr  # the lines, for the person watching
    assert CliRunner().invoke(app, [*arguments, "s.json"]).exit_code == 0
    from_file = json.loads((tmp_path / "s.json").read_text())
    assert json.loads(piped.stdout)["images"] == from_file["images"]
