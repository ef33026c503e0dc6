"""Batch comparison: matching, CSV parsing errors, bad pairs skipped, resuming an interrupted run."""

from __future__ import annotations

import csv
import html
import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from synthdiff._journal import folder_lock
from synthdiff.cli import app
from synthdiff.diff import (
    PairSpec,
    feature_sentence,
    pairs_from_csv,
    pairs_from_folders,
    pairs_from_reference,
    run_batch,
)
from synthdiff.errors import InvalidArgumentError
from tests.conftest import EXAMPLES

NAMES = ["wrong-light", "wrong-roughness", "shifted-texture"]


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    reference, test = tmp_path / "ref", tmp_path / "test"
    reference.mkdir()
    test.mkdir()
    for name in NAMES:
        shutil.copy(EXAMPLES / name / "reference.png", reference / f"{name}.png")
        shutil.copy(EXAMPLES / name / "test.png", test / f"{name}.png")
    shutil.copy(EXAMPLES / NAMES[0] / "reference.png", reference / "broken.png")
    (test / "broken.png").write_bytes(b"not an image")
    shutil.copy(EXAMPLES / NAMES[0] / "reference.png", reference / "alone.png")
    return reference, test


def test_folders_matched_by_name(folders: tuple[Path, Path]) -> None:
    pairs, unmatched = pairs_from_folders(*folders)
    assert [p.pair_id for p in pairs] == sorted([*NAMES, "broken"])
    assert len(unmatched) == 1 and unmatched[0].endswith("alone.png")
    # One folder given twice would compare every image with itself.
    with pytest.raises(
        InvalidArgumentError, match=r"got '.*' twice: every image would be compared with itself"
    ):
        pairs_from_folders(folders[0], f"{folders[0]}/./")


def test_names_differing_in_case_and_shared_names_lose_no_file(tmp_path: Path) -> None:
    reference, test = tmp_path / "ref", tmp_path / "test"
    for folder, names in (
        (reference, ["Alice.png", "bob.png", "carol.png", "carol.exr", "dan.png", "Erin.png", "erin.png"]),
        (test, ["alice.PNG", "bob.png", "bob.jpg", "carol.png", "carol.jpg", "dan.png", "ERIN.png"]),
    ):
        folder.mkdir()
        for name in names:
            (folder / name).write_bytes(b"")  # matching reads names only
    pairs, unmatched = pairs_from_folders(reference, test)
    assert [(p.pair_id, Path(p.reference).name, Path(p.test).name) for p in pairs] == [
        ("Alice", "Alice.png", "alice.PNG"),  # case differs, no other candidate
        ("bob.jpg", "bob.png", "bob.jpg"),  # one reference, two test files: both compared with it
        ("bob.png", "bob.png", "bob.png"),
        ("carol.png", "carol.png", "carol.png"),  # two references: paired by extension
        ("dan", "dan.png", "dan.png"),
    ]
    # carol.jpg has no reference of its extension; ERIN could be Erin or erin: neither is guessed.
    assert unmatched == [str(reference / name) for name in ("Erin.png", "carol.exr", "erin.png")] + [
        str(test / name) for name in ("ERIN.png", "carol.jpg")
    ]
    everyone = pairs_from_reference(reference / "dan.png", test)
    assert [p.pair_id for p in everyone] == [
        "ERIN",
        "alice",
        "bob.jpg",
        "bob.png",
        "carol.jpg",
        "carol.png",
        "dan",
    ]


