"""Scoring one image: crop logits, patch voting, calibration, and the stability check."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import torch
from PIL import Image

from synthdiff.realness._model import RealnessEffNet, RealnessNet
from synthdiff.realness._patches import PatchGrid, eight_bit, extract_patches, patch_grid
from synthdiff.realness._registry import RealnessModel

__all__ = ["RealnessScore", "crop_logits", "score_image"]

#: Probabilities closer than this to 0.5 give the verdict "unsure".
UNSURE_MARGIN = 0.15
#: Images with a side under crop / SMALL_FRACTION give "unsure" (a fixed guard, not a measured limit:
#: the issue's smallest size, 64x64, is well above it for both shipped models).
SMALL_FRACTION = 4
#: Images whose pixels vary less than this (standard deviation, every channel) are one flat colour, a
#: black frame from a failed render, say: nothing in them tells a camera from a renderer, so "unsure"
#: (a fixed guard: half of one 8-bit step, under any camera's noise).
FLAT_STD = 0.5 / 255


@dataclass
class RealnessScore:
    """How likely one image is a render rather than a camera photo.

    Attributes:
        probability_synthetic: calibrated probability that the image is synthetic.
        verdict: ``synthetic``, ``real`` or ``unsure``.
        reasons: why the verdict is ``unsure`` (empty otherwise).
        logit: the image's logit (before calibration): the head on the mean of the crops' features.
        crops: number of crops scored.
        perturbed: the probability after each perturbation that was checked
            (``jpeg90``: re-encoded as JPEG quality 90; ``shift1``: crop grid moved by one pixel).
        grid: where the crops lie.
        crop_probabilities: per grid cell, the crop's probability on the image's calibrated scale
            (NaN for cells that were not scored); a coarse map of where the image gives itself away.
    """

    probability_synthetic: float
    verdict: str
    reasons: list[str]
    logit: float
    crops: int
    perturbed: dict[str, float] = field(default_factory=dict)
    grid: PatchGrid | None = None
    crop_probabilities: np.ndarray | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "probability_synthetic": round(self.probability_synthetic, 4),
            "verdict": self.verdict,
            "reasons": self.reasons,
            "logit": round(self.logit, 4),
            "crops": self.crops,
            "perturbed": {k: round(v, 4) for k, v in self.perturbed.items()},
        }


@torch.no_grad()
def pooled_logits(model: RealnessModel, crops: np.ndarray, batch_size: int = 128) -> tuple[np.ndarray, float]:
    """Each crop's logit and the image's, for an (N, 3, P, P) float32 array of crops (sRGB in [0, 1]).

    Patch voting: the head reads the mean of the crops' features. For a linear head that is the mean of
    the crop logits; a non-linear head needs the features pooled first.
    """
    net = cast("RealnessNet | RealnessEffNet", model.net)
    net.eval()
    device = next(net.parameters()).device
    features = [
        net.features(torch.from_numpy(crops[start : start + batch_size]).to(device))
        for start in range(0, len(crops), batch_size)
    ]
    if not features:
        return np.zeros(0, np.float32), float("nan")
    stacked = torch.cat(features)
    crop_scores = net.classify(stacked).float().cpu().numpy()
    image_score = float(net.classify(stacked.mean(0, keepdim=True)).float().cpu()[0])
    return crop_scores, image_score


def crop_logits(model: RealnessModel, crops: np.ndarray, batch_size: int = 128) -> np.ndarray:
    """The network's logit for each crop of an (N, 3, P, P) float32 array (sRGB in [0, 1])."""
    return pooled_logits(model, crops, batch_size)[0]


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(eight_bit(image)).save(buffer, "JPEG", quality=quality)
    with Image.open(buffer) as decoded:
        return np.asarray(decoded.convert("RGB"), np.float32) / 255.0


def _model_crops(image: np.ndarray, grid: PatchGrid) -> np.ndarray:
    """The grid's crops in 8-bit steps (:func:`eight_bit`, the loader's rounding), as the models were
    trained, calibrated and benchmarked on them (every training and ``realness-bench`` image is decoded
    to 8 bits): a 16-bit or HDR file then scores the same in ``realness``, ``compare`` and
    ``realness-bench``; an 8-bit image is unchanged."""
    return eight_bit(extract_patches(image, grid)).astype(np.float32) / 255.0


