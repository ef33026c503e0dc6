"""Argument checks shared by the metric functions."""

from __future__ import annotations

import numpy as np

from synthdiff.errors import InvalidArgumentError, SizeMismatchError
from synthdiff.io import float_pixels


def as_image_pair(reference: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Check two images for pixel-wise comparison and return them as float32 HxWxC arrays.

    Accepts HxW (grey) or HxWxC arrays: float ones as they are, uint8 and uint16 ones scaled to [0, 1]
    (:func:`synthdiff.io.float_pixels`; before, an 8-bit pair gave a PSNR of -8 dB). Raises when the
    shapes differ, the dtype has no known scale, or values are not finite, with a message saying how to
    fix it.
    """
    converted = []
    for name, image in (("reference", reference), ("test", test)):
        array = np.asarray(image)
        if array.ndim not in (2, 3) or array.size == 0:
            raise InvalidArgumentError(
                f"Expected the {name} image as a non-empty HxW or HxWxC array, got shape {array.shape}."
            )
        converted.append(float_pixels(array, name))  # raises for a dtype of unknown scale
    ref, tst = converted
    if ref.shape != tst.shape:
        raise SizeMismatchError(
            f"Expected images of the same shape, got reference {ref.shape} and test {tst.shape}. "
            "Fix: align or resize the test image first (CLI: --align auto or --resize)."
        )
    if ref.ndim == 2:
        ref, tst = ref[..., None], tst[..., None]
    if not (np.isfinite(ref).all() and np.isfinite(tst).all()):
        raise InvalidArgumentError("Expected finite pixel values, found NaN or infinity.")
    return ref, tst


def as_mask(mask: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray | None:
    """Check an optional HxW boolean mask of valid pixels against an image shape."""
    if mask is None:
        return None
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != shape[:2]:
        raise InvalidArgumentError(f"Expected a mask of shape {shape[:2]}, got {mask.shape}.")
    if not mask.any():
        raise InvalidArgumentError("The mask of valid pixels is empty: there is nothing to compare.")
    return mask


def masked_mean(values: np.ndarray, mask: np.ndarray | None) -> float:
    """Mean of an HxW or HxWxC array over the pixels where ``mask`` is True (all when None)."""
    if mask is None:
        return float(values.mean(dtype=np.float64))
    return float(values[mask].mean(dtype=np.float64))
