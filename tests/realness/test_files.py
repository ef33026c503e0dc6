"""``score_files``: image files scored one by one, unreadable ones reported, an interrupted run resumed."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from synthdiff.realness import (
    FileScores,
    RealnessSettings,
    create_model,
    interrupted_scores,
    score_files,
)
from tests.realness.test_train import fake_sources


def test_files_are_scored_in_order_with_errors_and_resumed_from_an_interrupted_run(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = create_model("realness-tiny", RealnessSettings(max_patches=4))
    real, _ = fake_sources(tmp_path / "data", count=3)
    broken = real / "broken.png"
    broken.write_bytes(b"not an image")
    paths = [real / "00.png", broken, real / "01.png", real / "02.png"]
    settings = {"stability": False, "heatmap": str(tmp_path / "maps")}
    (tmp_path / "maps").mkdir()
    scores = FileScores("tiny", model.name, model.checkpoint_sha256, settings)
    outcomes = score_files(model, paths, stability=False, heatmap_dir=tmp_path / "maps")
    for scored in outcomes:
        scores.add(scored)
        if scored.path == paths[2]:
            break  # as Ctrl-C after the third file
    scores.complete = False
    assert list(scores.images) == [str(paths[0]), str(paths[2])] and list(scores.errors) == [str(broken)]
    first = scores.images[str(paths[0])]
    assert 0.0 <= first["probability_synthetic"] <= 1.0 and Path(first["heatmap"]).is_file()
    written = tmp_path / "scores.json"
    written.write_text(json.dumps(scores.to_dict()))

    # The same model and settings take the scores back for unchanged files; others are ignored.
    earlier = interrupted_scores(written, model.checkpoint_sha256, settings)
    assert set(earlier) == {str(paths[0]), str(paths[2])}
    assert interrupted_scores(written, "another model", settings) == {}
    assert interrupted_scores(written, model.checkpoint_sha256, {**settings, "stability": True}) == {}
    (tmp_path / "maps" / "01_realness.png").unlink()  # a heatmap gone: that image is scored again
    again = list(score_files(model, paths, stability=False, heatmap_dir=tmp_path / "maps", earlier=earlier))
    assert [scored.resumed for scored in again] == [True, False, False, False]
    assert again[0].result == first and again[1].error is not None
