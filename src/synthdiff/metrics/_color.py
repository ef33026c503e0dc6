"""CIEDE2000 colour difference (Sharma, Wu and Dalal, 2005) between sRGB images."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from synthdiff.errors import InvalidArgumentError
from synthdiff.io import float_pixels, srgb_to_linear
from synthdiff.metrics._checks import as_image_pair

__all__ = ["ciede2000_map", "srgb_to_lab"]

_RGB_TO_XYZ = np.array(
    [[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]],
    dtype=np.float64,
)
_D65_WHITE = np.array([0.95047, 1.0, 1.08883])
_BAND_ROWS = 64
_MIN_BAND_ROWS = 8
_MAX_THREADS = 8


def srgb_to_lab(image: np.ndarray) -> np.ndarray:
    """Convert sRGB-encoded values in [0, 1] to CIE L*a*b* (D65 white, 2 degree observer).

    Args:
        image: HxWx3 sRGB-encoded image: floats in [0, 1], or uint8 / uint16 (scaled to [0, 1]).

    Returns:
        HxWx3 float64 array of L* (0-100), a*, b*.

    Raises:
        InvalidArgumentError: another integer type, or bool (see :func:`synthdiff.io.float_pixels`).
    """
    image = float_pixels(image, "sRGB")  # 8- and 16-bit scaled (srgb_to_linear works in float32 anyway)
    xyz = srgb_to_linear(np.clip(image, 0.0, 1.0)).astype(np.float64) @ _RGB_TO_XYZ.T / _D65_WHITE
    f = lab_curve(xyz)
    lightness = 116.0 * f[..., 1] - 16.0
    a = 500.0 * (f[..., 0] - f[..., 1])
    b = 200.0 * (f[..., 1] - f[..., 2])
    return np.stack([lightness, a, b], axis=-1)


def lab_curve(ratio: np.ndarray) -> np.ndarray:
    """CIE L*a*b*'s transfer function f(t) of X/Xn, Y/Yn, Z/Zn: a cube root, linear near black.

    Returns:
        f(t) in the dtype of ``ratio``; L* = 116 f(Y/Yn) - 16, a* = 500 (f(X/Xn) - f(Y/Yn)),
        b* = 200 (f(Y/Yn) - f(Z/Zn)).
    """
    delta = 6.0 / 29.0
    return np.where(ratio > delta**3, np.cbrt(ratio), ratio / (3 * delta * delta) + 4.0 / 29.0).astype(
        ratio.dtype
    )


def ciede2000_map(reference: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Per-pixel CIEDE2000 colour difference (kL = kC = kH = 1).

    Args:
        reference: HxWx3 sRGB-encoded image in [0, 1].
        test: HxWx3 sRGB-encoded image of the same size.

    Returns:
        HxW float32 map of Delta E 2000 (0 = identical; about 2.3 is a just-noticeable difference).
    """
    ref, tst = as_image_pair(reference, test)
    if ref.shape[2] != 3:
        raise InvalidArgumentError(f"Expected HxWx3 RGB images for CIEDE2000, got {ref.shape[2]} channel(s).")
    output = np.empty(ref.shape[:2], dtype=np.float32)
    # Row bands keep the float64 temporaries small (memory stays bounded on 4K and larger images), and
    # run on a thread per core (numpy releases the GIL in its array loops), each band a share of the
    # rows a single thread would take, so the memory in flight does not grow with the threads.
    workers = max(1, min(os.cpu_count() or 1, _MAX_THREADS, ref.shape[0] // _MIN_BAND_ROWS))
    rows = max(_MIN_BAND_ROWS, _BAND_ROWS // workers)

    def fill(start: int) -> None:
        band = slice(start, start + rows)
        output[band] = _ciede2000_lab(srgb_to_lab(ref[band]), srgb_to_lab(tst[band]))
        # Identical pixels differ by exactly 0. The conversion alone does not promise that: numpy's
        # vectorised and scalar loops (chosen by memory layout and alignment) round powers and cube
        # roots differently, which left ~1e-15 on identical images on some machines.
        output[band][np.all(ref[band] == tst[band], axis=-1)] = 0.0

    starts = range(0, ref.shape[0], rows)
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(fill, starts))
    else:
        for start in starts:
            fill(start)
    return output


def _ciede2000_lab(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    L1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    L2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]

    c_mean = 0.5 * (np.hypot(a1, b1) + np.hypot(a2, b2))
    c7 = c_mean**7
    g = 0.5 * (1.0 - np.sqrt(c7 / (c7 + 25.0**7)))
    a1p, a2p = (1.0 + g) * a1, (1.0 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.arctan2(b1, a1p) % (2 * np.pi)
    h2p = np.arctan2(b2, a2p) % (2 * np.pi)
    chroma_product = c1p * c2p
    achromatic = chroma_product == 0

    delta_l = L2 - L1
    delta_c = c2p - c1p
    delta_h_angle = h2p - h1p
    delta_h_angle = np.where(delta_h_angle > np.pi, delta_h_angle - 2 * np.pi, delta_h_angle)
    delta_h_angle = np.where(delta_h_angle < -np.pi, delta_h_angle + 2 * np.pi, delta_h_angle)
    delta_h_angle = np.where(achromatic, 0.0, delta_h_angle)
    delta_h = 2.0 * np.sqrt(chroma_product) * np.sin(delta_h_angle / 2.0)

    l_mean = 0.5 * (L1 + L2)
    cp_mean = 0.5 * (c1p + c2p)
    h_sum = h1p + h2p
    h_mean = np.where(
        np.abs(h1p - h2p) <= np.pi,
        h_sum / 2.0,
        np.where(h_sum < 2 * np.pi, (h_sum + 2 * np.pi) / 2.0, (h_sum - 2 * np.pi) / 2.0),
    )
    h_mean = np.where(achromatic, h_sum, h_mean)

    t = (
        1.0
        - 0.17 * np.cos(h_mean - np.deg2rad(30.0))
        + 0.24 * np.cos(2.0 * h_mean)
        + 0.32 * np.cos(3.0 * h_mean + np.deg2rad(6.0))
        - 0.20 * np.cos(4.0 * h_mean - np.deg2rad(63.0))
    )
    delta_theta = np.deg2rad(30.0) * np.exp(-(((np.rad2deg(h_mean) - 275.0) / 25.0) ** 2))
    cp7 = cp_mean**7
    r_c = 2.0 * np.sqrt(cp7 / (cp7 + 25.0**7))
    s_l = 1.0 + 0.015 * (l_mean - 50.0) ** 2 / np.sqrt(20.0 + (l_mean - 50.0) ** 2)
    s_c = 1.0 + 0.045 * cp_mean
    s_h = 1.0 + 0.015 * cp_mean * t
    r_t = -np.sin(2.0 * delta_theta) * r_c

    term_l, term_c, term_h = delta_l / s_l, delta_c / s_c, delta_h / s_h
    delta_e = np.sqrt(np.maximum(term_l**2 + term_c**2 + term_h**2 + r_t * term_c * term_h, 0.0))
    return delta_e.astype(np.float32)
