"""CIE L*a*b* and CIEDE2000 against scikit-image."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.color import deltaE_ciede2000, rgb2lab

from synthdiff.errors import InvalidArgumentError
from synthdiff.metrics import ciede2000_map, srgb_to_lab
from tests.conftest import photo


def test_lab_matches_scikit_image() -> None:
    image = photo("chelsea")
    np.testing.assert_allclose(srgb_to_lab(image), rgb2lab(image), atol=1e-3)
    # An 8-bit photo, as Pillow gives it, is scaled (read as 0-255 values it came out white: L* 100).
    eight = np.round(image * 255).astype(np.uint8)
    np.testing.assert_allclose(srgb_to_lab(eight), rgb2lab(eight), atol=1e-3)
    with pytest.raises(InvalidArgumentError, match=r"sRGB image as a float array .* got dtype int32"):
        srgb_to_lab(eight.astype(np.int32))


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


def test_ciede2000_is_the_same_on_one_thread_or_several(
    rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = photo("chelsea")[:150]
    test = np.clip(reference + rng.normal(0, 0.05, reference.shape), 0, 1).astype(np.float32)
    several = ciede2000_map(reference, test)
    monkeypatch.setattr("synthdiff.metrics._color.os.cpu_count", lambda: 1)
    np.testing.assert_array_equal(ciede2000_map(reference, test), several)
    monkeypatch.setattr("synthdiff.metrics._color.os.cpu_count", lambda: 3)  # bands of 21 rows
    np.testing.assert_array_equal(ciede2000_map(reference, test), several)
