"""Fitting ``realness-effnet``'s linear head on whole-image embeddings (``head: images``).

The crop recipe (``head: crops``) trains the head by SGD on single crops. This one fits it on the
mean embedding of the very crops the model scores at inference (the image's evenly spread grid), so
training sees what scoring sees: because the head is affine, the mean of the crop logits equals the
head applied to the mean embedding. Each image enters several times, as decoded, re-encoded as JPEG
(qualities 90, 75 and 60) and made grey, the same for both classes.

The head is an L2-regularised logistic regression, or (``hidden`` > 0) a network with one hidden
layer of ReLU units fitted full-batch by L-BFGS with an L2 penalty on both weight matrices; a
non-linear head is then applied to the mean embedding at inference too (``pooled_logits``). The
penalty and the calibration are chosen by leave-one-source-out *inside the training sources*: each
training source is scored by a head fitted on the others, the strength with the lowest out-of-source
log loss is kept, and Platt scaling is fitted on those out-of-source scores, so that the
probabilities are calibrated for sources the head has not seen rather than for more images of the
ones it has.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from scipy.optimize import minimize
from scipy.special import expit

from synthdiff.realness._calibration import Calibration, fit_calibration, weighted_log_loss
from synthdiff.realness._data import LabelledImage, _load_8bit, source_balanced_weights, to_grey
from synthdiff.realness._features import trace_statistics
from synthdiff.realness._model import RealnessEffNet
from synthdiff.realness._patches import extract_patches, patch_grid
from synthdiff.realness._score import _jpeg

__all__ = ["VARIANTS", "EmbeddingCache", "HeadFit", "fit_image_head", "image_embeddings"]

#: How each training image is presented (identically for both classes).
VARIANTS = ("decoded", "jpeg90", "jpeg75", "jpeg60", "grey")

#: Bumped whenever :func:`trace_statistics` changes, so cached statistics are recomputed.
TRACE_VERSION = 1
#: Strengths of the L2 penalty tried (on standardised features, per unit of total sample weight).
PENALTIES = tuple(float(v) for v in np.logspace(-4, 2, 13))
#: The same for a head with a hidden layer (fewer: each fit costs seconds, not milliseconds).
HIDDEN_PENALTIES = (0.001, 0.01, 0.1, 1.0, 10.0)


def _variant(pixels: np.ndarray, variant: str) -> np.ndarray:
    """An HxWx3 uint8 image presented as ``variant``, as float32 sRGB in [0, 1]."""
    image = pixels.astype(np.float32) / 255.0
    if variant.startswith("jpeg"):
        return _jpeg(image, int(variant[4:]))
    if variant == "grey":
        return to_grey(image)
    if variant != "decoded":
        raise ValueError(f"Expected a variant from {', '.join(VARIANTS)}, got {variant!r}.")
    return image


@torch.no_grad()
def image_embeddings(
    network: RealnessEffNet, pixels: np.ndarray, crop: int, max_patches: int, variants: Sequence[str]
) -> np.ndarray:
    """(len(variants), D) mean features (``network.features``) of an image's scoring grid, one row per
    variant; D is the network's :attr:`~RealnessEffNet.width`."""
    device = next(network.backbone.parameters()).device
    return _mean_rows(network.features, device, pixels, crop, max_patches, variants)


def _mean_rows(
    extract: Callable[[torch.Tensor], torch.Tensor],
    device: torch.device,
    pixels: np.ndarray,
    crop: int,
    max_patches: int,
    variants: Sequence[str],
) -> np.ndarray:
    rows = []
    for variant in variants:
        image = _variant(pixels, variant)
        crops = extract_patches(image, patch_grid(image.shape[0], image.shape[1], crop, max_patches))
        rows.append(extract(torch.from_numpy(crops).to(device)).float().mean(0).cpu().numpy())
    return np.stack(rows)


