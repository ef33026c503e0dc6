"""Spot-the-difference regions: where a pair differs beyond its own noise.

The usual recipe (SSIM map, Otsu threshold, contours) always splits the image in two, so it finds
hundreds of boxes on a re-encoded but unchanged photo. Here the threshold comes from the pair itself:
the difference left after alignment and global compensation is modelled as noise whose size grows
with local image structure (JPEG ringing, resampling and render noise all concentrate at edges). The
model is fitted robustly per structure level, so a few changed regions do not inflate it, and a pixel
counts as different only when it exceeds what the model allows at its own structure level.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

from synthdiff.diff._global import difference_magnitude
from synthdiff.errors import InvalidArgumentError
from synthdiff.io import unit_scaled

__all__ = ["NoiseModel", "Region", "RegionResult", "find_regions"]

_BINS = 24
_MAX_SAMPLES = 150_000
_NOISE_QUANTILE = 0.2
# A level's noise estimate above this many times the bound the higher levels set is taken as changed pixels.
_CONTAMINATION_FACTOR = 3.0
# 20th percentile of the RMS over 3 channels of unit Gaussian noise: sqrt(chi2_3.ppf(0.2) / 3).
_GAUSSIAN_QUANTILE = 0.5788
# Weak and strong thresholds, in noise standard deviations.
_WEAK_Z = 5.0
_STRONG_Z = 10.0
# Differences below this (in [0, 1] sRGB units, after smoothing) are never reported: about 4/255.
_ABSOLUTE_FLOOR = 0.015


@dataclass(frozen=True)
class Region:
    """A region where the test image differs from the reference.

    Attributes:
        box: (x0, y0, x1, y1) in reference pixel coordinates, x1/y1 exclusive.
        box_test: the same region in test pixel coordinates (differs when the test was aligned).
        area: number of differing pixels in the region.
        score: mean ratio of the difference to the local threshold (above 1; higher = clearer).
        mean_difference: mean colour difference in the region, in image units.
    """

    box: tuple[int, int, int, int]
    box_test: tuple[int, int, int, int]
    area: int
    score: float
    mean_difference: float

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict."""
        return {
            "box": list(self.box),
            "box_test": list(self.box_test),
            "area": self.area,
            "score": round(self.score, 4),
            "mean_difference": round(self.mean_difference, 6),
        }


