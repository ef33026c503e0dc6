"""Thresholds chosen on val pairs: ``tune_change_thresholds``, ``store_thresholds``, ``tune change``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn
from typer.testing import CliRunner

from synthdiff.change import (
    ChangeOutput,
    ChangePairs,
    create_model,
    evaluate,
    hysteresis_mask,
    load_checkpoint,
    save_checkpoint,
    store_thresholds,
    tune_change_thresholds,
    tune_thresholds,
)
from synthdiff.change._evaluate import POOLED
from synthdiff.change._tune import _Groups, _search_two_thresholds
from synthdiff.cli import app
from synthdiff.errors import InvalidArgumentError
from tests.change.test_data import fake_dataset

FEATURES = ["texture", "illumination"]


class _Rimmed(nn.Module):
    """Where the test image differs (fake_dataset's 6x8 square, all labelled texture change): 0.9 on
    its top four rows and a faint 0.355 on its last two (the rim); a 0.505 blob at rows 14-15, columns
    2-3 of every pair, changed or not (a false alarm); 0.1 elsewhere. The same map for every feature."""

    def forward(self, reference: torch.Tensor, test: torch.Tensor) -> ChangeOutput:
        differs = (test - reference).abs().amax(1, keepdim=True) > 2 / 255  # not none_dataset's one step
        core = differs.clone()
        core[..., 8:, :] = False
        probability = torch.full_like(differs, 0.1, dtype=torch.float32)
        probability[differs & ~core] = 0.355
        probability[core] = 0.9
        probability[..., 14:16, 2:4] = 0.505
        logits = torch.logit(probability).expand(-1, len(FEATURES), -1, -1)
        return ChangeOutput(logits, logits, logits)


def none_dataset(root: Path) -> Path:
    """fake_dataset turned into unchanged pairs: the test image is the reference rendered again (one
    value of one pixel a step off; an exact copy would be no change by construction), no change labels."""
    fake_dataset(root, pairs=2)
    for folder in (root / "pairs").iterdir():
        rendered_again = np.array(Image.open(folder / "reference.png"))
        rendered_again[0, 0, 0] ^= 1
        Image.fromarray(rendered_again).save(folder / "test.png")
        Image.fromarray(np.zeros((24, 24), np.uint8)).save(folder / "change_texture.png")
    manifest = root / "manifest.jsonl"
    manifest.write_text(manifest.read_text().replace('"feature": "texture"', '"feature": "none"'))
    return root


@pytest.fixture
def pairs(tmp_path: Path) -> tuple[ChangePairs, ChangePairs]:
    changed = ChangePairs([fake_dataset(tmp_path / "changed", pairs=3)], "val", FEATURES)
    unchanged = ChangePairs([none_dataset(tmp_path / "none")], "val", FEATURES)
    return changed, unchanged


def test_the_budget_denies_the_rim_to_one_threshold_and_two_thresholds_take_it(
    pairs: tuple[ChangePairs, ChangePairs],
) -> None:
    changed, unchanged = pairs
    stored = dict.fromkeys(FEATURES, 0.5)
    result = tune_change_thresholds(
        _Rimmed(), changed, unchanged, thresholds=stored, budget=0.0, hysteresis=True
    )
    single, chosen = result.single["texture"], result.chosen["texture"]
    # One threshold must clear the 0.505 blob, so it misses the rim: F1 2*32 / (2*32 + 16).
    assert (single.threshold, single.low_threshold) == (0.51, 0.51)
    assert single.f1 == pytest.approx(0.8) and single.unchanged_marked == 0.0
    # Two thresholds grow the 0.9 core into its rim: the highest low below 0.355 (least growth)
    # and the high nearest 0.5 that the blob does not pass.
    assert (chosen.low_threshold, chosen.threshold, chosen.f1) == (0.35, 0.51, 1.0)
    # The model's own 0.5 marks the blob on each pair: 4 of the 576 pixels of every pair.
    assert result.before["texture"].unchanged_marked == pytest.approx(4 / 576)
    # No illumination changed: no F1 can choose, and the model's 0.5 marks the blob, so it moves up
    # just enough to keep within the budget.
    assert result.kept == ["illumination"]
    assert result.chosen["illumination"].threshold == 0.51

    # synthdiff's own evaluation at the choice gives the F1 and false alarms the search reported.
    scored = evaluate(
        _Rimmed(), changed, change_thresholds=result.thresholds, change_low_thresholds=result.low_thresholds
    )
    assert scored.scores[POOLED]["change"]["texture"]["f1"] == pytest.approx(chosen.f1)
    alarms = evaluate(
        _Rimmed(), unchanged, change_thresholds=result.thresholds, change_low_thresholds=result.low_thresholds
    )
    assert alarms.scores[POOLED]["change"]["texture"]["false_positive_rate"] == 0.0


def test_without_a_budget_one_threshold_takes_the_rim_and_the_blob(
    pairs: tuple[ChangePairs, ChangePairs],
) -> None:
    changed, _ = pairs
    result = tune_change_thresholds(_Rimmed(), changed, thresholds=dict.fromkeys(FEATURES, 0.5))
    texture = result.chosen["texture"]
    # Any threshold in [0.1, 0.355) marks all 48 changed pixels and the 4 of the blob: F1 96 / 100;
    # among them, the one nearest 0.5.
    assert (texture.threshold, texture.f1, texture.unchanged_marked) == (0.35, pytest.approx(0.96), None)
    assert result.thresholds == result.low_thresholds  # one threshold per feature
    assert result.kept == ["illumination"] and result.thresholds["illumination"] == 0.5  # no budget
    assert tune_thresholds(_Rimmed(), changed) == result.thresholds  # training tunes the same way
    scored = evaluate(_Rimmed(), changed, change_thresholds=result.thresholds)
    assert scored.scores[POOLED]["change"]["texture"]["precision"] == pytest.approx(texture.precision)


def test_bad_budgets_are_refused(pairs: tuple[ChangePairs, ChangePairs]) -> None:
    changed, unchanged = pairs
    stored = dict.fromkeys(FEATURES, 0.5)
    with pytest.raises(InvalidArgumentError, match="Expected unchanged pairs"):
        tune_change_thresholds(_Rimmed(), changed, thresholds=stored, budget=0.001)
    with pytest.raises(InvalidArgumentError, match="between 0 and 1"):
        tune_change_thresholds(_Rimmed(), changed, unchanged, thresholds=stored, budget=2.0)
    with pytest.raises(InvalidArgumentError, match="none for \\['illumination'\\]"):
        tune_change_thresholds(_Rimmed(), changed, thresholds={"texture": 0.5})
    with pytest.raises(InvalidArgumentError, match="got pairs of texture"):
        tune_change_thresholds(_Rimmed(), changed, changed, thresholds=stored, budget=0.001)
    changed.split = "test"
    with pytest.raises(InvalidArgumentError, match="got the test split"):
        tune_change_thresholds(_Rimmed(), changed, thresholds=stored)


def test_a_budget_no_threshold_can_keep_names_the_fix() -> None:
    probability = np.zeros((1, 16, 16), np.float32)
    probability[0, 4:8, 4:8] = 0.9
    everywhere = np.ones((1, 16, 16), np.float32)  # "unchanged" pairs marked at every threshold
    assert _search_two_thresholds(probability, probability > 0, everywhere, budget=0.0) is None


def test_own_set_objective_refuses_growth_that_names_the_wrong_feature() -> None:
    """The research scripts' objective: a feature's F1 on its own set, not naming it elsewhere more."""
    own = np.zeros((16, 16), np.float32)
    own[4:8, 4:8], own[8:10, 4:8] = 0.9, 0.35  # a sure change and its faint rim
    maps = np.stack([own, own, np.zeros_like(own)])  # the same picture on a pair of another feature
    labels = np.stack([own > 0, np.zeros_like(own, bool), np.zeros_like(own, bool)])
    groups = _Groups("texture", ["texture", "reflection", "all"], labels)
    assert groups.names == ["texture", "reflection", "all"]
    unchanged = np.zeros((1, 16, 16), np.float32)
    pooled = _search_two_thresholds(maps, labels, unchanged, budget=0.0)
    assert pooled is not None and pooled["score"].low_threshold < 0.35  # the own rim outweighs
    limited = _search_two_thresholds(maps, labels, unchanged, 0.0, groups=groups, stored=0.5)
    assert limited is not None
    # Growing into the other pair's rim would mark it more than the stored threshold does (16 of
    # its 256 pixels), so no low threshold below 0.35 is allowed.
    assert limited["stored"]["wrong_rate"] == pytest.approx(16 / 256)
    assert limited["score"].low_threshold >= 0.35
    assert limited["own_f1"] == pytest.approx(0.8)


def test_copies_among_the_unchanged_pairs_mark_nothing(tmp_path: Path) -> None:
    # An unchanged pair that is one file twice: the blob the model marks on it is no change, so the
    # budget leaves one threshold free to take the rim.
    changed = ChangePairs([fake_dataset(tmp_path / "changed", pairs=3)], "val", FEATURES)
    copies = none_dataset(tmp_path / "copies")
    for folder in (copies / "pairs").iterdir():
        (folder / "test.png").write_bytes((folder / "reference.png").read_bytes())
    unchanged = ChangePairs([copies], "val", FEATURES)
    result = tune_change_thresholds(
        _Rimmed(), changed, unchanged, thresholds=dict.fromkeys(FEATURES, 0.5), budget=0.0
    )
    assert result.single["texture"].threshold == 0.35 and result.single["texture"].unchanged_marked == 0.0


@pytest.mark.parametrize(
    ("sets", "missing"),
    [
        (["reflection", "all"], "texture"),
        (["texture", "reflection"], "all"),
        (["texture", "all"], "another single feature"),
    ],
)
def test_own_set_objective_names_the_sets_it_lacks(sets: list[str], missing: str) -> None:
    labels = np.zeros((len(sets), 8, 8), bool)
    with pytest.raises(InvalidArgumentError, match=f"found none of: {missing}"):
        _Groups("texture", sets, labels)


def tiny_checkpoint(path: Path) -> Path:
    torch.manual_seed(0)
    save_checkpoint(path, create_model("fresunet-tiny", FEATURES), "fresunet-tiny", FEATURES)
    return path


def test_store_thresholds_writes_a_copy_that_loads_with_them(
    tmp_path: Path, pairs: tuple[ChangePairs, ChangePairs]
) -> None:
    changed, unchanged = pairs
    source = tiny_checkpoint(tmp_path / "model.pt")
    before = source.read_bytes()
    result = tune_change_thresholds(
        _Rimmed(), changed, unchanged, thresholds=dict.fromkeys(FEATURES, 0.5), budget=0.0, hysteresis=True
    )
    store_thresholds(source, tmp_path / "tuned" / "model.pt", result)
    _, metadata = load_checkpoint(tmp_path / "tuned" / "model.pt")
    assert metadata["thresholds"] == {"texture": 0.51, "illumination": 0.51}
    assert metadata["low_thresholds"] == {"texture": 0.35, "illumination": 0.51}
    assert source.read_bytes() == before  # the model tuned is not touched
    with pytest.raises(InvalidArgumentError, match="other than the model being tuned"):
        store_thresholds(source, source, result)


def test_tune_change_through_the_cli(tmp_path: Path) -> None:
    changed = fake_dataset(tmp_path / "changed", pairs=3)
    unchanged = none_dataset(tmp_path / "none")
    source = tiny_checkpoint(tmp_path / "model.pt")
    runner = CliRunner()
    common = ["tune", "change", "-m", str(source), "--data", str(changed), "--device", "cpu"]
    result = runner.invoke(
        app, [*common, "--none-data", str(unchanged), "--budget", "0.01", "-o", str(tmp_path / "tuned.pt")]
    )
    assert result.exit_code == 0, result.output
    assert "| texture |" in result.output and "budget 1.000 %" in result.output
    record = json.loads((tmp_path / "tuned-tune.json").read_text())
    assert record["split"] == "val" and record["pairs"] == 1 and record["unchanged_pairs"] == 1
    assert all(entry["unchanged_marked"] <= 0.01 for entry in record["chosen"].values())
    _, metadata = load_checkpoint(tmp_path / "tuned.pt")
    assert metadata["thresholds"] == record["thresholds"]
    # The model's counts are kept beside the copy: run again (another budget), they are reused.
    journal = tmp_path / "tuned-tune-journal" / "results.jsonl"
    assert len(journal.read_text().splitlines()) == 2 and "tuned-tune-journal" in result.output
    result = runner.invoke(
        app, [*common, "--none-data", str(unchanged), "--budget", "0.02", "-o", str(tmp_path / "tuned.pt")]
    )
    assert result.exit_code == 0 and len(journal.read_text().splitlines()) == 2
    result = runner.invoke(app, [*common, "--restart", "-o", str(tmp_path / "tuned.pt")])
    assert result.exit_code == 0 and len(journal.read_text().splitlines()) == 1
    # Ctrl-C says where the counts are kept and how to go on.
    import synthdiff.change

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(synthdiff.change, "tune_change_thresholds", interrupted)
        result = runner.invoke(app, [*common, "-o", str(tmp_path / "tuned.pt")])
    assert result.exit_code == 130
    assert (
        "run the same command again to resume from" in result.output and "tuned-tune-journal" in result.output
    )

    # Tuned for a view set: the copy runs with those views by default, at the thresholds tuned for them.
    result = runner.invoke(app, [*common, "--tta", "flip", "-o", str(tmp_path / "flip.pt")])
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "flip-tune.json").read_text())
    _, metadata = load_checkpoint(tmp_path / "flip.pt")
    assert record["views"] == metadata["views"] == "flip"
    assert metadata["thresholds"] == record["thresholds"]
    assert load_checkpoint(tmp_path / "flip.pt", views="none")[1]["thresholds"] == {
        "texture": 0.5,
        "illumination": 0.5,
    }

    # A model trained on smaller images is tuned on the pairs scaled down to them, as the tools run it,
    # and its copy keeps that size.
    from synthdiff.change import set_train_size

    set_train_size(source, 12)
    result = runner.invoke(app, [*common, "-o", str(tmp_path / "small.pt")])
    assert result.exit_code == 0, result.output
    assert load_checkpoint(tmp_path / "small.pt")[1]["train_size"] == 12

    result = runner.invoke(app, [*common, "--budget", "0.01", "-o", str(tmp_path / "other.pt")])
    assert result.exit_code == 2 and "--none-data" in result.output
    result = runner.invoke(app, [*common, "-o", str(source)])
    assert result.exit_code == 2 and "other than the model being tuned" in result.output
    # A folder, or a path under a file, is refused before the search (it was refused after it).
    result = runner.invoke(app, [*common, "-o", str(tmp_path)])
    assert result.exit_code == 2 and "is a folder. Fix: name a file in it" in result.output.replace("\n", "")
    result = runner.invoke(app, [*common, "-o", str(source / "tuned.pt")])
    assert result.exit_code == 2 and "is a file. Fix: name a folder" in result.output.replace("\n", "")


def test_the_search_finds_the_best_pair_that_brute_force_finds() -> None:
    """Every (low, high) on the grid scored with hysteresis_mask itself, map by map: the search's
    choice has the best F1 within the budget, and its reported scores are that pair's."""
    rng = np.random.default_rng(3)
    maps = np.clip(rng.normal(0.3, 0.25, (3, 12, 12)), 0, 1).astype(np.float32)
    labels = rng.random((3, 12, 12)) < maps  # likelier where the map is high
    unchanged = np.clip(rng.normal(0.2, 0.2, (2, 12, 12)), 0, 1).astype(np.float32)
    budget = 0.05
    best_f1 = -1.0
    grid = (np.arange(1, 100) / 100).astype(np.float32)
    for low in grid[::7]:  # a sparser grid keeps the brute force short; its optimum bounds the search's
        for high in grid[grid >= low][::3]:
            marked = np.stack([hysteresis_mask(m, float(high), float(low)) for m in maps])
            quiet = np.stack([hysteresis_mask(m, float(high), float(low)) for m in unchanged])
            if quiet.mean() > budget:
                continue
            tp, fp = (marked & labels).sum(), (marked & ~labels).sum()
            best_f1 = max(best_f1, 2 * tp / (2 * tp + fp + labels.sum() - tp))
    found = _search_two_thresholds(maps, labels, unchanged, budget)
    assert found is not None
    score = found["score"]
    assert score.f1 is not None and score.f1 >= best_f1 - 1e-12
    marked = np.stack([hysteresis_mask(m, score.threshold, score.low_threshold) for m in maps])
    quiet = np.stack([hysteresis_mask(m, score.threshold, score.low_threshold) for m in unchanged])
    tp, fp = (marked & labels).sum(), (marked & ~labels).sum()
    assert score.f1 == pytest.approx(2 * tp / (2 * tp + fp + labels.sum() - tp))
    assert score.unchanged_marked == pytest.approx(quiet.mean()) and quiet.mean() <= budget


def test_a_working_size_tunes_the_model_as_the_tools_run_it(pairs: tuple[ChangePairs, ChangePairs]) -> None:
    from synthdiff.change import AtWorkingSize

    changed, unchanged = pairs
    torch.manual_seed(0)
    model = create_model("fresunet-tiny", FEATURES).eval()
    start = dict.fromkeys(FEATURES, 0.5)
    scaled = tune_change_thresholds(model, changed, unchanged, thresholds=start, work_size=12)
    wrapped = tune_change_thresholds(AtWorkingSize(model, 12), changed, unchanged, thresholds=start)
    assert scaled.thresholds == wrapped.thresholds and scaled.to_dict() == wrapped.to_dict()


class _StopError(Exception):
    pass


def _counting(model: nn.Module) -> tuple[nn.Module, list[int]]:
    """``model`` with a record of the pairs it runs on (its class and weights unchanged, so a journal
    kept by the plain model is its own)."""
    runs: list[int] = []
    forward = model.forward

    def counted(reference: torch.Tensor, test: torch.Tensor) -> ChangeOutput:
        runs.append(len(reference))
        return forward(reference, test)

    model.forward = counted  # type: ignore[method-assign]
    return model, runs


@pytest.mark.parametrize("hysteresis", [False, True])
def test_an_interrupted_tuning_resumes_where_it_stopped(tmp_path: Path, hysteresis: bool) -> None:
    changed = ChangePairs([fake_dataset(tmp_path / f"changed{i}") for i in range(3)], "val", FEATURES)
    unchanged = ChangePairs([none_dataset(tmp_path / f"none{i}") for i in range(2)], "val", FEATURES)
    settings: dict[str, Any] = {
        "thresholds": dict.fromkeys(FEATURES, 0.5),
        "budget": 0.0,
        "hysteresis": hysteresis,
        "batch_size": 1,
    }
    whole = tune_change_thresholds(_Rimmed(), changed, unchanged, **settings)
    journal = tmp_path / "journal"

    def stop_after_two(kind: str, done: int, total: int) -> None:
        if kind == "pairs" and done == 2:
            raise _StopError

    with pytest.raises(_StopError):
        tune_change_thresholds(
            _Rimmed(), changed, unchanged, journal_folder=journal, on_batch=stop_after_two, **settings
        )
    assert len((journal / "results.jsonl").read_text().splitlines()) == 2
    assert len(list((journal / "maps").glob("*.npz"))) == (2 if hysteresis else 0)

    model, runs = _counting(_Rimmed())
    resumed = tune_change_thresholds(model, changed, unchanged, journal_folder=journal, **settings)
    assert sum(runs) == 3  # the third tuning pair and the two unchanged ones
    assert resumed.to_dict() == whole.to_dict()

    # Another budget, or the unchanged pairs alone as tuning pairs' company: the model does not run again.
    runs.clear()
    other = {**settings, "budget": None}
    again = tune_change_thresholds(model, changed, unchanged, journal_folder=journal, **other)
    assert (
        runs == []
        and again.to_dict() == tune_change_thresholds(_Rimmed(), changed, unchanged, **other).to_dict()
    )


def test_a_tuning_journal_redoes_changed_or_damaged_pairs_and_refuses_other_settings(tmp_path: Path) -> None:
    changed = ChangePairs([fake_dataset(tmp_path / f"changed{i}") for i in range(2)], "val", FEATURES)
    stored = dict.fromkeys(FEATURES, 0.5)
    journal = tmp_path / "journal"
    model, runs = _counting(_Rimmed())
    first = tune_change_thresholds(model, changed, thresholds=stored, hysteresis=True, journal_folder=journal)
    assert sum(runs) == 2

    # A pair whose test image was replaced since runs again, and so do pairs whose kept maps are cut short.
    test_image = changed.pairs[0].root / changed.pairs[0].record["test"]
    Image.open(test_image).save(test_image)  # the same picture written again: a new file
    runs.clear()
    again = tune_change_thresholds(model, changed, thresholds=stored, hysteresis=True, journal_folder=journal)
    assert runs == [1] and again.to_dict() == first.to_dict()
    for kept in (journal / "maps").glob("*.npz"):
        kept.write_bytes(kept.read_bytes()[:100])
    runs.clear()
    again = tune_change_thresholds(model, changed, thresholds=stored, hysteresis=True, journal_folder=journal)
    assert sum(runs) == 2 and again.to_dict() == first.to_dict()
    runs.clear()
    tune_change_thresholds(model, changed, thresholds=stored, hysteresis=True, journal_folder=journal)
    assert runs == []

    # Counts made at other thresholds (or without hysteresis) are another run's: refused, or started over.
    with pytest.raises(InvalidArgumentError, match="other thresholds"):
        tune_change_thresholds(
            model, changed, thresholds=dict.fromkeys(FEATURES, 0.4), journal_folder=journal
        )
    with pytest.raises(InvalidArgumentError, match="Fix: pass --restart"):
        tune_change_thresholds(model, changed, thresholds=stored, journal_folder=journal)
    runs.clear()
    tune_change_thresholds(model, changed, thresholds=stored, journal_folder=journal, restart=True)
    assert sum(runs) == 2 and not (journal / "maps").exists()
