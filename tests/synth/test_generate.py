"""``synthdiff generate`` with the real Blender at tiny sizes: every feature, resume, reproducibility,
user scenes and bad inputs. Needs the ``blender`` extra (bpy 5.0.1, Python 3.11)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from synthdiff.cli import app
from synthdiff.errors import OutputError, SceneError
from synthdiff.synth import FEATURES, LABEL_FEATURES, GenerateOptions, generate

# find_spec, not importorskip: the test process itself never imports bpy, as in real use.
pytestmark = [
    pytest.mark.blender,
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("bpy") is None, reason="the blender extra is not installed"),
]

SMALL = {"width": 64, "height": 64, "samples": 4}
# Which parameters each feature may change ("feature" field of each recorded change).
ALLOWED = {
    "illumination": {"illumination"},
    "reflection": {"reflection"},
    "texture": {"texture"},
    "transparency": {"transparency"},
    "mixed": {"illumination", "texture"},
    "all": {"illumination", "reflection", "texture", "transparency"},
    "objects": {"objects"},
    "none": set(),
    "combined": {"illumination", "reflection", "texture", "transparency"},
}


def records(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]


def mask(folder: Path, relative: str) -> np.ndarray:
    return np.asarray(Image.open(folder / relative)) > 0


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One tiny dataset per feature: 3 scenes x 2 variants, so that each split gets a scene."""
    root = tmp_path_factory.mktemp("datasets")
    made = {}
    for feature in FEATURES:
        folder = root / feature
        generate(GenerateOptions(feature, scenes=3, variants=2, **SMALL), folder, workers=2)
        made[feature] = folder
    return made


@pytest.mark.parametrize("feature", FEATURES)
def test_each_feature_changes_only_its_own_parameters(datasets: dict[str, Path], feature: str) -> None:
    rows = records(datasets[feature])
    assert len(rows) == 6
    for row in rows:
        changed = {change["feature"] for change in row["changes"]}
        if feature == "none":
            assert row["changes"] == []
        else:
            assert changed and changed <= ALLOWED[feature], row["changes"]
        if feature in ("mixed", "all"):
            assert changed == ALLOWED[feature]
        if feature == "combined":  # two or three of the four, and the record says which
            assert len(changed) in (2, 3), row["changes"]
            assert set(row["changed_labels"]) == changed
        for change in row["changes"]:
            assert change["old"] != change["new"], change


@pytest.mark.parametrize("feature", FEATURES)
def test_labels_are_non_empty_exactly_where_a_change_was_made(
    datasets: dict[str, Path], feature: str
) -> None:
    folder = datasets[feature]
    rows = records(folder)
    if feature != "none":
        # A change can be invisible from the camera (a light turned about the vertical axis above the
        # scene, at 64 pixels); the generator then tries other values and flags the pair if all fail.
        assert sum(r["visible_change"] for r in rows) >= 0.8 * len(rows)
    for row in rows:
        for name in LABEL_FEATURES:
            change = mask(folder, row["labels"]["change"][name])
            assert change.shape == (64, 64)
            if name in row["changed_labels"]:
                if row["visible_change"]:
                    assert change.any(), f"{row['pair_id']}: empty {name} change map"
                else:
                    assert row["attempts"] == 4
            else:
                assert not change.any(), f"{row['pair_id']}: {name} was not changed but is labelled"
            for key in ("seg_ref", "seg_test"):
                assert (folder / row["labels"][key][name]).is_file()


def test_none_pairs_have_empty_labels_and_little_label_noise(datasets: dict[str, Path]) -> None:
    for row in records(datasets["none"]):
        assert row["changed_labels"] == []
        assert all(value == 0 for value in row["change_fraction"].values())
        assert row["label_noise"]["illumination"] < 0.01
        assert row["seeds"]["render_reference"] != row["seeds"]["render_test"]


