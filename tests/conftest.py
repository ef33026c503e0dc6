"""Shared fixtures: small seeded images and real photos that ship with scikit-image (no downloads)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def photo(name: str) -> np.ndarray:
    """A scikit-image sample photo as HxWx3 float32 sRGB in [0, 1]."""
    from skimage import data

    image = getattr(data, name)()
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return image[..., :3].astype(np.float32) / 255.0


def to_uint8(image: np.ndarray) -> np.ndarray:
    return np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)


def quantise(image: np.ndarray) -> np.ndarray:
    """Round to 8-bit levels, as saving to PNG would."""
    return to_uint8(image).astype(np.float32) / 255.0


def jpeg_roundtrip(image: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(to_uint8(image)).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(buffer), dtype=np.float32) / 255.0


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture
def example_pair() -> tuple[Path, Path]:
    folder = EXAMPLES / "wrong-roughness"
    return folder / "reference.png", folder / "test.png"
