"""FLIP against NVIDIA's reference implementation, flip-evaluator (its Python API and its command line)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import flip_evaluator
import numpy as np
import pytest

from synthdiff.errors import InvalidArgumentError, SizeMismatchError
from synthdiff.io import save_png
from synthdiff.metrics import _flip, flip
from tests.conftest import photo, quantise

# How far synthdiff's maps may be from flip-evaluator's: both work in float32, in another order
# (measured: at most 1.6e-5 on these pairs).
MAP_TOLERANCE = 5e-5


def _reference(
    reference: np.ndarray, test: np.ndarray, mode: str, ppd: float
) -> tuple[np.ndarray, float, dict]:
    error, mean, parameters = flip_evaluator.evaluate(
        np.ascontiguousarray(reference),
        np.ascontiguousarray(test),
        mode,
        applyMagma=False,
        parameters={"ppd": ppd},
    )
    return np.asarray(error, dtype=np.float32)[..., 0], float(mean), dict(parameters)


def _ldr_pair(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    reference = photo("astronaut")
    test = np.clip(reference * 0.9 + rng.normal(0, 0.03, reference.shape), 0, 1).astype(np.float32)
    test[100:180, 200:300] = (0.2, 0.6, 0.1)  # a pasted patch: colour and edge errors
    return reference, test


@pytest.mark.parametrize(
    ("rows", "columns", "ppd"),
    [
        (slice(None), slice(None), _flip.DEFAULT_PIXELS_PER_DEGREE),  # 512 rows: two bands
        (slice(0, 301), slice(0, 257), _flip.DEFAULT_PIXELS_PER_DEGREE),  # odd sizes, a short last band
        (slice(0, 301), slice(0, 257), 20.0),  # a far observer: narrower filters
        (slice(0, 5), slice(0, 7), _flip.DEFAULT_PIXELS_PER_DEGREE),  # smaller than the filters
        (slice(0, 1), slice(None), _flip.DEFAULT_PIXELS_PER_DEGREE),  # one row
    ],
)
def test_ldr_flip_matches_flip_evaluator(
    rng: np.random.Generator, rows: slice, columns: slice, ppd: float
) -> None:
    reference, test = (image[rows, columns] for image in _ldr_pair(rng))
    expected_map, expected_mean, _ = _reference(reference, test, "LDR", ppd)
    result = flip(reference, test, pixels_per_degree=ppd)
    np.testing.assert_allclose(result.map, expected_map, atol=MAP_TOLERANCE, rtol=0)
    assert result.mean == pytest.approx(expected_mean, abs=1e-5)
    assert result.parameters == {"ppd": pytest.approx(ppd)}


def _hdr_pair(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    reference = (rng.random((300, 200, 3)) ** 3 * 6).astype(np.float32)
    test = reference * 1.2
    test[50:80, 50:90] += 3.0
    return reference, test


def test_hdr_flip_matches_flip_evaluator(rng: np.random.Generator) -> None:
    reference, test = _hdr_pair(rng)
    expected_map, expected_mean, expected = _reference(
        reference, test, "HDR", _flip.DEFAULT_PIXELS_PER_DEGREE
    )
    result = flip(reference, test, hdr=True)
    np.testing.assert_allclose(result.map, expected_map, atol=MAP_TOLERANCE, rtol=0)
    assert result.mean == pytest.approx(expected_mean, abs=1e-5)
    assert result.parameters["numExposures"] == expected["numExposures"] == 3
    for key in ("startExposure", "stopExposure"):
        assert result.parameters[key] == pytest.approx(expected[key], abs=1e-5)


def test_hdr_flip_on_a_mostly_black_reference_matches_flip_evaluator(rng: np.random.Generator) -> None:
    # The median luminance is 0: the last exposure comes from the floor on luminance (26 exposures).
    reference, test = _hdr_pair(rng)
    reference[100:] = 0.0
    expected_map, _, expected = _reference(reference, test, "HDR", _flip.DEFAULT_PIXELS_PER_DEGREE)
    result = flip(reference, test, hdr=True)
    np.testing.assert_allclose(result.map, expected_map, atol=MAP_TOLERANCE, rtol=0)
    assert result.parameters["numExposures"] == expected["numExposures"] > 20


def test_hdr_flip_on_an_all_black_reference_gives_an_answer() -> None:
    # flip-evaluator ends the process here ("Start exposure must be smaller than stop exposure!").
    black = np.zeros((16, 16, 3), np.float32)
    result = flip(black, black + 0.1, hdr=True)
    assert result.parameters["numExposures"] == 2
    assert result.parameters["startExposure"] == result.parameters["stopExposure"]
    assert result.mean > 0.9  # black against light at the exposure that brings 2^-23 to mid-grey
    assert flip(black, black, hdr=True).mean == 0.0


def test_bands_are_seamless(rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch) -> None:
    reference, test = (image[:200, :120] for image in _ldr_pair(rng))
    whole = flip(reference, test).map
    monkeypatch.setattr(_flip, "_BAND_ROWS", 37)  # 6 bands, the last one short
    banded = flip(reference, test).map
    np.testing.assert_allclose(banded, whole, atol=1e-6, rtol=0)


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
    command = [_flip_cli(), "-r", str(tmp_path / "ref.png"), "-t", str(tmp_path / "test.png")]
    output = subprocess.run(
        [*command, "-v", "1", "-nerm", "-d", str(tmp_path)], capture_output=True, text=True, check=True
    ).stdout
    expected = float(re.search(r"Mean:\s*([0-9.]+)", output).group(1))  # type: ignore[union-attr]
    result = flip(reference, test)
    # The CLI prints 6 decimals.
    assert result.mean == pytest.approx(expected, abs=1e-5)
    assert result.map.shape == reference.shape[:2]
    assert float(result.map.min()) >= 0.0 and float(result.map.max()) <= 1.0


def test_flip_identical_is_zero() -> None:
    image = photo("coffee")[:64, :64]
    assert flip(image, image).mean == 0.0
    assert float(flip(image, image).map.max()) == 0.0


def test_flip_rejects_out_of_range_ldr() -> None:
    with pytest.raises(InvalidArgumentError, match=r"LDR-FLIP expects sRGB-encoded values in \[0, 1\]"):
        flip(np.full((8, 8, 3), 2.0, np.float32), np.zeros((8, 8, 3), np.float32))


def test_flip_rejects_negative_hdr() -> None:
    with pytest.raises(InvalidArgumentError, match="non-negative linear values"):
        flip(np.full((8, 8, 3), -1.0, np.float32), np.zeros((8, 8, 3), np.float32), hdr=True)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_flip_rejects_values_that_are_not_finite(bad: float) -> None:
    image = np.zeros((8, 8, 3), np.float32)
    broken = image.copy()
    broken[2, 3, 1] = bad
    with pytest.raises(InvalidArgumentError, match="finite pixel values"):
        flip(image, broken, hdr=True)


@pytest.mark.parametrize("ppd", [0.0, -3.0, float("nan"), float("inf")])
def test_flip_rejects_a_bad_observer(ppd: float) -> None:
    image = np.zeros((8, 8, 3), np.float32)
    with pytest.raises(InvalidArgumentError, match="positive pixels_per_degree"):
        flip(image, image, pixels_per_degree=ppd)


def test_flip_rejects_other_channel_counts_and_sizes() -> None:
    with pytest.raises(InvalidArgumentError, match="RGB images for FLIP"):
        flip(np.zeros((8, 8, 4), np.float32), np.zeros((8, 8, 4), np.float32))
    with pytest.raises(SizeMismatchError):
        flip(np.zeros((8, 8, 3), np.float32), np.zeros((8, 9, 3), np.float32))
