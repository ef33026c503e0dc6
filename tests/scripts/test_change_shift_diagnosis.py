"""scripts/change_shift_diagnosis.py: shifted test images scored as detect and compare score them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from synthdiff.change import create_model, detect, save_checkpoint
from tests.change.test_data import fake_dataset

from .conftest import load_script

diagnosis = load_script("change_shift_diagnosis")


def test_a_whole_pixel_shift_moves_the_content_by_one_column() -> None:
    image = np.random.default_rng(0).random((6, 9, 3), dtype=np.float32)
    moved = diagnosis.shifted(image, 1.0)
    np.testing.assert_allclose(moved[:, 1:], image[:, :-1], atol=1e-6)
    np.testing.assert_allclose(moved[:, 0], image[:, 0], atol=1e-6)  # the edge repeats
    np.testing.assert_array_equal(diagnosis.shifted(image, 0.0), image)


def test_unshifted_pairs_count_what_detect_marks(tmp_path: Path) -> None:
    data = fake_dataset(tmp_path / "data", pairs=2)
    model = tmp_path / "tiny.pt"
    features = ["illumination", "texture"]
    save_checkpoint(model, create_model("fresunet-tiny", features), "fresunet-tiny", features)
    result = diagnosis.diagnose([str(data)], str(model), [0.0, 1.0])
    assert result["pairs"] == 2 and set(result["results"]) == {"detect", "compare"}
    marked = pixels = 0
    for folder in sorted((data / "pairs").iterdir()):
        maps = detect(folder / "reference.png", folder / "test.png", model).maps
        any_marked = np.logical_or.reduce([maps.changed(f) for f in features])
        marked, pixels = marked + int(any_marked.sum()), pixels + any_marked.size
    assert result["results"]["detect"]["0.0"]["marked_fraction"] == marked / pixels
    assert "| 1 px |" in diagnosis.table(result)
