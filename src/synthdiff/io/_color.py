"""sRGB transfer functions and simple display mapping for HDR images."""

from __future__ import annotations

import numpy as np

from synthdiff.io._load import float_pixels

__all__ = [
    "hdr_pair_to_display",
    "hdr_to_display",
    "linear_to_srgb",
    "match_dynamic_range",
    "srgb_to_linear",
]


def srgb_to_linear(image: np.ndarray) -> np.ndarray:
    """Decode sRGB-encoded values in [0, 1] to linear light (IEC 61966-2-1 piecewise curve).

    Args:
        image: float array of sRGB-encoded values in [0, 1], any shape (uint8 and uint16 arrays are
            scaled to [0, 1]).

    Returns:
        float32 array of linear values, same shape.
    """
    image = _float32(image)
    return np.where(image <= 0.04045, image / 12.92, ((image + 0.055) / 1.055) ** 2.4).astype(np.float32)


def _float32(image: np.ndarray) -> np.ndarray:
    """float32 values; uint8 and uint16 arrays (8- and 16-bit images) scaled to [0, 1]."""
    image = np.asarray(image)
    return float_pixels(image) if image.dtype in (np.uint8, np.uint16) else image.astype(np.float32)


def linear_to_srgb(image: np.ndarray) -> np.ndarray:
    """Encode linear values to sRGB; inputs are clipped to [0, 1] first.

    Args:
        image: float array of linear values, any shape.

    Returns:
        float32 array of sRGB-encoded values in [0, 1], same shape.
    """
    image = np.clip(_float32(image), 0.0, 1.0)
    return np.where(image <= 0.0031308, image * 12.92, 1.055 * image ** (1 / 2.4) - 0.055).astype(np.float32)


def hdr_to_display(image: np.ndarray, exposure: float = 0.0) -> np.ndarray:
    """Map a linear HDR image to an sRGB-encoded LDR image for viewing and structural metrics.

    The mapping is exposure scaling, then the extended Reinhard curve with white point at the
    image's 99.9th percentile luminance (so the brightest highlights roll off rather than clip), then
    sRGB encoding. It is deterministic given the image, so reference and test must be mapped with the
    same white point: use :func:`hdr_pair_to_display` for pairs.

    Args:
        image: HxWx3 float32, linear light, non-negative.
        exposure: exposure adjustment in stops.

    Returns:
        HxWx3 float32 sRGB-encoded values in [0, 1].
    """
    exposed = _float32(image) * np.float32(2.0**exposure)
    return _reinhard(exposed, _white_point(exposed))


def hdr_pair_to_display(reference: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map two linear HDR images to display sRGB with the reference's white point for both.

    Args:
        reference: HxWx3 float32, linear light.
        test: HxWx3 float32, linear light.

    Returns:
        The two images as HxWx3 float32 sRGB-encoded values in [0, 1].
    """
    reference, test = _float32(reference), _float32(test)
    white = _white_point(reference)
    return _reinhard(reference, white), _reinhard(test, white)


def match_dynamic_range(
    reference: np.ndarray, test: np.ndarray, reference_is_hdr: bool, test_is_hdr: bool
) -> tuple[np.ndarray, np.ndarray, str | None]:
    """Bring a pair to one encoding: an HDR image beside an LDR one is clipped and sRGB-encoded.

    Two HDR images stay linear (map them with :func:`hdr_pair_to_display` for viewing), two LDR images
    stay as they are. A linear image beside an sRGB-encoded one must not be compared as it is: the same
    content would differ everywhere.

    Args:
        reference: HxWx3 float32, linear light when ``reference_is_hdr``, else sRGB-encoded in [0, 1].
        test: HxWx3 float32, encoded likewise by ``test_is_hdr``.
        reference_is_hdr: whether ``reference`` is linear light.
        test_is_hdr: whether ``test`` is linear light.

    Returns:
        The two images in one encoding, and a note for people when one was converted (else None).

    Example:
        >>> hdr = np.full((2, 2, 3), 0.2140, dtype=np.float32)  # linear value of sRGB 0.5
        >>> ldr = np.full((2, 2, 3), 0.5, dtype=np.float32)
        >>> reference, test, note = match_dynamic_range(hdr, ldr, True, False)
        >>> round(float(reference[0, 0, 0]), 3), note.split(":")[0]
        (0.5, 'the reference image is HDR and the other LDR')
    """
    if reference_is_hdr == test_is_hdr:
        return reference, test, None
    which = "reference" if reference_is_hdr else "test"
    note = f"the {which} image is HDR and the other LDR: the HDR one was clipped and sRGB-encoded"
    if reference_is_hdr:
        return linear_to_srgb(reference), test, note
    return reference, linear_to_srgb(test), note


def _white_point(image: np.ndarray) -> float:
    luminance = image @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
    return max(float(np.percentile(luminance, 99.9)), 1e-6)


def _reinhard(image: np.ndarray, white: float) -> np.ndarray:
    image = np.maximum(image, 0.0)
    mapped = image * (1.0 + image / np.float32(white * white)) / (1.0 + image)
    return linear_to_srgb(mapped)