def _image_logit(model: RealnessModel, image: np.ndarray, offset: int = 0) -> float:
    settings = model.settings
    grid = patch_grid(image.shape[0], image.shape[1], settings.crop, settings.max_patches, offset)
    return pooled_logits(model, _model_crops(image, grid))[1]


def score_image(
    model: RealnessModel, image: np.ndarray, *, check_stability: bool = True, all_crops: bool = False
) -> RealnessScore:
    """Score an HxWx3 image (sRGB in [0, 1], any size; smaller than a crop is reflect-padded).

    The crops' features are averaged and classified (patch voting; for a linear head, the mean of the
    crop logits) and the image's logit is calibrated into a probability. The crops are read in 8-bit
    steps, as every model was trained and calibrated (finer steps, of a 16-bit or HDR image, are
    rounded). With ``check_stability`` the image is also scored re-encoded as JPEG quality 90 and with
    the crop grid shifted by one pixel; if either flips the verdict, the verdict is ``unsure``. So it
    is for an image with a side under a quarter of the model's crop (32 pixels for
    ``realness-effnet``), whose padded crop is mostly mirrored copies of it, and for an image of one
    flat colour (``FLAT_STD``).

    Args:
        image: HxWx3 (or HxW grey) float array in [0, 1], or a uint8 or uint16 one (scaled to [0, 1]).
        all_crops: score every crop of the grid (for a complete heatmap) instead of at most the
            model's ``max_patches``.

    Raises:
        InvalidArgumentError: not an image array (see :func:`synthdiff.io.image_array`).
    """
    from synthdiff.io import image_array

    image = image_array(image)
    settings = model.settings
    height, width = image.shape[:2]
    grid = patch_grid(height, width, settings.crop, None if all_crops else settings.max_patches)
    logits, logit = pooled_logits(model, _model_crops(image, grid))
    probability = float(model.calibration.probability(logit))
    cells = np.full(len(grid.tops) * len(grid.lefts), np.nan, np.float32)
    cells[list(grid.chosen)] = model.calibration.probability(logits)
    reasons = []
    if abs(probability - 0.5) < UNSURE_MARGIN:
        reasons.append(f"probability within {UNSURE_MARGIN} of 0.5")
    smallest = settings.crop // SMALL_FRACTION
    if min(height, width) < smallest:
        reasons.append(
            f"image of {width}x{height} pixels, under {smallest} on a side: its reflect-padded "
            f"{settings.crop}-pixel crop is mostly mirrored copies, too little to judge"
        )
    if float(image.reshape(-1, image.shape[2]).std(axis=0).max()) < FLAT_STD:
        reasons.append("the image is one flat colour: no texture or noise to judge")
    brightest = float(image.max())
    if brightest > 1.0:
        # The model reads sRGB in [0, 1]: above it, the crops were clipped to white.
        reasons.append(
            f"values above 1 (up to {brightest:.4g}) were clipped: pass sRGB in [0, 1] (8-bit values "
            "divided by 255; HDR tone-mapped first, synthdiff.io.hdr_to_display)"
        )
    perturbed: dict[str, float] = {}
    if check_stability:
        perturbed["jpeg90"] = float(model.calibration.probability(_image_logit(model, _jpeg(image, 90))))
        if height > settings.crop or width > settings.crop:
            perturbed["shift1"] = float(model.calibration.probability(_image_logit(model, image, offset=1)))
        flipped = [name for name, p in perturbed.items() if (p >= 0.5) != (probability >= 0.5)]
        if flipped:
            reasons.append("verdict flips under " + ", ".join(flipped))
    verdict = "unsure" if reasons else ("synthetic" if probability >= 0.5 else "real")
    return RealnessScore(
        probability, verdict, reasons, logit, len(logits), perturbed, grid, cells.reshape(grid.shape)
    )
