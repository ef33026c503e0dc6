"""Per-image records: preprocessing without distortion, spectra of known signals, caching, bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from synthdiff.gap._records import RecordSettings, compute_records, prepare_square, radial_power_spectrum


def test_prepare_square_keeps_the_aspect_ratio_and_crops_the_centre() -> None:
    image = np.zeros((100, 300, 3), np.float32)
    image[:, 100:200] = 1.0  # the centre square is white, the sides black
    square = prepare_square(image, 50).numpy()
    assert square.shape == (3, 50, 50)
    assert square[:, :, 2:-2].min() > 0.99  # no black squeezed in from the sides


def test_white_noise_has_a_flat_spectrum_and_a_smooth_image_a_falling_one() -> None:
    rng = np.random.default_rng(0)
    noise = radial_power_spectrum(rng.random((200, 200)).astype(np.float32))
    rows, cols = np.mgrid[0:200, 0:200] / 200.0
    smooth = radial_power_spectrum((np.sin(3 * rows) * np.cos(2 * cols)).astype(np.float32))
    assert noise.shape == smooth.shape == (64,)
    assert np.ptp(noise[8:]) < 0.5  # flat within a factor ~3 (log10 units)
    assert smooth[-1] < smooth[2] - 4  # falls by more than four decades
    assert radial_power_spectrum(rng.random((20, 30)).astype(np.float32)).shape == (64,)  # padded


def write_images(folder: Path, count: int, seed: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for index in range(count):
        size = (40 + 10 * index, 60)
        path = folder / f"{index}.png"
        Image.fromarray(rng.integers(0, 255, (*size, 3), dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


def test_records_are_cached_by_content_and_unreadable_files_are_skipped(tmp_path: Path) -> None:
    paths = write_images(tmp_path / "images", 3)
    broken = tmp_path / "images" / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    settings = RecordSettings(size=32)
    records, failed, hits = compute_records([*paths, broken], settings, tmp_path / "cache", batch_size=2)
    assert [r.path for r in records] == [str(p) for p in paths] and hits == 0
    assert [f[0] for f in failed] == [str(broken)]
    first = records[1]
    assert (first.width, first.height, first.format) == (60, 50, "png")
    assert first.features.shape == (1280,) and first.thumbnail.shape == (32, 32, 3)
    assert first.grey_histogram.sum() == pytest.approx(1.0, abs=1e-5)
    again, _, hits = compute_records(paths, settings, tmp_path / "cache")
    assert hits == 3
    np.testing.assert_allclose(again[1].features, first.features)
    _, _, hits = compute_records(paths, RecordSettings(size=48), tmp_path / "cache")
    assert hits == 0  # other settings, other key
