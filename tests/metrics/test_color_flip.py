"""CIEDE2000 against scikit-image, FLIP against flip-evaluator's own command line."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from skimage.color import deltaE_ciede2000, rgb2lab

from synthdiff.errors import InvalidArgumentError
from synthdiff.io import save_png
from synthdiff.metrics import ciede2000_map, flip, srgb_to_lab
from tests.conftest import photo, quantise


def test_lab_matches_scikit_image() -> None:
    image = photo("chelsea")
    np.testing.assert_allclose(srgb_to_lab(image), rgb2lab(image), atol=1e-3)


def test_ciede2000_matches_scikit_image(rng: np.random.Generator) -> None:
    reference = photo("chelsea")[::2, ::2]
    test = np.clip(reference + rng.normal(0, 0.08, reference.shape), 0, 1).astype(np.float32)
    expected = deltaE_ciede2000(rgb2lab(reference), rgb2lab(test))
    np.testing.assert_allclose(ciede2000_map(reference, test), expected, atol=2e-3)


def test_ciede2000_zero_for_identical_images() -> None:
    image = photo("coffee")[:32, :32]
    assert float(ciede2000_map(image, image).max()) == 0.0


def test_ciede2000_zero_for_identical_pixels_in_any_memory_layout(rng: np.random.Generator) -> None:
    # The same values in C order and in Fortran order go through different numpy loops.
    image = rng.random((37, 53, 3)).astype(np.float32)
    test = np.asfortranarray(image)
    test[5, 7] = np.clip(test[5, 7] + 0.2, 0.0, 1.0)
    delta = ciede2000_map(image, test)
    changed = np.zeros(delta.shape, dtype=bool)
    changed[5, 7] = True
    assert float(delta[~changed].max()) == 0.0
    assert float(delta[5, 7]) > 1.0


def _flip_cli() -> str:
    candidate = Path(sys.executable).parent / "flip"
    found = str(candidate) if candidate.exists() else shutil.which("flip")
    if found is None:
        pytest.fail("flip-evaluator's 'flip' command is not installed")
    return found


def test_flip_matches_flip_evaluator_cli(tmp_path: Path, rng: np.random.Generator) -> None:
    reference = quantise(photo("astronaut")[::2, ::2])
    test = quantise(np.clip(reference * 0.9 + rng.normal(0, 0.03, reference.shape), 0, 1))
    save_png(tmp_path / "ref.png", reference)
    save_png(tmp_path / "test.png", test)
    output = subprocess.run(
        [
            _flip_cli(),
            "-r",
            str(tmp_path / "ref.png"),
            "-t",
            str(tmp_path / "test.png"),
            "-v",
            "1",
            "-nerm",
            "-d",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    expected = float(re.search(r"Mean:\s*([0-9.]+)", output).group(1))  # type: ignore[union-attr]
    result = flip(reference, test)
    # The CLI prints 6 decimals.
    assert result.mean == pytest.approx(expected, abs=2e-6)
    assert result.map.shape == reference.shape[:2]
    assert float(result.map.min()) >= 0.0 and float(result.map.max()) <= 1.0


def test_flip_identical_is_zero() -> None:
    image = photo("coffee")[:64, :64]
    assert flip(image, image).mean == 0.0


def test_flip_rejects_out_of_range_ldr() -> None:
    with pytest.raises(InvalidArgumentError, match=r"LDR-FLIP expects sRGB-encoded values in \[0, 1\]"):
        flip(np.full((8, 8, 3), 2.0, np.float32), np.zeros((8, 8, 3), np.float32))


def test_hdr_flip_runs_on_linear_values(rng: np.random.Generator) -> None:
    reference = (rng.random((32, 32, 3)) * 4).astype(np.float32)
    result = flip(reference, reference * 1.5, hdr=True)
    assert result.mean > 0.0 and "startExposure" in result.parameters
