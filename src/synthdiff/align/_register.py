"""Registration of a test image onto its reference: phase correlation and feature homography."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np

from synthdiff.errors import AlignmentError, InvalidArgumentError
from synthdiff.io import float_pixels

__all__ = ["ALIGN_METHODS", "AlignMethod", "Registration", "register", "warp_to_reference"]

AlignMethod = Literal["auto", "none", "translation", "homography"]
ALIGN_METHODS: tuple[str, ...] = ("auto", "none", "translation", "homography")

# A transform must lower the mean absolute difference by this fraction to be applied in auto mode:
# spurious sub-pixel shifts found on pairs that differ in lighting only blur the test image.
_MIN_IMPROVEMENT = 0.10
# Below this phase-correlation peak, a pure shift may not explain the pair and auto mode also tries features.
_WEAK_PEAK = 0.5
# Below this peak auto mode does not take the shift at all: the peak is then noise, not a match. A flat
# reference against a test with one added square peaked at 0.07 (a 55-px "shift" that pushed the square
# out of the compared area), a removed object at -0.05; real shifts of photos, noisy or JPEG-compressed,
# peak at 0.86-1.0 (measured 2026-12-06).
_MIN_PEAK = 0.2
# A shift may remove at most this many times the difference it makes to the reference itself (a real move
# removes about 1 times it; _shift_explains). A 30x20 flat crop with a pasted square "shifted" by (7, 9)
# px at peak 0.40 removed 0.06 while moving the reference changed 0.001 (found 2026-12-07).
_SELF_EXPLAINED = 2.0
# Transforms that move no image corner by more than this many pixels count as identity.
_IDENTITY_TOLERANCE_PX = 0.1
_MIN_INLIERS = 12
# Enough for a homography that SIFT has put within a few pixels (the screenshot case took under 0.05 s).
_ECC_ITERATIONS = 100
_ECC_SIDE = 640
# The most ECC may move a corner of the reference from where SIFT put it: 4 pixels, or 2 % of the
# diagonal on larger images.
_ECC_MIN_MOVE_PX, _ECC_MAX_MOVE = 4.0, 0.02
# Phase correlation needs a window of several pixels each way (OpenCV refuses a 1-pixel side); on
# smaller images a shift cannot be told from content anyway, so they are compared as they are.
_MIN_PHASE_SIDE = 8
_BLACK = (0.0, 0.0, 0.0, 0.0)
# --resize between aspect ratios further apart than this (1 %: a pixel of rounding at 100 pixels) says that
# it stretched the test image.
ASPECT_TOLERANCE = 0.01


@dataclass(frozen=True)
class Registration:
    """How the test image was mapped onto the reference.

    Attributes:
        requested: the method asked for (``auto``, ``none``, ``translation`` or ``homography``).
        applied: the transform applied: ``none``, ``translation`` or ``homography``.
        status: ``not_needed`` (already aligned), ``aligned``, ``skipped`` (method ``none``) or
            ``failed`` (no reliable transform; the images were compared as they are).
        matrix: 3x3 homography taking test pixel coordinates to reference pixel coordinates.
        shift: (dx, dy) of the test content relative to the reference; for a homography, at the
            reference's centre.
        confidence: phase-correlation peak (0-1) or RANSAC inlier ratio of the chosen estimate.
        inliers: RANSAC inliers (homography only).
        error_before: mean absolute grey difference before alignment (infinite when the sizes differ;
            null in JSON).
        error_after: the same after alignment, over the overlapping area.
        message: a sentence for people.
    """

    requested: str
    applied: str
    status: str
    matrix: np.ndarray = field(default_factory=lambda: np.eye(3))
    shift: tuple[float, float] = (0.0, 0.0)
    confidence: float = 0.0
    inliers: int = 0
    error_before: float = 0.0
    error_after: float = 0.0
    message: str = ""

    @property
    def is_identity(self) -> bool:
        """True when the test image is used as it is."""
        return self.applied == "none"

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict."""
        return {
            "requested": self.requested,
            "applied": self.applied,
            "status": self.status,
            "matrix": np.round(self.matrix, 8).tolist(),
            "shift": [round(self.shift[0], 4), round(self.shift[1], 4)],
            "confidence": round(self.confidence, 4),
            "inliers": self.inliers,
            # No error before alignment when the sizes differ (infinite here): JSON null.
            "error_before": round(self.error_before, 6) if math.isfinite(self.error_before) else None,
            "error_after": round(self.error_after, 6) if math.isfinite(self.error_after) else None,
            "message": self.message,
        }