@dataclass(frozen=True)
class NoiseModel:
    """The pair's noise as a function of local structure.

    Attributes:
        structure: structure level (gradient magnitude) at the centre of each bin, increasing.
        scale: robust noise standard deviation of the smoothed difference at each level.
        smoothing_sigma: Gaussian sigma (pixels) applied to the difference before thresholding.
    """

    structure: np.ndarray
    scale: np.ndarray
    smoothing_sigma: float

    def scale_at(self, structure: np.ndarray) -> np.ndarray:
        """Noise standard deviation at each pixel's structure level."""
        return np.interp(structure, self.structure, self.scale).astype(np.float32)

    def threshold(self, structure: np.ndarray, z: float) -> np.ndarray:
        """Difference threshold at each pixel's structure level for ``z`` robust deviations."""
        return np.maximum(z * self.scale_at(structure), _ABSOLUTE_FLOOR)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict."""
        return {
            "structure": np.round(self.structure, 6).tolist(),
            "scale": np.round(self.scale, 6).tolist(),
            "smoothing_sigma": self.smoothing_sigma,
            "weak_z": _WEAK_Z,
            "strong_z": _STRONG_Z,
            "absolute_floor": _ABSOLUTE_FLOOR,
        }


@dataclass(frozen=True)
class RegionResult:
    """Regions and the maps they came from.

    Attributes:
        regions: differing regions, strongest first.
        excess: HxW float32 ratio of the smoothed difference to the weak threshold (>1 = differs).
        changed: HxW boolean mask of the pixels inside reported regions.
        noise: the fitted noise model.
    """

    regions: list[Region]
    excess: np.ndarray
    changed: np.ndarray
    noise: NoiseModel


def _structure(reference: np.ndarray, test: np.ndarray, sigma: float) -> np.ndarray:
    """Local structure both images share: the smaller of their colour gradient magnitudes.

    Gradients are taken per channel (largest of the three), so colour edges with little change in
    brightness, where chroma subsampling and demosaicing errors gather, count as structure too. They
    are taken after a blur of ``sigma``, which leaves nothing finer than about ``sigma`` pixels: on
    images whose ``sigma`` is 3 or more (a shorter side of 1080 pixels or more) the map is made on a
    grid ``sigma // 1.5`` times coarser and brought back, in a fraction of the time, with gradients in
    full-size pixels as before.
    """
    height, width = reference.shape[:2]
    factor = max(1, min(int(sigma // 1.5), min(height, width) // 64))
    magnitudes = []
    for image in (reference, test):
        image = np.ascontiguousarray(image, dtype=np.float32)
        if factor > 1:
            size = (max(1, width // factor), max(1, height // factor))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        blurred = cv2.GaussianBlur(image, (0, 0), sigma / factor)
        gx = cv2.Sobel(blurred, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(blurred, cv2.CV_32F, 0, 1, ksize=3)
        squared = gx * gx
        squared += gy * gy
        if squared.ndim == 3:
            # The channels' maximum by pairs: numpy's reduction over a short last axis is several
            # times slower. The square root comes after it (it keeps the order; the same values).
            channels = [squared[..., c] for c in range(squared.shape[2])]
            squared = functools.reduce(np.maximum, channels)
        magnitudes.append(squared)
    structure = np.sqrt(np.minimum(magnitudes[0], magnitudes[1]))
    if factor == 1:
        return structure
    # A gradient on the coarse grid is per coarse pixel: `factor` full-size pixels.
    structure /= factor
    return cv2.resize(structure, (width, height), interpolation=cv2.INTER_LINEAR)


def _fit_noise(smoothed: np.ndarray, structure: np.ndarray, valid: np.ndarray, sigma: float) -> NoiseModel:
    """Robust noise scale of the smoothed difference per structure level.

    The scale comes from a low quantile (the 20th percentile) of the difference in each level,
    which unchanged pixels decide as long as they are at least a fifth of that level; a median or
    MAD would be taken over by a change covering half of the image.
    """
    stride = max(1, valid.size // _MAX_SAMPLES)
    grid = np.arange(0, valid.size, stride)
    indices = grid[valid.ravel()[grid]]
    g = structure.ravel()[indices]
    d = smoothed.ravel()[indices]
    order = np.argsort(g, kind="stable")
    g, d = g[order], d[order]
    bins = max(1, min(_BINS, indices.size // 200))
    centres, scales = [], []
    for part_g, part_d in zip(np.array_split(g, bins), np.array_split(d, bins), strict=True):
        centres.append(float(np.median(part_g)))
        scales.append(float(np.quantile(part_d, _NOISE_QUANTILE)) / _GAUSSIAN_QUANTILE)
    # Changed pixels can only inflate a level's estimate, and noise does not shrink as structure grows,
    # so each estimate bounds the noise from above at its own level and every level below. A level
    # whose estimate is far above that bound is made mostly of changed pixels (a region that went black
    # or flat in the test image has no shared structure, so it fills the lowest levels) and takes the
    # bound instead (the black half of a photo: thousands of times the bound; JPEG re-encoded photos up to
    # 1.6; noise on a photo with a black background up to 8, whose lowered low levels still gave no region;
    # docs/compare.md).
    raw = np.asarray(scales)
    bound = np.minimum.accumulate(raw[::-1])[::-1]
    cleaned = np.where(raw > _CONTAMINATION_FACTOR * bound, bound, raw)
    # Then the scales are made non-decreasing with structure, from the lowest level up.
    return NoiseModel(np.asarray(centres), np.maximum.accumulate(cleaned), sigma)


def _map_box(
    box: tuple[int, int, int, int], matrix: np.ndarray, test_shape: tuple[int, ...]
) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    corners = np.array([[x0, y0, 1], [x1, y0, 1], [x0, y1, 1], [x1, y1, 1]], dtype=np.float64).T
    mapped = np.linalg.inv(matrix) @ corners
    mapped = mapped[:2] / mapped[2:]
    height, width = test_shape[:2]
    return (
        int(np.clip(np.floor(mapped[0].min()), 0, width)),
        int(np.clip(np.floor(mapped[1].min()), 0, height)),
        int(np.clip(np.ceil(mapped[0].max()), 0, width)),
        int(np.clip(np.ceil(mapped[1].max()), 0, height)),
    )


def find_regions(
    residual: np.ndarray,
    reference: np.ndarray,
    test: np.ndarray,
    *,
    mask: np.ndarray | None = None,
    sensitivity: float = 1.0,
    test_matrix: np.ndarray | None = None,
    test_shape: tuple[int, ...] | None = None,
    difference: np.ndarray | None = None,
) -> RegionResult:
    """Find the regions where a pair differs beyond its own noise.

    Args:
        residual: HxWxC signed residual after global compensation (:func:`synthdiff.diff.local_difference`).
        reference: HxWx3 reference image, sRGB-encoded in [0, 1] (uint8 and uint16 arrays are scaled).
        test: HxWx3 test image aligned to the reference, same encoding.
        mask: optional HxW boolean array of pixels both images cover.
        sensitivity: divides the thresholds; 2.0 reports fainter differences, 0.5 only clearer ones.
        test_matrix: 3x3 transform from test to reference coordinates, to give boxes in the test
            image's own coordinates (identity when None).
        test_shape: (height, width) of the original test image.
        difference: HxW float32 RMS over channels of ``residual`` (``Comparison.difference``) when the
            caller has it already; computed here otherwise.

    Returns:
        The regions (strongest first), the excess map, the changed-pixel mask and the noise model.
    """
    if not sensitivity > 0:
        raise InvalidArgumentError(f"Expected a positive sensitivity, got {sensitivity}.")
    reference, test = unit_scaled(reference, "reference"), unit_scaled(test, "test")
    height, width = residual.shape[:2]
    valid = np.ones((height, width), dtype=bool) if mask is None else mask
    sigma = max(1.5, min(height, width) / 360.0)
    # Smoothing the signed residual before taking its size cancels zero-mean errors (JPEG ringing,
    # sampling noise, resampling) while changes of colour or content keep their mean difference.
    smoothed = difference_magnitude(
        cv2.GaussianBlur(residual.astype(np.float32, copy=False), (0, 0), sigma).reshape(residual.shape)
    )
    if difference is None:
        difference = difference_magnitude(residual)
    elif difference.shape != (height, width):
        raise InvalidArgumentError(
            f"Expected a difference map of {width}x{height} (the residual's size), got shape "
            f"{difference.shape}. Fix: pass the residual's RMS over channels, or nothing."
        )
    structure = _structure(reference, test, sigma)
    noise = _fit_noise(smoothed, structure, valid, sigma)
    scale = noise.scale_at(structure)
    weak = np.maximum(_WEAK_Z * scale, _ABSOLUTE_FLOOR) / sensitivity
    excess = np.where(valid, smoothed / weak, 0.0).astype(np.float32)
    strong_ratio = (np.maximum(_STRONG_Z * scale, _ABSOLUTE_FLOOR) / sensitivity) / weak

    candidate = (excess > 1.0).astype(np.uint8)
    seeds = excess > strong_ratio
    # Merge fragments of one change that lie close together before counting regions.
    radius = max(2, round(0.006 * float(np.hypot(height, width))))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    merged = cv2.dilate(candidate, kernel)
    count, labels = cv2.connectedComponents(merged, connectivity=8)
    min_area = max(12, round(2e-5 * height * width))
    matrix = np.eye(3) if test_matrix is None else test_matrix
    shape = (height, width) if test_shape is None else test_shape

    regions: list[Region] = []
    changed = np.zeros((height, width), dtype=bool)
    if count > 1:
        labels_flat = labels.ravel()
        member = candidate.ravel().astype(bool)
        label_of = labels_flat[member]
        area = np.bincount(label_of, minlength=count)
        seed_count = np.bincount(labels_flat[seeds.ravel() & member], minlength=count)
        excess_sum = np.bincount(label_of, weights=excess.ravel()[member], minlength=count)
        diff_sum = np.bincount(label_of, weights=difference.ravel()[member], minlength=count)
        ys, xs = np.divmod(np.flatnonzero(member), width)
        x0 = np.full(count, width)
        y0 = np.full(count, height)
        x1 = np.full(count, -1)
        y1 = np.full(count, -1)
        np.minimum.at(x0, label_of, xs)
        np.minimum.at(y0, label_of, ys)
        np.maximum.at(x1, label_of, xs)
        np.maximum.at(y1, label_of, ys)
        keep = [k for k in range(1, count) if area[k] >= min_area and seed_count[k] > 0]
        keep_set = np.zeros(count, dtype=bool)
        keep_set[keep] = True
        changed = (keep_set[labels] & candidate.astype(bool)).reshape(height, width)
        for k in keep:
            box = (int(x0[k]), int(y0[k]), int(x1[k]) + 1, int(y1[k]) + 1)
            regions.append(
                Region(
                    box=box,
                    box_test=_map_box(box, matrix, shape),
                    area=int(area[k]),
                    score=float(excess_sum[k] / area[k]),
                    mean_difference=float(diff_sum[k] / area[k]),
                )
            )
    regions.sort(key=lambda region: region.score * region.area, reverse=True)
    return RegionResult(regions, excess, changed, noise)
