"""realness-bench's outputs: bench.json, scores.csv, mistakes.png and the page."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from synthdiff.realness._evaluate import ImageResult, RealnessEvaluation, summarise_results
from synthdiff.realness._report import write_bench

MODEL = {"spec": "realness-tiny", "name": "realness-tiny", "checkpoint_sha256": "0" * 64}


def evaluation(tmp_path: Path, probabilities: list[float]) -> RealnessEvaluation:
    results = []
    for index, probability in enumerate(probabilities):
        path = tmp_path / f"{index}.png"
        Image.fromarray(np.full((8, 8, 3), 40 * index, np.uint8)).save(path)
        results.append(ImageResult(str(path), "renders", 1, probability, probability))
    return RealnessEvaluation(results, summarise_results(results))


def test_a_rerun_without_mistakes_leaves_no_old_sheet(tmp_path: Path) -> None:
    out = tmp_path / "bench"
    write_bench(evaluation(tmp_path, [0.9, 0.2]), out, MODEL)  # the second render is called a photo
    assert (out / "mistakes.png").is_file() and "data:image/png;base64," in (out / "index.html").read_text()
    write_bench(evaluation(tmp_path, [0.9, 0.8]), out, MODEL)
    assert not (out / "mistakes.png").exists()
    page = (out / "index.html").read_text()
    assert "every image is on the right side of 0.5" in page and "100.0 %" in page
    # No drop under JPEG 75 (both probabilities are the same here) reads +0.0, not -0.0.
    assert "+0.0 points from the re-encoding" in page