def _grey(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 2:
        return image
    return np.ascontiguousarray(image @ np.array([0.299, 0.587, 0.114], dtype=np.float32))


def warp_to_reference(
    test: np.ndarray, matrix: np.ndarray, reference_shape: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Resample the test image into the reference's pixel grid.

    Args:
        test: HxW or HxWxC float32 image (uint8 and uint16 arrays are scaled to [0, 1]).
        matrix: 3x3 transform from test to reference pixel coordinates.
        reference_shape: (height, width) of the reference.

    Returns:
        The warped image (float32; zeros outside the test image) and an HxW boolean mask of the
        reference pixels the test image fully covers.
    """
    height, width = reference_shape[:2]
    test = float_pixels(test, "test")
    if np.allclose(matrix, np.eye(3)) and test.shape[:2] == (height, width):
        return test, np.ones((height, width), dtype=bool)
    flags = cv2.INTER_LINEAR
    affine = np.allclose(matrix[2], [0.0, 0.0, 1.0])
    if affine:
        warped = cv2.warpAffine(test, matrix[:2], (width, height), flags=flags, borderValue=_BLACK)
        coverage = cv2.warpAffine(
            np.ones(test.shape[:2], np.float32), matrix[:2], (width, height), flags=flags, borderValue=_BLACK
        )
    else:
        warped = cv2.warpPerspective(test, matrix, (width, height), flags=flags, borderValue=_BLACK)
        coverage = cv2.warpPerspective(
            np.ones(test.shape[:2], np.float32), matrix, (width, height), flags=flags, borderValue=_BLACK
        )
    warped = warped.reshape((height, width, *test.shape[2:]))
    return warped, coverage >= 0.999


def resize_to_reference(reference: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, str | None]:
    """Scale the test image to the reference's size (``--resize``), for pairs that are not to be registered.

    Shrinking uses area averaging (no aliasing), enlarging bilinear interpolation.

    Args:
        reference: HxW or HxWxC float32 image (only its size is used).
        test: float32 image in any encoding, of any size (uint8 and uint16 arrays are scaled to [0, 1]).

    Returns:
        The test image (float32) at the reference's height and width, and a note for people saying so
        (with a warning where the aspect ratio changed, since stretching alone makes differences), or
        ``None`` when the sizes already matched.
    """
    test = float_pixels(test, "test")
    height, width = reference.shape[:2]
    test_h, test_w = test.shape[:2]
    if (test_h, test_w) == (height, width):
        return test, None
    shrinking = width < test_w and height < test_h
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    resized = cv2.resize(test, (width, height), interpolation=interpolation)
    resized = resized.reshape((height, width, *test.shape[2:]))
    note = f"test resized from {test_w}x{test_h} to {width}x{height}"
    if abs((width / height) / (test_w / test_h) - 1) > ASPECT_TOLERANCE:
        note += (
            f"; its aspect ratio changed ({test_w / test_h:.3g} -> {width / height:.3g}), so it is stretched "
            "and differences may come from that alone"
        )
    return resized, note


def _blurred(image: np.ndarray) -> np.ndarray:
    """The grey image the alignment errors are measured on: blurring first keeps interpolation from
    "winning" by smoothing away render or sensor noise."""
    return cv2.GaussianBlur(image, (0, 0), 1.5)


def _alignment_errors(
    blurred_ref: np.ndarray, blurred_test: np.ndarray, matrices: list[np.ndarray]
) -> list[float]:
    """Mean absolute difference of the blurred images (:func:`_blurred`) under each transform, over
    their common area."""
    warped, masks = [], []
    for matrix in matrices:
        image, valid = warp_to_reference(blurred_test, matrix, blurred_ref.shape[:2])
        warped.append(image)
        masks.append(valid)
    common = np.logical_and.reduce(masks)
    if common.mean() < 0.25:
        return [float("inf")] * len(matrices)
    return [float(np.abs(blurred_ref - image)[common].mean()) for image in warped]


def _shift_explains(blurred_ref: np.ndarray, blurred_test: np.ndarray, matrix: np.ndarray) -> bool:
    """Whether a shift's gain is one a real shift could give: no more than what the shift changes in the
    reference itself.

    If the test image is the reference moved by ``s``, the difference at identity is the reference
    against itself moved by ``s``, and the shift removes about that much. A shift that removes far more
    than it changes in the reference has not undone a move: it pushed a local change (a square pasted on
    a flat background) out of the compared area. Errors are those of :func:`_alignment_errors`, over
    the area all three images cover.
    """
    moved_test, valid_test = warp_to_reference(blurred_test, matrix, blurred_ref.shape[:2])
    moved_ref, valid_ref = warp_to_reference(blurred_ref, matrix, blurred_ref.shape[:2])
    common = valid_test & valid_ref
    if common.mean() < 0.25:
        return False
    before = float(np.abs(blurred_ref - blurred_test)[common].mean())
    after = float(np.abs(blurred_ref - moved_test)[common].mean())
    itself = float(np.abs(blurred_ref - moved_ref)[common].mean())
    return before - after <= _SELF_EXPLAINED * itself


def _identity_like(matrix: np.ndarray, shape: tuple[int, ...]) -> bool:
    height, width = shape[:2]
    corners = np.array([[0, 0, 1], [width, 0, 1], [0, height, 1], [width, height, 1]], dtype=np.float64).T
    moved = matrix @ corners
    moved = moved[:2] / moved[2:]
    return bool(np.abs(moved - corners[:2]).max() <= _IDENTITY_TOLERANCE_PX)


def _phase_correlation(
    reference: np.ndarray, test: np.ndarray
) -> tuple[np.ndarray, tuple[float, float], float]:
    window = cv2.createHanningWindow((reference.shape[1], reference.shape[0]), cv2.CV_32F)
    # cv2.phaseCorrelate windows its inputs in place (OpenCV 4.11), so it gets copies.
    (dx, dy), peak = cv2.phaseCorrelate(reference.copy(), test.copy(), window)
    matrix = np.array([[1.0, 0.0, -dx], [0.0, 1.0, -dy], [0.0, 0.0, 1.0]])
    return matrix, (float(dx), float(dy)), float(peak)


def _to_uint8(grey: np.ndarray) -> np.ndarray:
    return np.round(np.clip(grey, 0.0, 1.0) * 255).astype(np.uint8)


def _feature_homography(reference: np.ndarray, test: np.ndarray) -> tuple[np.ndarray | None, int, float, str]:
    sift = cv2.SIFT_create(nfeatures=4000)  # type: ignore[attr-defined]
    kp_ref, desc_ref = sift.detectAndCompute(_to_uint8(reference), None)
    kp_test, desc_test = sift.detectAndCompute(_to_uint8(test), None)
    if desc_ref is None or desc_test is None or len(kp_ref) < _MIN_INLIERS or len(kp_test) < _MIN_INLIERS:
        return None, 0, 0.0, "too few distinctive features to match (flat or very small images)"
    matcher = cv2.BFMatcher(cv2.NORM_L2)
    pairs = matcher.knnMatch(desc_test, desc_ref, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.75 * p[1].distance]
    if len(good) < _MIN_INLIERS:
        return None, 0, 0.0, f"only {len(good)} unambiguous feature matches (need {_MIN_INLIERS})"
    source = np.array([kp_test[m.queryIdx].pt for m in good], dtype=np.float32).reshape(-1, 1, 2)
    target = np.array([kp_ref[m.trainIdx].pt for m in good], dtype=np.float32).reshape(-1, 1, 2)
    matrix, inlier_mask = cv2.findHomography(source, target, cv2.RANSAC, 3.0, maxIters=5000, confidence=0.999)
    if matrix is None:
        return None, 0, 0.0, "RANSAC found no consistent homography"
    inliers = int(inlier_mask.sum())
    ratio = inliers / len(good)
    if inliers < _MIN_INLIERS or ratio < 0.25:
        return None, inliers, ratio, f"homography supported by only {inliers} of {len(good)} matches"
    return matrix.astype(np.float64), inliers, ratio, ""


def _refined_homography(blurred_ref: np.ndarray, blurred_test: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``matrix`` refined by ECC on the blurred grey images (all their pixels, not only the matched
    features), when that lowers their alignment error; else ``matrix`` unchanged.

    SIFT's RANSAC fit rests on a few dozen points: a screenshot of a bundled example render, scaled
    1.5 times and framed in grey, was off by a pixel or two near the edges, which read as three strips
    of difference there besides the real change (the blurred images' mean difference 0.0130 under
    SIFT's fit, 0.0107 refined, and the one real region left)."""
    # On images of at most _ECC_SIDE pixels a side (a large pair's time would go into ECC for little:
    # SIFT finds many points on it), each image scaled by its own factor.
    scales = [min(1.0, _ECC_SIDE / max(image.shape[:2])) for image in (blurred_ref, blurred_test)]
    small = [
        image if scale == 1.0 else cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        for image, scale in zip((blurred_ref, blurred_test), scales, strict=True)
    ]
    to_ref, to_test = (np.diag([scale, scale, 1.0]) for scale in scales)
    # ECC finds the warp from the reference's pixels to the test's: the inverse of ``matrix``.
    start = (to_test @ np.linalg.inv(matrix) @ np.linalg.inv(to_ref)).astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, _ECC_ITERATIONS, 1e-6)
    try:
        everywhere = np.full(small[1].shape[:2], 255, np.uint8)  # the test pixels ECC may use
        # No further blur (the last argument): the images are blurred already, and ECC's default 5-px
        # blur left a speck of misfit at the screenshot's edge.
        _, warp = cv2.findTransformECC(
            small[0], small[1], start, cv2.MOTION_HOMOGRAPHY, criteria, everywhere, 1
        )
        refined = np.linalg.inv(np.linalg.inv(to_test) @ warp.astype(np.float64) @ to_ref)
    except (cv2.error, np.linalg.LinAlgError):  # ECC did not converge, or a singular warp
        return matrix
    refined /= refined[2, 2]
    # A correction, not another transform: ECC also lowers the error by warping content that changed (a
    # part gone black, pushed out of the frame), which moved a corner by 576 pixels.
    height, width = blurred_ref.shape[:2]
    corners = np.array([[0, 0, 1], [width, 0, 1], [0, height, 1], [width, height, 1]], np.float64).T
    moved = [m @ corners for m in (matrix, refined)]
    shift = np.abs(moved[1][:2] / moved[1][2:] - moved[0][:2] / moved[0][2:]).max()
    if not shift <= max(_ECC_MIN_MOVE_PX, _ECC_MAX_MOVE * np.hypot(height, width)):
        return matrix
    before, after = _alignment_errors(blurred_ref, blurred_test, [matrix, refined])
    return refined if after < before else matrix


def _content_shift(matrix: np.ndarray, shape: tuple[int, ...]) -> tuple[float, float]:
    """(dx, dy) of the test content at the reference's centre: where the content at the centre of the
    reference lies in the test image, minus the centre (for a pure translation, the translation itself;
    ``matrix`` maps test to reference pixels, so it holds the opposite shift)."""
    centre = np.array([(shape[1] - 1) / 2.0, (shape[0] - 1) / 2.0, 1.0])
    seen = np.linalg.inv(matrix) @ centre
    return float(seen[0] / seen[2] - centre[0]), float(seen[1] / seen[2] - centre[1])


def _snap(shift: float) -> float:
    # Phase correlation is biased by a few hundredths of a pixel; whole-pixel shifts are the common case
    # and resampling at an exact integer offset is lossless.
    nearest = round(shift)
    return float(nearest) if abs(shift - nearest) < 0.05 else shift


def align_to_reference(
    reference: np.ndarray, test: np.ndarray, method: AlignMethod | str = "auto"
) -> tuple[np.ndarray, np.ndarray, Registration]:
    """Register the test image onto the reference and resample it into the reference's grid.

    Pixels the test image does not cover take the reference's value, so they add no difference.

    Args:
        reference: HxWx3 float32 image, sRGB-encoded in [0, 1] (uint8 and uint16 arrays are scaled to
            [0, 1]).
        test: float32 image in the same encoding, possibly of another size.
        method: ``auto``, ``none``, ``translation`` or ``homography`` (see :func:`register`).

    Returns:
        The aligned test image (float32, the reference's size), the HxW mask of the pixels it covers,
        and the registration.

    Raises:
        InvalidArgumentError: unknown method.
        AlignmentError: the images differ in size and no homography could be found.

    Example:
        >>> aligned, covered, registration = align_to_reference(reference, shifted)  # doctest: +SKIP
        >>> registration.applied, registration.shift  # doctest: +SKIP
        ('translation', (2.0, 0.0))
    """
    reference, test = float_pixels(reference, "reference"), float_pixels(test, "test")
    registration = register(reference, test, method)
    aligned, covered = warp_to_reference(test, registration.matrix, reference.shape[:2])
    if not registration.is_identity:
        aligned = np.where(covered[..., None], aligned, reference)
    return aligned, covered, registration


def register(reference: np.ndarray, test: np.ndarray, method: AlignMethod | str = "auto") -> Registration:
    """Find the transform that maps the test image onto the reference.

    ``translation`` uses phase correlation (sub-pixel). ``homography`` matches SIFT features and fits
    a homography with RANSAC. ``auto`` estimates a translation; when the phase-correlation peak is
    below 0.5 (rotation, scale or perspective, or content changes), when the shift found does not
    improve the match, or when the sizes differ, it also fits a homography. A transform is kept only
    if it lowers the mean difference of the blurred images by at least 10 %, so pairs that differ in
    content or lighting are not warped by a spurious estimate. Same-size images under 8 pixels a side
    are not registered (status ``skipped``): a shift cannot be told from content there.

    Args:
        reference: HxW or HxWx3 float32 image, sRGB-encoded in [0, 1] (uint8 and uint16 arrays are
            scaled to [0, 1]).
        test: float32 image in the same encoding, possibly of another size.
        method: ``auto``, ``none``, ``translation`` or ``homography``.

    Returns:
        The registration, whose status says whether alignment was needed, applied or failed.

    Raises:
        InvalidArgumentError: unknown method.
        AlignmentError: the images differ in size and no homography could be found.
    """
    if method not in ALIGN_METHODS:
        raise InvalidArgumentError(
            f"Unknown alignment method {method!r}. Expected one of: {', '.join(ALIGN_METHODS)}."
        )
    if method == "none":
        return Registration(method, "none", "skipped", message="alignment skipped (--align none)")
    # 8- and 16-bit arrays scaled: the feature matcher and the error thresholds work on [0, 1] values.
    ref, tst = _grey(float_pixels(reference, "reference")), _grey(float_pixels(test, "test"))
    same_size = ref.shape == tst.shape
    if same_size and min(ref.shape[:2]) < _MIN_PHASE_SIDE:
        height, width = ref.shape[:2]
        return Registration(
            method,
            "none",
            "skipped",
            message=f"images of {width}x{height} pixels are too small to register (at least "
            f"{_MIN_PHASE_SIDE} pixels each way); compared as they are",
        )
    identity = np.eye(3)
    # Blurred once for every error measured below.
    blurred_ref, blurred_test = _blurred(ref), _blurred(tst)
    base_error = _alignment_errors(blurred_ref, blurred_test, [identity])[0] if same_size else float("inf")
    unchanged = Registration(
        method,
        "none",
        "not_needed",
        error_before=base_error,
        error_after=base_error,
        message="images already aligned; compared as they are",
    )
    candidates: list[Registration] = []
    peak = 0.0
    unexplained = False
    if same_size and method in ("auto", "translation"):
        matrix, (dx, dy), peak = _phase_correlation(ref, tst)
        dx, dy = _snap(dx), _snap(dy)
        matrix[0, 2], matrix[1, 2] = -dx, -dy
        moved = not _identity_like(matrix, ref.shape)
        unexplained = (
            moved
            and method == "auto"
            and peak >= _MIN_PEAK
            and not _shift_explains(blurred_ref, blurred_test, matrix)
        )
        if moved and (method == "translation" or peak >= _MIN_PEAK) and not unexplained:
            candidates.append(
                Registration(
                    method,
                    "translation",
                    "aligned",
                    matrix,
                    (dx, dy),
                    peak,
                    0,
                    base_error,
                    base_error,
                    f"test content shifted by ({dx:+.2f}, {dy:+.2f}) px relative to the reference; corrected",
                )
            )
    translation_rejected = (
        bool(candidates)
        and method == "auto"
        and (
            _alignment_errors(blurred_ref, blurred_test, [identity, candidates[0].matrix])[1]
            > (1.0 - _MIN_IMPROVEMENT) * base_error
        )
    )
    failure = ""
    if method == "homography" or (
        method == "auto" and (peak < _WEAK_PEAK or not same_size or translation_rejected or unexplained)
    ):
        matrix_h, inliers, ratio, failure = _feature_homography(ref, tst)
        if matrix_h is not None:
            matrix_h = _refined_homography(blurred_ref, blurred_test, matrix_h)
        if matrix_h is not None and not (same_size and _identity_like(matrix_h, ref.shape)):
            candidates.append(
                Registration(
                    method,
                    "homography",
                    "aligned",
                    matrix_h,
                    _content_shift(matrix_h, ref.shape),
                    ratio,
                    inliers,
                    base_error,
                    base_error,
                    f"test registered with a homography ({inliers} feature inliers, "
                    f"{100 * ratio:.0f} % of matches)",
                )
            )
        elif matrix_h is not None:
            failure = ""
    if not same_size and not any(c.applied == "homography" for c in candidates):
        (height, width), (test_h, test_w) = ref.shape[:2], tst.shape[:2]
        fix = "Fix: pass --resize to scale the test image to the reference size."
        if abs((width / height) / (test_w / test_h) - 1) > ASPECT_TOLERANCE:
            # A crop or another framing: scaling would stretch it, and the stretch would read as changes.
            fix = (
                f"Their aspect ratios differ ({width / height:.3g} and {test_w / test_h:.3g}), so --resize "
                f"would stretch the test image. Fix: render or crop it to {width}x{height} (--resize "
                "compares it stretched, with a note)."
            )
        raise AlignmentError(
            f"The images differ in size (reference {width}x{height}, test {test_w}x{test_h}) and alignment "
            f"failed: {failure or 'no transform found'}. {fix}"
        )
    if not candidates:
        if failure and method == "homography":
            return Registration(
                method,
                "none",
                "failed",
                error_before=base_error,
                error_after=base_error,
                message=f"alignment failed: {failure}; images compared as they are",
            )
        return unchanged
    matrices = [identity] if same_size else []
    errors = _alignment_errors(blurred_ref, blurred_test, [*matrices, *(c.matrix for c in candidates)])
    reference_error = errors[0] if same_size else float("inf")
    scored = sorted(zip(errors[len(matrices) :], range(len(candidates)), strict=True))
    best_error, best_index = scored[0]
    chosen = candidates[best_index]
    forced = method != "auto"
    if not forced and best_error > (1.0 - _MIN_IMPROVEMENT) * reference_error:
        return unchanged
    return Registration(
        chosen.requested,
        chosen.applied,
        chosen.status,
        chosen.matrix,
        chosen.shift,
        chosen.confidence,
        chosen.inliers,
        base_error,
        best_error,
        chosen.message,
    )
