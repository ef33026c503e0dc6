"""FLIP (Andersson et al., 2020) and HDR-FLIP (2021), NVIDIA's error maps for rendered images.

synthdiff's own implementation of the published method, on OpenCV's separable filters in float32 and
in bands of rows: the same maths as NVIDIA's reference ``flip-evaluator`` (its maps agree to about
1e-5, tested), about eight times faster on 2 CPU cores and with memory bounded by the band, not the image.

LDR-FLIP, in short: both images go to the opponent space YCxCz; a colour pipeline filters each channel
with the contrast sensitivity of the eye at the viewing distance (Gaussians, or a sum of two for the
blue-yellow channel), clamps to the RGB cube, measures the HyAB distance in Hunt-adjusted L*a*b* and
maps it to [0, 1]; a feature pipeline compares edges and points (first and second Gaussian derivatives
of the luminance); the error is ``colour ** (1 - features)``. HDR-FLIP tone-maps both images (ACES) at
a range of exposures chosen from the reference and keeps each pixel's largest LDR-FLIP error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from synthdiff.errors import InvalidArgumentError
from synthdiff.io import srgb_to_linear
from synthdiff.metrics._checks import as_image_pair
from synthdiff.metrics._color import lab_curve

__all__ = ["FlipResult", "flip"]

#: FLIP's default observer: 0.7 m from a 0.7 m wide 4K display, about 67 pixels per degree.
DEFAULT_PIXELS_PER_DEGREE = 67.02064514160156

# The published constants: colour and feature exponents, the error redistribution point and its
# target, and the width (peak to trough, degrees) of the edge detector.
_QC, _QF, _PC, _PT = 0.7, 0.5, 0.4, 0.95
_EDGE_WIDTH = 0.082
# Contrast sensitivity of each opponent channel: a sum of Gaussians (amplitude a, scale b, degrees^2).
_CSF_TERMS = {
    "achromatic": ((1.0, 0.0047),),
    "red_green": ((1.0, 0.0053),),
    "blue_yellow": ((34.1, 0.04), (13.5, 0.025)),
}
# Linear sRGB (D65) to XYZ, exactly as FLIP defines it; its row sums are the white point.
_RGB_TO_XYZ = np.array(
    [
        [10135552 / 24577794, 8788810 / 24577794, 4435075 / 24577794],
        [2613072 / 12288897, 8788810 / 12288897, 887015 / 12288897],
        [1425312 / 73733382, 8788810 / 73733382, 70074185 / 73733382],
    ]
)
_WHITE = _RGB_TO_XYZ.sum(axis=1)
# HDR-FLIP's ACES fit (Narkowicz) with its 0.6 pre-exposure folded in:
# (k0 x^2 + k1 x + k2) / (k3 x^2 + k4 x + k5).
_ACES = (0.6 * 0.6 * 2.51, 0.6 * 0.03, 0.0, 0.6 * 0.6 * 2.43, 0.6 * 0.59, 0.14)
# Luminance (Rec. 709) for choosing the exposures, and the tone-mapped value the brightest pixel and the
# median pixel are brought to at the first and last exposure.
_LUMINANCE = np.array([0.2126, 0.7152, 0.0722])
_EXPOSURE_TARGET = 0.85
# flip-evaluator's floor for the luminances that set the exposures (float32's epsilon); with it a
# mostly black reference gets many exposures rather than infinitely many, and an all-black one a single
# (flip-evaluator ends the process there).
_LUMINANCE_FLOOR = float(np.finfo(np.float32).eps)
# Rows per band: memory stays bounded on large images; the halo makes the bands seamless.
_BAND_ROWS = 256


@dataclass(frozen=True)
class FlipResult:
    """FLIP error map and its mean.

    Attributes:
        mean: mean FLIP error in [0, 1] (0 = indistinguishable when flipping between the images).
        map: HxW float32 error map in [0, 1].
        parameters: the settings used: ``ppd`` (pixels per degree); for HDR also ``startExposure``,
            ``stopExposure``, ``numExposures`` and ``tonemapper``, named as flip-evaluator names them.
    """

    mean: float
    map: np.ndarray
    parameters: dict[str, object]


def flip(
    reference: np.ndarray,
    test: np.ndarray,
    *,
    hdr: bool = False,
    pixels_per_degree: float = DEFAULT_PIXELS_PER_DEGREE,
) -> FlipResult:
    """FLIP error between two RGB images.

    LDR-FLIP takes sRGB-encoded values in [0, 1]; HDR-FLIP takes linear, non-negative values and
    takes, per pixel, the largest LDR-FLIP error over exposures chosen from the reference (the first
    brings its brightest pixel, the last its median pixel, to 0.85 after ACES tone mapping; one
    exposure per stop, at least two).

    Args:
        reference: HxWx3 image (sRGB-encoded in [0, 1] for LDR, linear for HDR).
        test: image of the same shape and encoding.
        hdr: evaluate HDR-FLIP on linear images.
        pixels_per_degree: observer's pixels per degree of visual angle.

    Returns:
        The mean error, the HxW error map and the parameters used.

    Raises:
        SizeMismatchError: the shapes differ.
        InvalidArgumentError: not RGB, values out of range or not finite, or a non-positive pixels
            per degree.

    Example:
        >>> image = np.random.default_rng(0).random((32, 32, 3)).astype(np.float32)
        >>> flip(image, image).mean
        0.0
    """
    ref, tst = as_image_pair(reference, test)
    if ref.shape[2] != 3:
        raise InvalidArgumentError(f"Expected HxWx3 RGB images for FLIP, got {ref.shape[2]} channel(s).")
    if not pixels_per_degree > 0 or not math.isfinite(pixels_per_degree):
        raise InvalidArgumentError(f"Expected a positive pixels_per_degree, got {pixels_per_degree}.")
    low = min(float(ref.min()), float(tst.min()))
    if hdr:
        if low < 0.0:
            raise InvalidArgumentError("HDR-FLIP expects non-negative linear values; found negatives.")
        start, stop, count = _exposures(ref)
        exposures = [start + i * (stop - start) / (count - 1) for i in range(count)]
        error = _banded(ref, tst, pixels_per_degree, exposures)
        parameters: dict[str, object] = {
            "ppd": float(pixels_per_degree),
            "startExposure": start,
            "stopExposure": stop,
            "numExposures": count,
            "tonemapper": "aces",
        }
    else:
        if low < 0.0 or max(float(ref.max()), float(tst.max())) > 1.0:
            raise InvalidArgumentError(
                "LDR-FLIP expects sRGB-encoded values in [0, 1]. Fix: clip the images, or pass hdr=True "
                "for linear HDR images."
            )
        error = _banded(ref, tst, pixels_per_degree, None)
        parameters = {"ppd": float(pixels_per_degree)}
    return FlipResult(float(error.mean(dtype=np.float64)), error, parameters)


def _exposures(reference: np.ndarray) -> tuple[float, float, int]:
    """HDR-FLIP's start and stop exposures (stops) and how many, from the reference's luminance."""
    k0, k1, k2, k3, k4, k5 = _ACES
    target = _EXPOSURE_TARGET
    # The input that ACES maps to the target: the positive root of a quadratic.
    c0 = (k1 - k4 * target) / (k0 - k3 * target)
    c1 = (k2 - k5 * target) / (k0 - k3 * target)
    x_target = -0.5 * c0 + math.sqrt((0.5 * c0) ** 2 - c1)
    luminance = (reference.reshape(-1, 3) @ _LUMINANCE.astype(np.float32)).astype(np.float32)
    brightest = max(float(luminance.max()), _LUMINANCE_FLOOR)
    # The upper median, as flip-evaluator takes it.
    median = max(float(np.partition(luminance, luminance.size // 2)[luminance.size // 2]), _LUMINANCE_FLOOR)
    start = math.log2(x_target / brightest)
    stop = math.log2(x_target / median)
    return start, stop, int(max(2.0, math.ceil(stop - start)))


def _banded(reference: np.ndarray, test: np.ndarray, ppd: float, exposures: list[float] | None) -> np.ndarray:
    """The FLIP map of two images, computed band by band with a halo of the filters' reach.

    Without ``exposures`` the images are sRGB-encoded LDR ones; with them, linear HDR ones, each
    exposure (stops) tone-mapped and the largest error kept.
    """
    csf = _csf_kernels(ppd)
    features = _feature_kernels(ppd)
    halo = max(len(csf["achromatic"][0][1]), len(features[0])) // 2
    height = reference.shape[0]
    error = np.empty(reference.shape[:2], np.float32)
    for top in range(0, height, _BAND_ROWS):
        bottom = min(top + _BAND_ROWS, height)
        # Rows outside the image are left to the filters' replicated border, as in the reference.
        first, last = max(top - halo, 0), min(bottom + halo, height)
        ref_band, test_band = reference[first:last], test[first:last]
        if exposures is None:
            band = _ldr_flip(srgb_to_linear(ref_band), srgb_to_linear(test_band), csf, features)
        else:
            band = np.zeros(ref_band.shape[:2], np.float32)
            for exposure in exposures:
                scale = np.float32(2.0**exposure)
                exposed = _ldr_flip(_aces(ref_band * scale), _aces(test_band * scale), csf, features)
                np.maximum(band, exposed, out=band)
        error[top:bottom] = band[top - first : top - first + bottom - top]
    return error


def _aces(linear: np.ndarray) -> np.ndarray:
    k0, k1, k2, k3, k4, k5 = _ACES
    with np.errstate(over="ignore", invalid="ignore"):
        mapped = (linear * (k0 * linear + k1) + k2) / (linear * (k3 * linear + k4) + k5)
    # Overflowing highlights give inf / inf: they are white.
    return np.clip(np.nan_to_num(mapped, nan=1.0), 0.0, 1.0).astype(np.float32)


_Kernel = list[tuple[float, np.ndarray]]


def _csf_kernels(ppd: float) -> dict[str, _Kernel]:
    """Each channel's CSF filter as weighted separable Gaussians: [(weight, 1-D kernel), ...]."""
    # One radius for all three channels, from the widest Gaussian (as the reference does).
    widest = max(b for terms in _CSF_TERMS.values() for _, b in terms)
    radius = math.ceil(3 * math.sqrt(widest / (2 * math.pi**2)) * ppd)
    x = np.arange(-radius, radius + 1) / ppd
    kernels = {}
    for channel, terms in _CSF_TERMS.items():
        parts = []
        for amplitude, scale in terms:
            gaussian = np.exp(-(math.pi**2) * x * x / scale)
            # Weight of this term's 2-D kernel (a separable outer product) in the normalised sum.
            parts.append(
                (amplitude * math.sqrt(math.pi / scale) * gaussian.sum() ** 2, gaussian / gaussian.sum())
            )
        total = sum(weight for weight, _ in parts)
        kernels[channel] = [(weight / total, kernel.astype(np.float32)) for weight, kernel in parts]
    return kernels


