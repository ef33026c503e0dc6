"""``evaluate``'s streamed, resumable scoring and ``synthdiff eval change --out`` resuming."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import torch
from typer.testing import CliRunner

from synthdiff._journal import folder_lock
from synthdiff.change import ChangePairs, create_model, evaluate, save_checkpoint
from synthdiff.change._evaluate import model_digest
from synthdiff.change._models import ChangeOutput
from synthdiff.errors import InvalidArgumentError, OutputError
from tests.change.test_data import fake_dataset

FEATURES = ["texture", "illumination"]


class _Counting(torch.nn.Module):
    """Change probability 0.8 where the images differ, 0.1 elsewhere; counts the pairs it is run on."""

    def __init__(self, bias: float = 0.0) -> None:
        super().__init__()
        self.bias = torch.nn.Parameter(torch.tensor(bias))
        self.pairs_seen = 0

    def forward(self, reference: torch.Tensor, test: torch.Tensor) -> ChangeOutput:
        self.pairs_seen += len(reference)
        differs = (test - reference).abs().amax(1, keepdim=True) > 0
        probability = torch.where(differs, 0.8, 0.1)
        logits = (torch.logit(probability) + self.bias).expand(-1, len(FEATURES), -1, -1)
        return ChangeOutput(logits, logits, logits)


def _interrupt_after(pairs: int, then: Any = None) -> Any:
    """An ``on_batch`` that passes the progress on to ``then`` and stops the run (Ctrl-C) once
    ``pairs`` are done."""

    def on_batch(done: int, total: int) -> None:
        if then is not None:
            then(done, total)
        if done >= pairs:
            raise KeyboardInterrupt

    return on_batch


def _interrupting(real_evaluate: Any, pairs: int) -> Any:
    """``evaluate`` as the CLI calls it, one pair per batch, interrupted after ``pairs``."""

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        stop = _interrupt_after(pairs, kwargs.get("on_batch"))
        return real_evaluate(*args, **{**kwargs, "batch_size": 1, "on_batch": stop})

    return interrupted


@pytest.fixture
def pairs(tmp_path: Path) -> ChangePairs:
    return ChangePairs([fake_dataset(tmp_path / "data", pairs=6)], "train", FEATURES)


def test_scores_do_not_depend_on_the_batch_size(pairs: ChangePairs) -> None:
    one = evaluate(_Counting(), pairs, batch_size=1, check_swap=True).to_dict()
    all_at_once = evaluate(_Counting(), pairs, batch_size=len(pairs), check_swap=True).to_dict()
    assert one == all_at_once
    assert one["scores"]["pooled"]["change"]["texture"]["f1"] == 1.0 and one["swap_iou"] == 1.0


def test_an_interrupted_evaluation_resumes_and_gives_the_same_scores(
    pairs: ChangePairs, tmp_path: Path
) -> None:
    expected = evaluate(_Counting(), pairs, check_swap=True).to_dict()
    folder = tmp_path / "eval"
    model = _Counting()
    with pytest.raises(KeyboardInterrupt):
        evaluate(
            model, pairs, batch_size=1, check_swap=True, journal_folder=folder, on_batch=_interrupt_after(2)
        )
    assert len((folder / "results.jsonl").read_text().splitlines()) == 2
    resumed, progress = _Counting(), []
    result = evaluate(
        resumed,
        pairs,
        batch_size=1,
        check_swap=True,
        journal_folder=folder,
        on_batch=lambda done, total: progress.append((done, total)),
    )
    assert result.to_dict() == expected
    # Each pair is run twice (both orders for the swap check); the two kept pairs not at all.
    assert resumed.pairs_seen == 2 * (len(pairs) - 2)
    assert progress[0] == (2, len(pairs)) and progress[-1] == (len(pairs), len(pairs))
    assert len((folder / "results.jsonl").read_text().splitlines()) == len(pairs)

    again = _Counting()
    assert evaluate(again, pairs, check_swap=True, journal_folder=folder).to_dict() == expected
    assert again.pairs_seen == 0


def test_an_evaluation_folder_another_run_is_writing_is_refused(pairs: ChangePairs, tmp_path: Path) -> None:
    refused = pytest.raises(OutputError, match="no other eval change run to be writing")
    with folder_lock(tmp_path / "eval", "eval change"), refused:
        evaluate(_Counting(), pairs, journal_folder=tmp_path / "eval")
    assert not (tmp_path / "eval" / "results.jsonl").exists()


def test_a_pair_whose_images_changed_since_is_scored_again(pairs: ChangePairs, tmp_path: Path) -> None:
    folder = tmp_path / "eval"
    evaluate(_Counting(), pairs, journal_folder=folder)
    first = pairs.pairs[0]
    test_image = first.root / first.record["test"]
    test_image.write_bytes(test_image.read_bytes())  # rendered again: the same pixels, a new file
    os.utime(test_image, ns=(1, 1))
    again = _Counting()
    result = evaluate(again, pairs, journal_folder=folder)
    assert again.pairs_seen == 1
    assert result.to_dict() == evaluate(_Counting(), pairs).to_dict()


def test_a_kept_evaluation_of_another_model_or_setting_is_refused_unless_restarted(
    pairs: ChangePairs, tmp_path: Path
) -> None:
    folder = tmp_path / "eval"
    evaluate(_Counting(), pairs, journal_folder=folder)
    with pytest.raises(
        InvalidArgumentError, match=r"another model or with other settings \(these differ: model_sha256\)"
    ):
        evaluate(_Counting(bias=1.0), pairs, journal_folder=folder)
    with pytest.raises(InvalidArgumentError, match=r"these differ: change_thresholds.*Fix: pass --restart"):
        evaluate(_Counting(), pairs, journal_folder=folder, change_thresholds={"texture": 0.9})
    # Pairs run scaled down (a checkpoint's train_size under their size) are another evaluation.
    with pytest.raises(InvalidArgumentError, match=r"these differ: work_size"):
        evaluate(_Counting(), pairs, journal_folder=folder, work_size=12)
    other = _Counting(bias=1.0)
    result = evaluate(other, pairs, journal_folder=folder, restart=True)
    assert other.pairs_seen == len(pairs)
    assert result.to_dict() == evaluate(_Counting(bias=1.0), pairs).to_dict()


def test_the_model_digest_follows_the_weights_not_the_object() -> None:
    first = create_model("fresunet-tiny", FEATURES)
    copy = create_model("fresunet-tiny", FEATURES)
    copy.load_state_dict(first.state_dict())
    assert model_digest(first) == model_digest(copy)
    with torch.no_grad():
        next(copy.parameters()).add_(1e-3)
    assert model_digest(first) != model_digest(copy)


def test_eval_change_resumes_from_its_out_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import synthdiff.change

    data = fake_dataset(tmp_path / "data", pairs=6)
    checkpoint = tmp_path / "model.pt"
    save_checkpoint(checkpoint, create_model("fresunet-tiny", ["texture"]), "fresunet-tiny", ["texture"])
    out = tmp_path / "eval"
    args = ["eval", "change", "-m", str(checkpoint), "--data", str(data), "--split", "train", "-o", str(out)]
    real_evaluate = synthdiff.change.evaluate
    runner = CliRunner()
    monkeypatch.setattr(synthdiff.change, "evaluate", _interrupting(real_evaluate, 3))
    result = runner.invoke(app_under_test(), args)
    assert result.exit_code == 130, result.output
    assert f"interrupted after 3 of 5 pairs; they are kept in {out / 'results.jsonl'}" in result.output
    assert not (out / "eval.json").exists()

    monkeypatch.setattr(synthdiff.change, "evaluate", real_evaluate)
    result = runner.invoke(app_under_test(), args)
    assert result.exit_code == 0, result.output
    resumed = json.loads((out / "eval.json").read_text())
    fresh = tmp_path / "fresh"
    result = runner.invoke(app_under_test(), [*args[:-1], str(fresh)])
    assert result.exit_code == 0, result.output
    assert resumed == json.loads((fresh / "eval.json").read_text())

    result = runner.invoke(app_under_test(), [*args[:-2], "--split", "val", "-o", str(out)])
    assert result.exit_code == 2 and "these differ: split" in result.output
    result = runner.invoke(app_under_test(), [*args[:-2], "--split", "val", "-o", str(out), "--restart"])
    assert result.exit_code == 0, result.output


def test_eval_change_without_out_says_nothing_was_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import synthdiff.change

    data = fake_dataset(tmp_path / "data", pairs=6)
    checkpoint = tmp_path / "model.pt"
    save_checkpoint(checkpoint, create_model("fresunet-tiny", ["texture"]), "fresunet-tiny", ["texture"])
    monkeypatch.setattr(synthdiff.change, "evaluate", _interrupting(synthdiff.change.evaluate, 1))
    args = ["eval", "change", "-m", str(checkpoint), "--data", str(data), "--split", "train"]
    result = CliRunner().invoke(app_under_test(), args)
    assert result.exit_code == 130
    assert "interrupted after 1 of 5 pairs; nothing was kept: pass --out DIR" in result.output


def app_under_test() -> Any:
    from synthdiff.cli import app

    return app


def test_a_pair_of_one_picture_twice_is_scored_as_unchanged(tmp_path: Path) -> None:
    data = fake_dataset(tmp_path / "copies", pairs=3)
    copy = data / "pairs" / "s00000_v001"
    (copy / "test.png").write_bytes((copy / "reference.png").read_bytes())
    manifest = data / "manifest.jsonl"
    manifest.write_text(manifest.read_text().replace('"feature": "texture"', '"feature": "none"'))
    model = _Counting(bias=10.0)  # marks every pixel of every pair, copies included, before the guard
    result = evaluate(model, ChangePairs([data], "train", FEATURES), check_swap=True)
    assert result.none_pairs["copies/s00000_v001"]["marked"] == 0.0
    assert result.none_pairs["copies/s00000_v000"]["marked"] == 1.0
    assert result.swap_iou == 1.0
