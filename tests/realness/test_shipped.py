"""The shipped realness weights (docs/models.md): they load, and they separate a bundled render from
a photo that ships with scikit-image. Both kinds of image were among the training sources, so this
checks the shipped file and the scoring path, not generalisation (that is the leave-one-source-out
table in docs/models.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from synthdiff.io import load_image
from synthdiff.realness import load_realness_model, score_image

from ..conftest import EXAMPLES, photo


@pytest.fixture(scope="module")
def shipped():  # type: ignore[no-untyped-def]
    return load_realness_model("realness-cnn")


def test_shipped_weights_load_with_their_settings(shipped) -> None:  # type: ignore[no-untyped-def]
    assert shipped.settings.cues == ("fourier", "rgb", "residual")
    assert shipped.settings.crop == 64
    assert shipped.calibration.scale > 0


@pytest.mark.parametrize("photo_name", ["astronaut", "coffee"])
def test_a_bundled_photo_scores_more_real_than_a_bundled_render(shipped, photo_name: str) -> None:  # type: ignore[no-untyped-def]
    render = load_image(EXAMPLES / "wrong-light" / "test.png").pixels
    render_score = score_image(shipped, render, check_stability=False)
    photo_score = score_image(shipped, photo(photo_name), check_stability=False)
    assert photo_score.probability_synthetic < render_score.probability_synthetic
    assert render_score.verdict == "synthetic" and photo_score.verdict == "real"


def test_tiny_images_are_scored(shipped) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    score = score_image(shipped, rng.random((40, 50, 3), dtype=np.float32))
    assert 0.0 <= score.probability_synthetic <= 1.0 and score.crops == 1


def test_the_weights_ship_small() -> None:
    import synthdiff.realness

    path = Path(synthdiff.realness.__file__).parent / "weights" / "realness-cnn.pt"
    assert path.stat().st_size < 5 * 2**20