def test_bad_pair_is_skipped_and_reported(folders: tuple[Path, Path], tmp_path: Path) -> None:
    pairs, _ = pairs_from_folders(*folders)
    result = run_batch(pairs, tmp_path / "out", fast=True)
    assert result.failed == 1 and result.compared == 4
    broken = next(row for row in result.rows if row["id"] == "broken")
    assert broken["status"] == "error" and "not an image" in broken["error"]
    with (tmp_path / "out" / "summary.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4 and {r["status"] for r in rows} == {"ok", "error"}
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["failed"] == 1


def test_interrupted_run_resumes(folders: tuple[Path, Path], tmp_path: Path) -> None:
    pairs, _ = pairs_from_folders(*folders)
    out = tmp_path / "out"
    first = run_batch(pairs[:2], out, fast=True)
    assert first.compared == 2
    # Simulate an interruption in the middle of writing the next line.
    with (out / "results.jsonl").open("a") as log:
        log.write('{"id": "shifted-te')
    second = run_batch(pairs, out, fast=True)
    # Of the two pairs done before, "broken" failed and is tried again; "shifted-texture" is kept.
    assert [p.pair_id for p in pairs[:2]] == ["broken", "shifted-texture"]
    assert second.resumed == 1 and second.compared == 3
    assert [row["id"] for row in second.rows] == [p.pair_id for p in pairs]
    # A render replaced since (a resubmission) is compared again, not taken from the journal.
    resubmitted = next(p for p in pairs if p.pair_id == "shifted-texture")
    before = next(row for row in second.rows if row["id"] == "shifted-texture")
    shutil.copy(resubmitted.reference, resubmitted.test)
    third = run_batch(pairs, out, fast=True)
    after = next(row for row in third.rows if row["id"] == "shifted-texture")
    assert third.resumed == 2 and third.compared == 2  # the replaced pair and "broken"
    assert before["mae"] > 0 and after["mae"] == 0.0


def _slow_pair(pair: Any, options: Any, report_dir: Any) -> dict[str, Any]:
    time.sleep(2.0)
    return {"id": pair.pair_id, "status": "ok", "reference": pair.reference, "test": pair.test}


def test_ctrl_c_with_workers_stops_at_once_and_keeps_what_was_done(
    folders: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Leaving the pool's `with` block waited for every pair already queued (10.8 s for 20 left at
    # 800x600), and threw their results away.
    import multiprocessing

    from synthdiff.diff import _batch

    pairs = [PairSpec(f"p{i:02d}", str(folders[0]), str(folders[1])) for i in range(12)]
    monkeypatch.setattr(_batch, "_compare_one", _slow_pair)  # forked workers inherit it
    monkeypatch.setattr(_batch, "_pool_context", lambda options: multiprocessing.get_context("fork"))

    def interrupt(done: int, total: int) -> None:
        if done >= 1:
            raise KeyboardInterrupt

    before = set(multiprocessing.active_children())  # other tests' processes, if any are left
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run_batch(pairs, tmp_path / "out", workers=2, progress=interrupt)
    elapsed = time.monotonic() - start
    assert elapsed < 6.0, elapsed  # the 12 pairs take 12 s on 2 workers; one is 2 s
    assert len((tmp_path / "out" / "results.jsonl").read_text().splitlines()) == 1
    assert set(multiprocessing.active_children()) <= before  # the workers were stopped


def test_resume_with_other_settings_is_refused(folders: tuple[Path, Path], tmp_path: Path) -> None:
    pairs, _ = pairs_from_folders(*folders)
    run_batch(pairs[:1], tmp_path / "out", fast=True)
    with pytest.raises(InvalidArgumentError, match=r"other settings.*--restart"):
        run_batch(pairs[:1], tmp_path / "out", fast=False)
    assert run_batch(pairs[:1], tmp_path / "out", fast=False, restart=True).compared == 1


def test_parallel_workers_give_the_same_rows(folders: tuple[Path, Path], tmp_path: Path) -> None:
    pairs, _ = pairs_from_folders(*folders)
    serial = run_batch(pairs, tmp_path / "a", fast=True)
    parallel = run_batch(pairs, tmp_path / "b", fast=True, workers=2)
    assert serial.rows == parallel.rows


def test_csv_pairs_relative_to_the_csv(tmp_path: Path) -> None:
    (tmp_path / "pairs.csv").write_text(
        "id,reference,test\n"
        f"a,{EXAMPLES / 'wrong-light' / 'reference.png'},{EXAMPLES / 'wrong-light' / 'test.png'}\n"
        "b,ref.png,test.png\n"
    )
    pairs = pairs_from_csv(tmp_path / "pairs.csv")
    assert pairs[1].reference == str(tmp_path / "ref.png")


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_delimiter_is_read_from_the_header(tmp_path: Path, delimiter: str) -> None:
    # Spreadsheets in many locales save CSV with semicolons; a path may hold the other delimiters.
    rows = ["id", "reference", "test"], ["a", "ref, final.png", "test;1.png"]
    (tmp_path / "pairs.csv").write_text(
        "".join(delimiter.join(f'"{v}"' if delimiter in v else v for v in row) + "\n" for row in rows),
        encoding="utf-8-sig",  # as spreadsheets write it, with a byte-order mark
    )
    (pair,) = pairs_from_csv(tmp_path / "pairs.csv")
    assert (pair.pair_id, pair.reference, pair.test) == (
        "a",
        str(tmp_path / "ref, final.png"),
        str(tmp_path / "test;1.png"),
    )


def test_csv_rows_without_an_id_are_named_by_the_shortest_unique_end_of_their_test_path(
    tmp_path: Path,
) -> None:
    # Named by the file name alone, every row of a folder-per-exercise layout was called "test", and the
    # CSV was refused for a repeated id.
    (tmp_path / "pairs.csv").write_text(
        "id,reference,test\n"
        ",light/reference.png,light/test.png\n"
        ",texture/reference.png,texture/test.exr\n"
        ",ref.png,students/ben.jpg\n"
        f",ref.png,{tmp_path}/a/group-b/anna.png\n"
        f",ref.png,{tmp_path}/b/group-b/anna.png\n"
        "own,ref.png,light/test.png\n"
        "sam,ref.png,sam.png\n"
        ",ref.png,more/sam.png\n"  # not "sam": that is another row's id
        ",ref.png,jo.png\n"
        ",ref.png,jo.exr\n"  # the same name but for the extension: it stays
    )
    ids = [pair.pair_id for pair in pairs_from_csv(tmp_path / "pairs.csv")]
    assert ids == [
        "light/test", "texture/test", "ben", "a/group-b/anna", "b/group-b/anna", "own", "sam", "more/sam",
        "jo.png", "jo.exr",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "content, message",
    [
        ("reference,image\nx.png,y.png\n", "needs a header with columns 'reference' and 'test'"),
        ("id,reference,test\na,x.png\n", "line 2: expected a reference and a test path; test is empty"),
        # Line numbers are the file's own, blank lines counted.
        ("id,reference,test\n\n\na,x.png,y.png,z.png\n", "line 4: 4 fields, but the header names 3"),
        (
            "id,reference,test\na,x.png,y.png\na,z.png,w.png\n",
            "line 3: the pair id 'a' is also the id of line 2",
        ),
        # One test image against two references: its path cannot name both.
        (
            "reference,test\nx.png,y.png\nz.png,y.png\n",
            r"line 3: .*'y' is also the id of line 2 \(named by its test",
        ),
        (
            "id,reference,test\ny,x.png,q.png\n,z.png,y.png\n",
            r"line 3: the pair id 'y' is also the id of line 2 \(named by",
        ),
        ("id,reference,test\n", "has a header but no pairs"),
        # A quote never closed takes in the lines after it: once reported as an empty test path.
        ('reference,test\nx.png,y.png\n"z.png,w.png\n', r"line 3: a quote \(\"\) is opened and not closed"),
        ('reference,test\n"x.png,y.png\nz.png,w.png\n', r"line 2: .* after it through line 3\. Fix: close"),
    ],
)
def test_malformed_csv(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "pairs.csv").write_text(content)
    with pytest.raises(InvalidArgumentError, match=message):
        pairs_from_csv(tmp_path / "pairs.csv")


def test_a_csv_that_is_not_utf8_names_the_byte_and_line(tmp_path: Path) -> None:
    # A spreadsheet's CSV in Latin-1 (a student called Zoé): the message says where, as every reader's does.
    (tmp_path / "pairs.csv").write_bytes("id,reference,test\nzo\xe9,x.png,y.png\n".encode("latin-1"))
    with pytest.raises(InvalidArgumentError, match=r"UTF-8 pairs CSV .* byte 20 \(line 2\) is not UTF-8"):
        pairs_from_csv(tmp_path / "pairs.csv")


def test_batch_cli(folders: tuple[Path, Path], tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["batch", *map(str, folders), "-o", str(tmp_path / "out"), "--fast"])
    assert result.exit_code == 0, result.output
    assert "4 pairs: 3 compared now, 0 from an earlier run, 1 could not be compared" in result.output
    assert "broken" in result.output
    assert (tmp_path / "out" / "summary.csv").is_file()
    # The reference without a partner is recorded, not only printed (summary.json said [] before).
    alone = str(folders[0] / "alone.png")
    assert f"no partner {alone}" in result.output.replace("\n", "")
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["unmatched"] == [alone]
    page = (tmp_path / "out" / "index.html").read_text()
    assert "1 file without a partner" in page and f"<code>{alone}</code>" in page


def test_batch_starts_no_more_workers_than_cores_and_pairs(
    folders: tuple[Path, Path], tmp_path: Path
) -> None:
    import os

    args = ["batch", *map(str, folders), "-o", str(tmp_path / "out"), "--fast", "--workers", "99"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    ran = min(4, os.cpu_count() or 1)  # 4 pairs (one of them broken)
    assert (
        f"note: {ran} worker{'s' if ran > 1 else ''} ran, not 99: at most one per CPU core" in result.output
    )
    assert "4 pairs: 3 compared now" in result.output


@pytest.mark.parametrize("inner", ["test", "reference"])
def test_a_folder_inside_the_other_is_not_read_as_part_of_it(tmp_path: Path, inner: str) -> None:
    # renders/ with the students' renders in renders/students/: those were also read as references
    # without a partner ("no partner renders/students/a.png").
    outer, nested = tmp_path / "renders", tmp_path / "renders" / "students"
    nested.mkdir(parents=True)
    for folder in (outer, nested):
        for name in NAMES:
            shutil.copy(
                EXAMPLES / name / f"{'reference' if folder is outer else 'test'}.png", folder / f"{name}.png"
            )
    reference, test = (outer, nested) if inner == "test" else (nested, outer)
    pairs, unmatched = pairs_from_folders(reference, test)
    assert unmatched == [] and [pair.pair_id for pair in pairs] == sorted(NAMES)
    assert all(Path(pair.reference).parent == reference and Path(pair.test).parent == test for pair in pairs)


@pytest.mark.parametrize("mode", ["folders", "one reference"])
def test_an_output_folder_inside_an_input_is_not_read_on_the_next_run(tmp_path: Path, mode: str) -> None:
    # -o renders/reports --reports: the next run read the reports' PNG panels as references without
    # a partner ("no partner renders/reports/reports/x/flip.png"), or, against one reference, as
    # students' renders to compare.
    renders, students = tmp_path / "renders", tmp_path / "students"
    for folder, kind in ((renders, "reference"), (students, "test")):
        folder.mkdir()
        for name in NAMES[:2]:
            shutil.copy(EXAMPLES / name / f"{kind}.png", folder / f"{name}.png")
    inputs = [str(renders / f"{NAMES[0]}.png") if mode == "one reference" else str(renders), str(students)]
    output = (renders if mode == "folders" else students) / "reports"
    args = ["batch", *inputs, "-o", str(output), "--fast", "--reports"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert len(list(output.rglob("*.png"))) >= 6  # the panels a naive listing would pick up
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0, again.output
    assert (
        "2 pairs: 0 compared now, 2 from an earlier run" in again.output and "no partner" not in again.output
    )


def test_an_output_folder_another_batch_is_writing_is_refused(tmp_path: Path) -> None:
    # Started twice (two terminals): both appended to one journal and overwrote each other's tables.
    pairs = [PairSpec("a", str(EXAMPLES / NAMES[0] / "reference.png"), str(EXAMPLES / NAMES[0] / "test.png"))]
    with folder_lock(tmp_path / "out", "batch"):
        arguments = ["batch", "--csv", str(_csv(tmp_path, pairs)), "-o", str(tmp_path / "out")]
        result = CliRunner().invoke(app, arguments)
        assert result.exit_code == 2 and "no other batch run to be writing" in result.output
    assert not (tmp_path / "out" / "results.jsonl").exists()
    assert run_batch(pairs, tmp_path / "out", fast=True).compared == 1  # free again


def _csv(folder: Path, pairs: list[PairSpec]) -> Path:
    path = folder / "pairs.csv"
    path.write_text("id,reference,test\n" + "".join(f"{p.pair_id},{p.reference},{p.test}\n" for p in pairs))
    return path


def test_batch_cli_needs_inputs(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["batch", "-o", str(tmp_path)])
    assert result.exit_code == 2 and "Expected REFERENCE_DIR and TEST_DIR (or one REFERENCE" in result.output


def test_index_page_lists_every_pair_and_escapes_names(folders: tuple[Path, Path], tmp_path: Path) -> None:
    reference, test = folders
    shutil.copy(EXAMPLES / NAMES[0] / "test.png", test / "alone.png")
    (reference / "alone.png").rename(reference / "<i>odd.png")
    shutil.copy(EXAMPLES / NAMES[0] / "test.png", test / "<i>odd.png")
    pairs, _ = pairs_from_folders(reference, test)
    run_batch(pairs, tmp_path / "out", fast=True, reports=True)
    page = (tmp_path / "out" / "index.html").read_text()
    for name in NAMES:
        assert f'<a href="reports/{name}/index.html">{name}</a>' in page
        assert (tmp_path / "out" / "reports" / name / "index.html").is_file()
    assert "&lt;i&gt;odd" in page and "<i>odd" not in page
    assert "error: " in page and "not an image" in page  # the broken pair, without a link
    assert 'href="reports/broken' not in page
    assert ">flip<" not in page  # not computed with fast=True, so no column for it


def test_change_model_columns(folders: tuple[Path, Path], tmp_path: Path) -> None:
    from synthdiff.change import create_model, save_checkpoint

    features = ["illumination", "texture"]
    model = tmp_path / "tiny.pt"
    save_checkpoint(model, create_model("fresunet-tiny", features), "fresunet-tiny", features)
    pairs, _ = pairs_from_folders(*folders)
    result = run_batch(pairs, tmp_path / "out", fast=True, change_model=str(model))
    ok = [row for row in result.rows if row["status"] == "ok"]
    assert len(ok) == 3
    for row in ok:
        assert {"change_illumination", "change_texture"} <= set(row)
        assert 0.0 <= row["change_illumination"] <= 1.0
        assert row["features_changed"] == feature_sentence(
            {"illumination": row["change_illumination"], "texture": row["change_texture"]}
        )
        assert all(region["feature"] in features for region in row["feature_regions"])
    with (tmp_path / "out" / "summary.csv").open() as handle:
        header = next(csv.reader(handle))
    assert header.index("features_changed") < header.index("change_illumination") < header.index("alignment")
    page = (tmp_path / "out" / "index.html").read_text()
    assert ">illumination</th>" in page and ">texture</th>" in page
    # Another model's results are not reused.
    with pytest.raises(InvalidArgumentError, match="other settings"):
        run_batch(pairs, tmp_path / "out", fast=True)
    # Nor those of the model at another working size (--change-native-size).
    with pytest.raises(InvalidArgumentError, match="other settings"):
        run_batch(pairs, tmp_path / "out", fast=True, change_model=str(model), change_native_size=True)
    native = run_batch(
        pairs, tmp_path / "native", fast=True, change_model=str(model), change_native_size=True
    )
    assert [row["status"] for row in native.rows] == [row["status"] for row in result.rows]
    # Without a change model the option changes nothing, so a run made before it existed resumes.
    plain = run_batch(pairs, tmp_path / "plain", fast=True)
    again = run_batch(pairs, tmp_path / "plain", fast=True, change_native_size=False)
    assert again.resumed == len([row for row in plain.rows if row["status"] == "ok"]) == 3


def test_workers_are_spawned_only_where_a_gpu_may_be_used(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from synthdiff.diff._batch import _pool_context

    monkeypatch.setattr(torch.backends.cuda, "is_built", lambda: False)
    assert _pool_context({"change_model": "m.pt"}) is None  # auto, and torch has no CUDA: the CPU
    assert _pool_context({"change_model": "m.pt", "device": "cuda"}) is not None
    monkeypatch.setattr(torch.backends.cuda, "is_built", lambda: True)
    assert _pool_context({"change_model": "m.pt"}) is not None  # auto may pick a GPU
    assert _pool_context({"change_model": "m.pt", "device": "cpu"}) is None
    assert _pool_context({"device": "auto"}) is None  # no model, no CUDA


def test_change_model_in_fresh_workers_and_a_resume_on_another_device(
    folders: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a change model that may run on a GPU, workers are spawned (CUDA does not survive a fork);
    their rows match one process's. Where the model ran is no reason to compare the pairs again."""
    import torch

    from synthdiff.change import create_model, save_checkpoint
    from synthdiff.diff._batch import _pool_context

    features = ["illumination", "texture"]
    model = str(tmp_path / "tiny.pt")
    save_checkpoint(model, create_model("fresunet-tiny", features), "fresunet-tiny", features)
    monkeypatch.setattr(torch.backends.cuda, "is_built", lambda: True)  # as on a CUDA build of torch
    assert _pool_context({"change_model": model}) is not None
    pairs, _ = pairs_from_folders(*folders)
    spawned = run_batch(pairs, tmp_path / "two", workers=2, fast=True, change_model=model)
    single = run_batch(pairs, tmp_path / "one", fast=True, change_model=model, device="cpu")
    assert spawned.compared == single.compared == len(pairs)
    for left, right in zip(spawned.rows, single.rows, strict=True):
        assert left["status"] == right["status"]
        if left["status"] == "ok":
            assert left["change_texture"] == pytest.approx(right["change_texture"], abs=1e-4)
    again = run_batch(pairs, tmp_path / "one", fast=True, change_model=model, device="auto")
    assert again.resumed == sum(row["status"] == "ok" for row in single.rows) == 3


def test_feature_sentence() -> None:
    assert feature_sentence({"illumination": 0.02, "texture": 0.3, "reflection": 0.0004}) == (
        "texture 30.0 %; illumination 2.0 %"
    )
    assert feature_sentence({"illumination": 0.0, "texture": 0.0001}) == "none"


def test_one_reference_against_a_folder(tmp_path: Path) -> None:
    """An exam: one reference render, a folder of students' renders (the reference may lie in it)."""
    renders = tmp_path / "renders"
    (renders / "group-b").mkdir(parents=True)
    reference = renders / "reference.png"
    shutil.copy(EXAMPLES / "wrong-light" / "reference.png", reference)
    shutil.copy(EXAMPLES / "wrong-light" / "test.png", renders / "anna.png")
    shutil.copy(EXAMPLES / "wrong-light" / "reference.png", renders / "group-b" / "ben.png")
    pairs = pairs_from_reference(reference, renders)
    assert [(p.pair_id, Path(p.reference).name) for p in pairs] == [
        ("anna", "reference.png"),
        ("group-b/ben", "reference.png"),
    ]
    arguments = ["batch", str(reference), str(renders), "-o", str(tmp_path / "out"), "--fast"]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    assert "2 pairs: 2 compared now" in result.output and "index.html" in result.output
    rows = {
        row["id"]: row for row in csv.DictReader((tmp_path / "out" / "summary.csv").read_text().splitlines())
    }
    assert float(rows["group-b/ben"]["ssim"]) == 1.0 and float(rows["anna"]["ssim"]) < 0.99
    with pytest.raises(InvalidArgumentError, match="besides the reference"):
        pairs_from_reference(renders / "group-b" / "ben.png", renders / "group-b")
    with pytest.raises(InvalidArgumentError, match="reference image file"):
        pairs_from_reference(tmp_path / "missing.png", renders)


def test_a_black_render_has_no_brightness_change_in_the_table(tmp_path: Path) -> None:
    from synthdiff.io import load_image, save_png

    reference = load_image(EXAMPLES / NAMES[1] / "reference.png").pixels
    (tmp_path / "students").mkdir()
    save_png(tmp_path / "students" / "black.png", reference * 0.0)
    shutil.copy(EXAMPLES / NAMES[1] / "test.png", tmp_path / "students" / "good.png")
    arguments = ["batch", str(EXAMPLES / NAMES[1] / "reference.png"), str(tmp_path / "students")]
    result = CliRunner().invoke(app, [*arguments, "-o", str(tmp_path / "out"), "--fast"])
    assert result.exit_code == 0, result.output
    with (tmp_path / "out" / "summary.csv").open() as handle:
        rows = {row["id"]: row for row in csv.DictReader(handle)}
    assert rows["black"]["brightness_change"] == "" and rows["good"]["brightness_change"] != ""
    page = (tmp_path / "out" / "index.html").read_text()
    assert "n/a" in page
    # The notes compare prints reach the table: the teacher sees why the black render has no numbers.
    notes = rows["black"]["notes"].split(" | ")
    assert len(notes) >= 2 and any("differ almost everywhere" in note for note in notes)
    assert all(note in html.unescape(page) for note in notes)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["schema_version"] == "1.4"
    assert {row["id"]: row["notes"] for row in summary["pairs"]}["black"] == notes


def test_an_identical_render_keeps_its_infinite_psnr(tmp_path: Path) -> None:
    # It was written as null and shown as "n/a", so it sorted below every imperfect render.
    reference = EXAMPLES / NAMES[0] / "reference.png"
    (tmp_path / "students").mkdir()
    shutil.copy(reference, tmp_path / "students" / "perfect.png")
    shutil.copy(EXAMPLES / NAMES[0] / "test.png", tmp_path / "students" / "other.png")
    result = run_batch(pairs_from_reference(reference, tmp_path / "students"), tmp_path / "out", fast=True)
    psnr = {row["id"]: row["psnr"] for row in result.rows}
    assert psnr["perfect"] == "inf" and isinstance(psnr["other"], float)
    with (tmp_path / "out" / "summary.csv").open() as handle:
        assert {row["id"]: row["psnr"] for row in csv.DictReader(handle)}["perfect"] == "inf"
    page = (tmp_path / "out" / "index.html").read_text()
    assert '<td class="num" data-sort="Infinity" title="identical images">&infin;</td>' in page


def test_every_pair_gets_its_own_report_folder_inside_reports(tmp_path: Path) -> None:
    # "a/b" and "a_b" shared one folder (the second report replaced the first), and ".." wrote its
    # report into the output folder itself.
    pair = EXAMPLES / NAMES[0]
    rows = ["id,reference,test"] + [
        f"{name},{pair / 'reference.png'},{pair / 'test.png'}" for name in ("a/b", "a_b", "..")
    ]
    (tmp_path / "pairs.csv").write_text("\n".join(rows) + "\n")
    run_batch(pairs_from_csv(tmp_path / "pairs.csv"), tmp_path / "out", fast=True, reports=True)
    folders = sorted(p.name for p in (tmp_path / "out" / "reports").iterdir())
    assert len(folders) == 3 and "a_b" in folders and not (tmp_path / "out" / "report.json").exists()
    page = (tmp_path / "out" / "index.html").read_text()
    assert all(f'href="reports/{name}/index.html"' in page for name in folders)


def test_hdr_pairs_get_an_exposure_column(tmp_path: Path) -> None:
    from synthdiff.io import load_image, save_exr, srgb_to_linear

    reference, test = tmp_path / "ref", tmp_path / "test"
    reference.mkdir()
    test.mkdir()
    linear = srgb_to_linear(load_image(EXAMPLES / "wrong-light" / "reference.png").pixels)
    save_exr(reference / "dim.exr", linear)
    save_exr(test / "dim.exr", linear / 2)  # one stop less light
    shutil.copy(EXAMPLES / "wrong-light" / "reference.png", reference / "ldr.png")
    shutil.copy(EXAMPLES / "wrong-light" / "test.png", test / "ldr.png")
    result = run_batch(pairs_from_folders(reference, test)[0], tmp_path / "out", fast=True)
    exposure = {row["id"]: row["exposure_change_ev"] for row in result.rows}
    assert exposure["dim"] == pytest.approx(-1.0, abs=0.01) and exposure["ldr"] is None
    with (tmp_path / "out" / "summary.csv").open(newline="") as handle:
        rows = {row["id"]: row for row in csv.DictReader(handle)}
    assert float(rows["dim"]["exposure_change_ev"]) == pytest.approx(-1.0, abs=0.01)
    assert rows["ldr"]["exposure_change_ev"] == ""
    page = (tmp_path / "out" / "index.html").read_text()
    assert ">exposure</th>" in page and "-1.00 EV" in page
    # The warmer light of the wrong-light example is named (the HDR pair only darker is not).
    assert rows["ldr"]["colour_shift"].startswith("warmer: red") and rows["dim"]["colour_shift"] == ""
    assert 'title="colour balance: warmer: red' in page
    # LDR pairs alone: no such column.
    (reference / "dim.exr").unlink()
    (test / "dim.exr").unlink()
    run_batch(pairs_from_folders(reference, test)[0], tmp_path / "ldr-only", fast=True)
    assert "exposure_change_ev" not in (tmp_path / "ldr-only" / "summary.csv").read_text()