def test_objects_pairs_have_boxes_in_both_images(datasets: dict[str, Path]) -> None:
    folder = datasets["objects"]
    for row in records(folder):
        boxes = json.loads((folder / row["boxes"]).read_text())
        assert boxes
        for box in boxes:
            assert box["change"] in {"moved", "removed", "added", "recoloured"}
            if box["change"] == "removed":
                assert box["box_test"] is None and box["box_reference"] is not None
            if box["change"] == "added":
                assert box["box_reference"] is None
            for key in ("box_reference", "box_test"):
                if box[key] is not None:
                    x0, y0, x1, y1 = box[key]
                    assert 0 <= x0 < x1 <= 64 and 0 <= y0 < y1 <= 64


def test_dataset_layout_splits_and_card(datasets: dict[str, Path]) -> None:
    folder = datasets["texture"]
    rows = records(folder)
    scene_split: dict[str, set[str]] = {}
    for row in rows:
        scene_split.setdefault(row["scene_id"], set()).add(row["split"])
        assert (folder / row["reference"]).is_file() and (folder / row["test"]).is_file()
        with Image.open(folder / row["test"]) as image:
            assert image.size == (64, 64)
        assert row["render"]["engine"].startswith("Blender 5.0")
    assert all(len(splits) == 1 for splits in scene_split.values()), "a scene is in two splits"
    assert {s for splits in scene_split.values() for s in splits} == {"train", "val", "test"}
    for split in ("train", "val", "test"):
        ids = (folder / "splits" / f"{split}.txt").read_text().split()
        assert ids == [r["pair_id"] for r in rows if r["split"] == split]
    card = (folder / "README.md").read_text()
    assert "| texture | 6 |" in card
    with Image.open(folder / "contact_sheet.png") as sheet:
        assert sheet.size[0] > 300
    assert json.loads((folder / "dataset.json").read_text())["options"]["feature"] == "texture"


