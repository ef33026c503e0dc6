"""FLIP (Andersson et al., 2020), NVIDIA's error map for rendered images, via ``flip-evaluator``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthdiff.errors import InvalidArgumentError
from synthdiff.metrics._checks import as_image_pair

__all__ = ["FlipResult", "flip"]

#: FLIP's default observer: 0.7 m from a 0.7 m wide 4K display, about 67 pixels per degree.
DEFAULT_PIXELS_PER_DEGREE = 67.02064514160156


@dataclass(frozen=True)
class FlipResult:
    """FLIP error map and its mean.

    Attributes:
        mean: mean FLIP error in [0, 1] (0 = indistinguishable when flipping between the images).
        map: HxW float32 error map in [0, 1].
        parameters: the settings flip-evaluator used (pixels per degree; exposures for HDR).
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
    integrates LDR-FLIP over the exposures flip-evaluator chooses from the reference.
    flip-evaluator ends the process on arguments it rejects, so everything is checked here first.

    Args:
        reference: HxWx3 image (sRGB-encoded in [0, 1] for LDR, linear for HDR).
        test: image of the same shape and encoding.
        hdr: evaluate HDR-FLIP on linear images.
        pixels_per_degree: observer's pixels per degree of visual angle.

    Returns:
        The mean error, the HxW error map and the parameters used.

    Raises:
        SizeMismatchError: the shapes differ.
        InvalidArgumentError: not RGB, values out of range, or a non-positive pixels per degree.
    """
    import flip_evaluator

    ref, tst = as_image_pair(reference, test)
    if ref.shape[2] != 3:
        raise InvalidArgumentError(f"Expected HxWx3 RGB images for FLIP, got {ref.shape[2]} channel(s).")
    if not pixels_per_degree > 0:
        raise InvalidArgumentError(f"Expected a positive pixels_per_degree, got {pixels_per_degree}.")
    if hdr:
        if min(float(ref.min()), float(tst.min())) < 0.0:
            raise InvalidArgumentError("HDR-FLIP expects non-negative linear values; found negatives.")
    elif min(float(ref.min()), float(tst.min())) < 0.0 or max(float(ref.max()), float(tst.max())) > 1.0:
        raise InvalidArgumentError(
            "LDR-FLIP expects sRGB-encoded values in [0, 1]. Fix: clip the images, or pass hdr=True "
            "for linear HDR images."
        )
    error_map, mean, parameters = flip_evaluator.evaluate(
        np.ascontiguousarray(ref),
        np.ascontiguousarray(tst),
        "HDR" if hdr else "LDR",
        applyMagma=False,
        parameters={"ppd": float(pixels_per_degree)},
    )
    return FlipResult(float(mean), np.asarray(error_map, dtype=np.float32)[..., 0], dict(parameters))