class EmbeddingCache:
    """Features on disk, one ``.npy`` per (file contents, crop, patches, variants, block): a run that
    stops resumes without recomputing them, and folds of an evaluation share them. The backbone's
    embedding and the trace statistics are stored apart, so models that share one reuse it."""

    def __init__(self, folder: str | os.PathLike[str], crop: int, max_patches: int) -> None:
        self.folder = Path(folder)
        self.crop, self.max_patches = crop, max_patches
        # Contents hashed once per file version: every fold of a cross-validation asks for each image.
        self._digests: dict[tuple[Path, int, int], str] = {}

    def _path(self, image: LabelledImage, block: str) -> Path:
        stat = image.path.stat()
        key = (image.path.resolve(), stat.st_size, stat.st_mtime_ns)
        if key not in self._digests:
            self._digests[key] = hashlib.sha256(image.path.read_bytes()).hexdigest()[:24]
        tag = f"{self._digests[key]}-c{self.crop}-p{self.max_patches}-{'.'.join(VARIANTS)}{block}"
        return self.folder / f"{tag}.npy"

    def _block(
        self,
        image: LabelledImage,
        block: str,
        extract: Callable[[torch.Tensor], torch.Tensor],
        device: torch.device,
    ) -> np.ndarray:
        return self._cached(
            image,
            block,
            lambda: _mean_rows(
                extract, device, _load_8bit(image.path), self.crop, self.max_patches, VARIANTS
            ),
        )

    def _cached(self, image: LabelledImage, block: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """The array stored for ``image`` and ``block``, or ``compute()`` written there atomically."""
        path = self._path(image, block)
        if path.is_file():
            try:
                return np.load(path)
            except (OSError, ValueError, EOFError):  # an empty file raises EOFError
                pass  # a damaged entry is recomputed
        rows = compute()
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        with open(partial, "wb") as handle:
            np.save(handle, rows)
        os.replace(partial, path)
        return rows

    def get(self, network: RealnessEffNet, image: LabelledImage) -> np.ndarray:
        """(len(VARIANTS), network.width) rows: what :func:`image_embeddings` gives, from disk if there."""
        device = next(network.backbone.parameters()).device
        # The width tells the head-only embeddings (1280) from the all-levels ones (1792); the tag, the
        # backbones (Lite0's entries keep the names they were first written under).
        width, variant = network.embedding_width, network.backbone_variant
        tag = ("" if width == 1280 else f"-d{width}") + ("" if variant == "lite0" else f"-{variant}")
        blocks = [self._block(image, tag, network.embed, device)]
        if network.traces:  # versioned: a change to trace_statistics must not reuse old entries
            blocks.append(self._block(image, f"-traces{TRACE_VERSION}", trace_statistics, device))
        return np.concatenate(blocks, axis=-1)


def _fit_logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray, penalty: float) -> np.ndarray:
    """Weights and bias (last entry) of a weighted L2 logistic regression (bias not penalised)."""
    w = w / w.sum()

    def loss_and_gradient(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ theta[:-1] + theta[-1]
        loss = weighted_log_loss(z, y, w)  # w sums to 1
        residual = w * (expit(z) - y)
        gradient = np.append(x.T @ residual + penalty * theta[:-1], residual.sum())
        return float(loss + 0.5 * penalty * theta[:-1] @ theta[:-1]), gradient

    result = minimize(loss_and_gradient, np.zeros(x.shape[1] + 1), jac=True, method="L-BFGS-B")
    return np.asarray(result.x)


def _fit_hidden(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, penalty: float, hidden: int, seed: int = 0
) -> dict[str, np.ndarray]:
    """State dict (``0.*``: hidden layer, ``2.*``: output) of a one-hidden-layer head fitted full-batch
    by L-BFGS to the weighted log loss plus ``penalty / 2`` times the squared weights (not biases)."""
    with torch.random.fork_rng():  # seeded initialisation without touching the caller's generator
        torch.manual_seed(seed)
        first, last = torch.nn.Linear(x.shape[1], hidden), torch.nn.Linear(hidden, 1)
        head = torch.nn.Sequential(first, torch.nn.ReLU(), last).double()
    inputs = torch.from_numpy(np.ascontiguousarray(x, np.float64))
    targets = torch.from_numpy(np.asarray(y, np.float64))
    weights = torch.from_numpy(np.asarray(w / w.sum(), np.float64))
    optimiser = torch.optim.LBFGS(
        head.parameters(), lr=1.0, max_iter=300, history_size=20, line_search_fn="strong_wolfe",
        tolerance_grad=1e-7, tolerance_change=1e-10,
    )  # fmt: skip

    def closure() -> torch.Tensor:
        optimiser.zero_grad()
        logits = head(inputs).squeeze(-1)
        loss = (
            weights * torch.nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction="none")
        ).sum()
        loss = loss + 0.5 * penalty * (first.weight.square().sum() + last.weight.square().sum())
        loss.backward()
        return loss

    optimiser.step(closure)
    return {name: value.detach().numpy() for name, value in head.state_dict().items()}


def _standardise(rows: np.ndarray, mean: np.ndarray, variance: np.ndarray, eps: float) -> np.ndarray:
    """Rows on the scale the head reads: what the network's BatchNorm1d does in eval mode."""
    return (rows - mean) / np.sqrt(variance + eps)