def test_same_seed_and_options_give_the_same_manifest(datasets: dict[str, Path], tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate(GenerateOptions("illumination", scenes=3, variants=2, **SMALL), again, workers=1)
    assert (again / "manifest.jsonl").read_text() == (datasets["illumination"] / "manifest.jsonl").read_text()


def test_more_variants_extend_a_dataset_as_a_fresh_run_would(
    datasets: dict[str, Path], tmp_path: Path
) -> None:
    grown = tmp_path / "grown"
    shutil.copytree(datasets["illumination"], grown)
    manifest_seen = []  # while the run grows it, the old manifest (6 of 9 pairs) must not look finished
    result = generate(
        GenerateOptions("illumination", scenes=3, variants=3, **SMALL),
        grown,
        workers=1,
        on_pair=lambda done, total: manifest_seen.append((grown / "manifest.jsonl").exists()),
    )
    assert result.rendered == 3  # one new variant per scene; the six existing pairs are kept
    assert manifest_seen == [False] * 4
    fresh = tmp_path / "fresh"
    generate(GenerateOptions("illumination", scenes=3, variants=3, **SMALL), fresh, workers=1)
    assert (grown / "manifest.jsonl").read_text() == (fresh / "manifest.jsonl").read_text()
    with pytest.raises(OutputError, match="can grow, not shrink"):
        generate(GenerateOptions("illumination", scenes=3, variants=1, **SMALL), grown)


def test_interrupted_run_resumes_without_duplicates(tmp_path: Path) -> None:
    folder = tmp_path / "resume"
    options = GenerateOptions("reflection", scenes=2, variants=2, **SMALL)
    generate(options, folder)
    complete = (folder / "manifest.jsonl").read_text()
    # Simulate an interruption: the last pair never finished and the journal's last line is cut.
    journal = (folder / "progress.jsonl").read_text().splitlines()
    last = json.loads(journal[-1])["pair_id"]
    shutil.rmtree(folder / "pairs" / last)
    (folder / "progress.jsonl").write_text("\n".join(journal[:-1]) + "\n" + journal[-1][:40])
    (folder / "manifest.jsonl").unlink()

    result = generate(options, folder)
    assert result.rendered == 1
    assert (folder / "manifest.jsonl").read_text() == complete
    ids = [r["pair_id"] for r in records(folder)]
    assert len(ids) == len(set(ids)) == 4

    assert generate(options, folder).rendered == 0  # nothing left to do
    with pytest.raises(OutputError, match="these differ: samples"):
        generate(GenerateOptions("reflection", scenes=2, variants=2, width=64, height=64, samples=8), folder)


def test_user_scene_round_trips(tmp_path: Path) -> None:
    # Without denoising: OpenImageDenoise's threads may change a few pixels by one 8-bit level from
    # run to run, which has nothing to do with the scene file; the raw path tracing is deterministic.
    made = tmp_path / "procedural"
    generate(GenerateOptions("texture", scenes=1, variants=1, save_scenes=True, denoise=False, **SMALL), made)
    blend = made / "scenes" / "s00000" / "scene.blend"
    assert blend.is_file()

    from_file = tmp_path / "from-file"
    options = GenerateOptions("texture", scenes=2, variants=2, scene_file=str(blend), denoise=False, **SMALL)
    generate(options, from_file)
    original = np.asarray(Image.open(made / "scenes/s00000/reference.png"))
    reloaded = np.asarray(Image.open(from_file / "scenes/s00000/reference.png"))
    assert np.array_equal(original, reloaded), "the saved scene renders differently when loaded again"
    rows = records(from_file)
    assert len(rows) == 4 and all(r["visible_change"] for r in rows)
    second = json.loads((from_file / "scenes/s00001/scene.json").read_text())
    assert second["kind"] == "file" and second["base_changes"], "other references perturb the file's settings"


def test_the_view_transform_is_applied_and_recorded_per_scene(tmp_path: Path) -> None:
    # The same scene and change mapped to display another way: labels (from linear passes) are the same,
    # the images are not; mixed draws one of AgX, Standard and Filmic per scene.
    made = {}
    for view in (None, "Standard", "mixed"):
        folder = tmp_path / str(view)
        generate(GenerateOptions("texture", scenes=3, variants=1, view_transform=view, **SMALL), folder)
        made[view] = folder
    views = {
        view: [
            json.loads((folder / f"scenes/s{i:05d}/scene.json").read_text())["view_transform"]
            for i in range(3)
        ]
        for view, folder in made.items()
    }
    assert views[None] == ["AgX"] * 3 and views["Standard"] == ["Standard"] * 3
    assert set(views["mixed"]) <= {"AgX", "Standard", "Filmic"}
    default, standard = records(made[None])[0], records(made["Standard"])[0]
    labels = [
        mask(folder, row["labels"]["change"]["texture"])
        for folder, row in ((made[None], default), (made["Standard"], standard))
    ]
    assert labels[0].any() and np.array_equal(labels[0], labels[1])
    reference = np.asarray(Image.open(made[None] / default["reference"]))
    assert not np.array_equal(reference, np.asarray(Image.open(made["Standard"] / standard["reference"])))


def test_user_scene_without_camera_is_refused(tmp_path: Path) -> None:
    blend = tmp_path / "no-camera.blend"
    code = (
        "import bpy; bpy.ops.wm.read_factory_settings(use_empty=True); "
        "bpy.ops.mesh.primitive_cube_add(); "
        f"bpy.ops.wm.save_as_mainfile(filepath={str(blend)!r})"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    out = tmp_path / "out"
    with pytest.raises(SceneError, match="has none"):
        generate(GenerateOptions("illumination", scenes=1, variants=1, scene_file=str(blend), **SMALL), out)
    assert not out.exists(), "a failed run that made nothing leaves no folder behind"


def test_cli_generate_and_its_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    folder = tmp_path / "cli"
    args = ["generate", "--feature", "transparency", "-n", "1", "-k", "2", "--size", "64", "--samples", "4"]
    # Asked for more workers than scenes: one ran, and the run says so. Each worker holds a Blender of its
    # own (about 0.5 GB): over 99 scenes, -j 99 used to start 99 of them whatever the CPU count.
    result = runner.invoke(app, [*args, "--out", str(folder), "--workers", "99"])
    assert result.exit_code == 0, result.output
    assert "2 pairs" in result.output
    assert "note: 1 Blender worker ran, not 99: at most one per CPU core and per scene" in result.output
    assert len(records(folder)) == 2

    cases = [
        (["--feature", "shadows"], "Expected --feature to be one of"),
        (["--size", "0"], "--size"),
        (["--scene", str(tmp_path / "missing.blend")], "does not exist"),
    ]
    for extra, message in cases:
        base = [a for a in args if a not in ("transparency", "--feature")]
        if "--feature" not in extra:
            base = ["generate", "--feature", "transparency", *base[1:]]
        result = runner.invoke(app, [*base, *extra, "--out", str(tmp_path / "bad")])
        assert result.exit_code == 2, result.output
        assert message in result.output
        assert "Traceback" not in result.output


def test_ctrl_c_stops_quickly_and_the_run_resumes(tmp_path: Path) -> None:
    folder = tmp_path / "interrupted"
    command = [sys.executable, "-c", "from synthdiff.cli import main; main()", "generate", "-f", "texture"]
    # Long enough (80 pairs) that it is still running when the signal comes.
    command += ["-n", "1", "-k", "80", "--size", "96", "--samples", "4", "--out", str(folder)]
    # Ctrl-C's own disposition in the child, even when this test runs with SIGINT ignored (as under
    # `cmd &` in a shell without job control, which a child would inherit through exec).
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    journal = folder / "progress.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (journal.is_file() and journal.read_text().count("\n") >= 2):
        time.sleep(0.2)

    # Paused (it keeps its lock) while a second run is refused, so that it cannot finish meanwhile
    # however slowly that second interpreter starts.
    process.send_signal(signal.SIGSTOP)
    try:
        concurrent = subprocess.run(command, capture_output=True, text=True)
    finally:
        process.send_signal(signal.SIGINT)  # pending until it continues, then handled at once
        process.send_signal(signal.SIGCONT)
    assert concurrent.returncode == 2 and "no other generate run to be writing" in concurrent.stderr
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 130, output
    assert "run the same command again to resume" in output
    kept = len(journal.read_text().splitlines())
    assert 2 <= kept < 80

    resumed = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{80 - kept} rendered now" in resumed.stdout
    ids = [r["pair_id"] for r in records(folder)]
    assert len(ids) == len(set(ids)) == 80


def test_an_error_while_stopping_the_workers_does_not_hide_the_interruption(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C must reach the CLI as Ctrl-C (exit 130, "run again to resume") even when stopping the
    workers fails, as reading a record a killed worker left half-written can (EOFError)."""
    from synthdiff.synth import _generate

    real_stop = _generate.stop_pool

    def stop_then_fail(pool: Any) -> None:
        real_stop(pool)
        raise EOFError("Ran out of input")

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(_generate, "stop_pool", stop_then_fail)
    monkeypatch.setattr(_generate, "wait", interrupted)
    with pytest.raises(KeyboardInterrupt) as raised:
        generate(GenerateOptions("texture", scenes=1, variants=1, **SMALL), tmp_path / "out", workers=1)
    assert "while stopping the workers: EOFError" in "".join(raised.value.__notes__)


@pytest.mark.parametrize("feature", FEATURES)
def test_bundled_exam_scene_supports_every_feature(tmp_path: Path, feature: str) -> None:
    """A scene made by hand (examples/exam.blend, not by the generator) for every feature."""
    exam = Path(__file__).resolve().parents[2] / "examples" / "exam.blend"
    options = GenerateOptions(feature, scenes=1, variants=2, scene_file=str(exam), **SMALL)
    generate(options, tmp_path / feature)
    rows = records(tmp_path / feature)
    assert len(rows) == 2
    for row in rows:
        assert {c["feature"] for c in row["changes"]} <= ALLOWED[feature]
        if feature != "none":
            assert row["visible_change"], row
