"""How scripts/realness_loso.py resumes: finished folds are read back from OUT or from --archive."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.scripts.conftest import SCRIPTS, load_script


def _job(out: Path, fold: str) -> dict[str, Any]:
    return {"fold": fold, "cues": ["rgb"], "out": str(out / "rgb" / fold)}


def test_a_fold_lost_from_out_is_read_back_from_the_archive(tmp_path: Path) -> None:
    loso = load_script("realness_loso")
    archive = tmp_path / "archive"
    job = _job(tmp_path / "runs", "skimage__matplotlib")
    assert loso._finished(job, archive) is None  # never run

    record = {"fold": "skimage__matplotlib", "cues": ["rgb"], "val_loss": 0.1, "images": [{"path": "a.png"}]}
    loso._archive(record, job, archive)
    assert json.loads((archive / "rgb" / "skimage__matplotlib.json").read_text()) == record
    assert loso._finished(job, archive) == record  # OUT has nothing: the archive answers
    assert loso._finished(job, None) is None  # without --archive the fold would be trained again

    (tmp_path / "runs" / "rgb" / "skimage__matplotlib").mkdir(parents=True)
    newer = dict(record, val_loss=0.2)
    (tmp_path / "runs" / "rgb" / "skimage__matplotlib" / "fold.json").write_text(json.dumps(newer))
    assert loso._finished(job, archive) == newer  # OUT comes first


def test_the_final_model_is_never_archived(tmp_path: Path) -> None:
    loso = load_script("realness_loso")
    job = _job(tmp_path / "runs", "final")
    loso._archive({"fold": "final", "cues": ["rgb"], "val_loss": 0.1}, job, tmp_path / "archive")
    assert not (tmp_path / "archive").exists()  # its checkpoint is needed, not only its record
    assert loso._finished(job, tmp_path / "archive") is None


def test_a_record_of_another_fold_is_refused(tmp_path: Path) -> None:
    loso = load_script("realness_loso")
    archive = tmp_path / "archive"
    (archive / "rgb").mkdir(parents=True)
    (archive / "rgb" / "vtk.json").write_text(json.dumps({"fold": "eevee", "cues": ["rgb"]}))
    with pytest.raises(SystemExit, match="Expected the record of fold vtk"):
        loso._finished(_job(tmp_path / "runs", "vtk"), archive)


def test_run_first_orders_folds_and_the_final_model() -> None:
    loso = load_script("realness_loso")
    folds = [["skimage", "matplotlib"], ["eevee"], ["vtk"], ["lomiri-photos"]]
    names = [name for name, _ in loso._ordered_units(folds, True, [])]
    assert names == ["skimage,matplotlib", "eevee", "vtk", "lomiri-photos", "final"]
    units = loso._ordered_units(folds, True, ["lomiri-photos", "final", "skimage,matplotlib"])
    assert [name for name, _ in units] == ["lomiri-photos", "final", "skimage,matplotlib", "eevee", "vtk"]
    assert units[1][1] is None and units[0][1] == ["lomiri-photos"]
    with pytest.raises(SystemExit, match=r"got \['final'\]"):
        loso._ordered_units(folds, False, ["final"])  # no final model without --final
    with pytest.raises(SystemExit, match="Expected --run-first folds from"):
        loso._ordered_units(folds, True, ["skimage"])  # a grouped source is held out with its group


_SLEEPER = """
import os, sys, time
sys.path.insert(0, {scripts!r})
import realness_loso


def sleeper(job):
    with open(job["pidfile"], "w") as handle:
        handle.write(str(os.getpid()))
    time.sleep(120)
    return {{}}


if __name__ == "__main__":
    realness_loso.run_folds(sleeper, [{{"pidfile": {pidfile!r}}}], 1, lambda record, job: None)
"""


def _running(pid: int) -> bool:
    """The process exists and is not a zombie (Linux /proc)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
def test_stopping_a_run_stops_the_fold_in_progress(tmp_path: Path) -> None:
    """A fold left running after `kill` would keep writing into OUT beside a restarted run."""
    pidfile = tmp_path / "worker.pid"
    program = tmp_path / "run.py"
    program.write_text(_SLEEPER.format(scripts=str(SCRIPTS), pidfile=str(pidfile)))
    with subprocess.Popen([sys.executable, str(program)], stderr=subprocess.PIPE) as run:
        try:
            deadline = time.monotonic() + 120
            while not (pidfile.exists() and pidfile.read_text()) and time.monotonic() < deadline:
                assert run.poll() is None, run.stderr.read().decode() if run.stderr else ""
                time.sleep(0.2)
            worker = int(pidfile.read_text())
            assert _running(worker)
            run.send_signal(signal.SIGTERM)
            assert run.wait(timeout=60) == 128 + signal.SIGTERM
            deadline = time.monotonic() + 30
            while _running(worker) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert not _running(worker)
        finally:
            if run.poll() is None:
                run.kill()