def _head_logits(state: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Logits (N,) of the head with ``state`` (linear, or one hidden layer) on standardised (N, D) rows."""
    if "weight" in state:
        return x @ state["weight"][0] + state["bias"][0]
    hidden = np.maximum(x @ state["0.weight"].T + state["0.bias"], 0.0)
    return hidden @ state["2.weight"][0] + state["2.bias"][0]


@dataclass
class HeadFit:
    """A fitted head: standardisation, the head's weights, calibration and how the penalty was chosen.

    Attributes:
        mean, variance: per-feature standardisation (as a BatchNorm1d's running statistics).
        state: the head's state dict as arrays (``weight``, ``bias`` for a linear head; ``0.*`` and
            ``2.*`` for one with a hidden layer), on standardised features.
        penalty: the chosen L2 strength.
        cv_loss: out-of-source log loss per penalty tried (inside the training sources).
        calibration: Platt scaling fitted on the out-of-source scores at the chosen penalty.
    """

    mean: np.ndarray
    variance: np.ndarray
    state: dict[str, np.ndarray]
    penalty: float
    cv_loss: dict[float, float]
    calibration: Calibration
    eps: float = 1e-5

    def logits(self, embeddings: np.ndarray) -> np.ndarray:
        """Uncalibrated logits (N,) of (N, D) embeddings, as the network computes them."""
        return _head_logits(self.state, _standardise(embeddings, self.mean, self.variance, self.eps))


def fit_image_head(
    embeddings: np.ndarray,
    images: Sequence[LabelledImage],
    *,
    hidden: int = 0,
    penalties: Sequence[float] | None = None,
    eps: float = 1e-5,
    on_fold: Callable[[str], None] | None = None,
) -> HeadFit:
    """Fit the head on (N, V, D) embeddings (V variants of each image) with inner leave-one-source-out.

    Args:
        hidden: ReLU units of a hidden layer; 0 for a linear head (logistic regression).
        penalties: L2 strengths to choose from (default :data:`PENALTIES`, or :data:`HIDDEN_PENALTIES`
            with a hidden layer).

    Raises:
        ValueError: fewer than two sources, or a class missing.
    """
    if penalties is None:
        penalties = HIDDEN_PENALTIES if hidden else PENALTIES
    labels = np.array([i.label for i in images], np.float64)
    sources = sorted({i.source for i in images})
    if len(sources) < 2 or set(labels.tolist()) != {0.0, 1.0}:
        raise ValueError(
            "Expected at least two sources and both classes to choose the penalty by leave-one-source-out."
        )
    count, variants, dim = embeddings.shape
    x_all = embeddings.reshape(count * variants, dim).astype(np.float64)
    y = np.repeat(labels, variants)
    w = np.repeat(source_balanced_weights(images) / variants, variants)
    group = np.repeat(np.array([i.source for i in images]), variants)

    def fit(x: np.ndarray, yy: np.ndarray, ww: np.ndarray, penalty: float) -> dict[str, np.ndarray]:
        if hidden:
            return _fit_hidden(x, yy, ww, penalty, hidden)
        theta = _fit_logistic(x, yy, ww, penalty)
        return {"weight": theta[None, :-1], "bias": theta[-1:]}

    out_of_source = np.zeros((len(penalties), len(y)))
    scored = np.zeros(len(y), bool)
    for source in sources:
        held = group == source
        train = ~held
        if len(set(y[train].tolist())) < 2:  # a class lives only in this source: nothing to learn from
            continue
        scored |= held
        mean, variance = x_all[train].mean(0), x_all[train].var(0)
        x_train = _standardise(x_all[train], mean, variance, eps)
        x_held = _standardise(x_all[held], mean, variance, eps)
        for k, penalty in enumerate(penalties):
            out_of_source[k, held] = _head_logits(fit(x_train, y[train], w[train], penalty), x_held)
        if on_fold is not None:
            on_fold(source)
    losses = [weighted_log_loss(scores[scored], y[scored], w[scored]) for scores in out_of_source]
    cv_loss = dict(zip(penalties, losses, strict=True))
    best = int(np.argmin([cv_loss[p] for p in penalties]))
    calibration = fit_calibration(out_of_source[best, scored], y[scored], weights=w[scored])
    mean, variance = x_all.mean(0), x_all.var(0)
    state = fit(_standardise(x_all, mean, variance, eps), y, w, penalties[best])
    return HeadFit(mean, variance, state, penalties[best], cv_loss, calibration, eps)