def _feature_kernels(ppd: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """1-D edge (first derivative) and point (second derivative) kernels and the Gaussian across them."""
    sigma = 0.5 * _EDGE_WIDTH * ppd
    radius = math.ceil(3 * sigma)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    gaussian = np.exp(-x * x / (2 * sigma * sigma))
    edge = -x * gaussian
    point = (x * x / (sigma * sigma) - 1) * gaussian

    def balanced(kernel: np.ndarray) -> np.ndarray:
        # Positive weights sum to 1 and negative ones to -1.
        return np.where(kernel > 0, kernel / kernel[kernel > 0].sum(), kernel / -kernel[kernel < 0].sum())

    return (
        balanced(edge).astype(np.float32),
        balanced(point).astype(np.float32),
        (gaussian / gaussian.sum()).astype(np.float32),
    )


def _filter(image: np.ndarray, along_x: np.ndarray, along_y: np.ndarray) -> np.ndarray:
    return cv2.sepFilter2D(image, cv2.CV_32F, along_x, along_y, borderType=cv2.BORDER_REPLICATE)


def _affine(image: np.ndarray, matrix: np.ndarray, offset: np.ndarray | None = None) -> np.ndarray:
    """A per-pixel 3x3 colour matrix (plus offset) on an HxWx3 image."""
    if offset is not None:
        matrix = np.concatenate([matrix, offset[:, None]], axis=1)
    return cv2.transform(image, matrix.astype(np.float32))


# Linear RGB to YCxCz: XYZ relative to white, then Y = 116 y - 16, Cx = 500 (x - y), Cz = 200 (y - z).
_XYZ_TO_YCXCZ = np.array([[0, 116, 0], [500, -500, 0], [0, 200, -200]], dtype=np.float64)
_RGB_TO_YCXCZ = _XYZ_TO_YCXCZ @ (_RGB_TO_XYZ / _WHITE[:, None])
_YCXCZ_OFFSET = np.array([-16.0, 0.0, 0.0])
_YCXCZ_TO_RGB = np.linalg.inv(_RGB_TO_YCXCZ)


def _hunt_lab(linear: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CIE L*a*b* (D65) of linear RGB, with a* and b* scaled by 0.01 L* (the Hunt adjustment)."""
    f = lab_curve(_affine(linear, _RGB_TO_XYZ / _WHITE[:, None]).astype(np.float32))
    lightness = 116 * f[..., 1] - 16
    hunt = 0.01 * lightness
    return lightness, 500 * (f[..., 0] - f[..., 1]) * hunt, 200 * (f[..., 1] - f[..., 2]) * hunt


def _max_colour_distance() -> float:
    """HyAB distance between Hunt-adjusted green and blue, to the power qc: the scale of colour errors."""
    green = _hunt_lab(np.array([[[0.0, 1.0, 0.0]]], np.float32))
    blue = _hunt_lab(np.array([[[0.0, 0.0, 1.0]]], np.float32))
    lightness = abs(float(green[0][0, 0]) - float(blue[0][0, 0]))
    chroma = math.hypot(
        float(green[1][0, 0]) - float(blue[1][0, 0]), float(green[2][0, 0]) - float(blue[2][0, 0])
    )
    return (lightness + chroma) ** _QC


_CMAX = _max_colour_distance()


def _ldr_flip(
    reference: np.ndarray, test: np.ndarray, csf: dict[str, _Kernel], features: tuple[np.ndarray, ...]
) -> np.ndarray:
    """LDR-FLIP of two linear RGB images in [0, 1]."""
    edge, point, gaussian = features
    labs, responses = [], []
    for linear in (reference, test):
        opponent = _affine(linear, _RGB_TO_YCXCZ, _YCXCZ_OFFSET)
        filtered = np.empty_like(opponent)
        for index, channel in enumerate(("achromatic", "red_green", "blue_yellow")):
            plane = np.ascontiguousarray(opponent[..., index])
            filtered[..., index] = sum(
                weight * _filter(plane, kernel, kernel) for weight, kernel in csf[channel]
            )
        back = _affine(filtered, _YCXCZ_TO_RGB, -_YCXCZ_TO_RGB @ _YCXCZ_OFFSET)
        labs.append(_hunt_lab(np.clip(back, 0.0, 1.0, out=back)))
        # The feature pipeline reads the luminance Y of XYZ (relative to white), unfiltered.
        luminance = np.ascontiguousarray((opponent[..., 0] + 16) / 116)
        edges = cv2.magnitude(_filter(luminance, edge, gaussian), _filter(luminance, gaussian, edge))
        points = cv2.magnitude(_filter(luminance, point, gaussian), _filter(luminance, gaussian, point))
        responses.append((edges, points))
    (l_ref, a_ref, b_ref), (l_test, a_test, b_test) = labs
    hyab = np.abs(l_ref - l_test) + cv2.magnitude(a_ref - a_test, b_ref - b_test)
    powered = hyab**_QC
    knee = _PC * _CMAX
    colour = np.where(
        powered < knee, powered * (_PT / knee), _PT + (powered - knee) / (_CMAX - knee) * (1.0 - _PT)
    ).astype(np.float32)
    (edges_ref, points_ref), (edges_test, points_test) = responses
    feature = np.maximum(np.abs(edges_ref - edges_test), np.abs(points_ref - points_test))
    feature = (feature * np.float32(1 / math.sqrt(2))) ** _QF
    return (colour ** (1.0 - feature)).astype(np.float32)
