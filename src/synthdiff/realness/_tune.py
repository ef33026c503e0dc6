"""Fine-tuning the last backbone blocks of ``realness-effnet-tuned`` on whole images (``head: images``).

The frozen models read the same ImageNet features whatever they are trained on; this one adapts the
backbone's last blocks (:attr:`RealnessEffNet.tail`) to the task first, then fits the linear head
on the tuned features exactly as ``head: images`` fits it on frozen ones (penalty and calibration by
leave-one-source-out inside the training sources, ``_image_head``).

Tuning trains what inference scores: each step takes a batch of images, runs the tail on all the
crops of each image's scoring grid, pools them per image and applies a temporary linear head
(source-balanced log loss). Every epoch shows each image once, in one of its five presentations
(decoded, JPEG 90/75/60, grey) drawn at random. The frozen blocks' output for every crop is computed
once and cached on disk (float16), so an epoch costs only the tail. Batch norm keeps its ImageNet
statistics (eval mode; its scale and shift are trained). The number of epochs is fixed beforehand:
nothing is chosen on held-out images.

``keep`` below 1 keeps only that fraction of the tuning step: the tail ends at
ImageNet + keep x (tuned - ImageNet), weight by weight. Interpolating between the pretrained and the
fine-tuned weights (WiSE-FT, Wortsman et al., CVPR 2022) keeps most of the gain on the training
distribution and loses less of the pretrained model's robustness to data it was never tuned on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from synthdiff.realness._data import LabelledImage, _load_8bit, source_balanced_weights
from synthdiff.realness._image_head import VARIANTS, EmbeddingCache, _variant
from synthdiff.realness._model import RealnessEffNet
from synthdiff.realness._patches import extract_patches, patch_grid

__all__ = ["TrunkCache", "tail_embeddings", "tune_tail"]


class TrunkCache(EmbeddingCache):
    """The frozen trunk's output for every crop of an image's scoring grid, per presentation: a
    (len(VARIANTS), crops, C, h, w) float16 array per image on disk, keyed like the embeddings."""

    def get(self, network: RealnessEffNet, image: LabelledImage) -> np.ndarray:
        return self._cached(image, f"-trunk{network.tune_from}", lambda: self._trunk_maps(network, image))

    @torch.no_grad()
    def _trunk_maps(self, network: RealnessEffNet, image: LabelledImage) -> np.ndarray:
        pixels = _load_8bit(image.path)
        device = next(network.backbone.parameters()).device
        rows = []
        for variant in VARIANTS:
            picture = _variant(pixels, variant)
            grid = patch_grid(picture.shape[0], picture.shape[1], self.crop, self.max_patches)
            crops = torch.from_numpy(extract_patches(picture, grid)).to(device)
            rows.append(network.trunk(crops).half().cpu().numpy())
        return np.stack(rows)


def _pooled(network: RealnessEffNet, bags: Sequence[np.ndarray], device: torch.device) -> torch.Tensor:
    """(len(bags), 1280): the tail on each bag of trunk maps (crops, C, h, w), mean over its crops."""
    sizes = [len(bag) for bag in bags]
    maps = torch.from_numpy(np.concatenate(bags)).to(device).float()
    embeddings = network.tail_embedding(maps)
    return torch.stack([part.mean(0) for part in embeddings.split(sizes)])


def tune_tail(
    network: RealnessEffNet,
    trunks: Sequence[np.ndarray],
    images: Sequence[LabelledImage],
    *,
    epochs: int,
    learning_rate: float,
    weight_decay: float,
    batch_images: int,
    seed: int,
    device: torch.device,
    bfloat16: bool = False,
    keep: float = 1.0,
    on_epoch: Callable[[dict[str, float]], None] | None = None,
) -> list[dict[str, float]]:
    """Train ``network.tail`` (and a temporary linear head, at ten times the learning rate) on the
    pooled embeddings of whole images; returns the per-epoch training loss.

    Args:
        trunks: per image, its :class:`TrunkCache` array (variants, crops, C, h, w).
        bfloat16: run the tail under bfloat16 autocast (faster on CPUs with AMX and on GPUs).
        keep: the fraction of the tuning step kept, in (0, 1]: 1 keeps the tuned weights, 0.5 ends
            half-way between them and the starting (ImageNet) weights.
    """
    if network.tail is None:
        raise ValueError("Expected a model made with tune_from (realness-effnet-tuned).")
    if not 0.0 < keep <= 1.0:
        raise ValueError(f"Expected keep in (0, 1], got {keep}.")
    initial = {name: value.detach().clone() for name, value in network.tail.named_parameters()}
    labels = torch.tensor([float(i.label) for i in images], device=device)
    weights = torch.from_numpy(source_balanced_weights(images)).float().to(device)
    with torch.no_grad():  # standardise the temporary head's input with the untuned features' scale
        network.eval()
        start = torch.cat(
            [_pooled(network, [t[0] for t in trunks[k : k + 64]], device) for k in range(0, len(trunks), 64)]
        )
        mean, scale = start.mean(0), start.std(0) + 1e-3
    head = torch.nn.Linear(start.shape[1], 1).to(device)
    torch.nn.init.zeros_(head.weight)
    torch.nn.init.zeros_(head.bias)
    assert network.tail is not None
    optimiser = torch.optim.AdamW(
        [
            {"params": network.tail.parameters(), "lr": learning_rate},
            {"params": head.parameters(), "lr": 10 * learning_rate},
        ],
        weight_decay=weight_decay,
    )
    generator = np.random.default_rng(seed)
    history = []
    for epoch in range(epochs):
        network.eval()  # batch norm keeps its statistics; gradients still flow
        order = generator.permutation(len(trunks))
        variants = generator.integers(len(VARIANTS), size=len(trunks))
        total, seen = 0.0, 0.0
        for first in range(0, len(order), batch_images):
            chosen = order[first : first + batch_images]
            with torch.autocast(device.type, torch.bfloat16, enabled=bfloat16):
                pooled = _pooled(network, [trunks[k][variants[k]] for k in chosen], device)
            logits = head((pooled.float() - mean) / scale).squeeze(-1)
            index = torch.from_numpy(chosen).to(device)
            losses = F.binary_cross_entropy_with_logits(logits, labels[index], reduction="none")
            loss = (weights[index] * losses).sum() / weights[index].sum()
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            total += float((weights[index] * losses).sum().detach())
            seen += float(weights[index].sum())
        history.append({"epoch": epoch, "train_loss": round(total / seen, 5)})
        if on_epoch is not None:
            on_epoch(history[-1])
    if keep < 1.0:
        with torch.no_grad():
            for name, value in network.tail.named_parameters():
                value.copy_(torch.lerp(initial[name], value, keep))
    network.eval()
    return history


@torch.no_grad()
def tail_embeddings(
    network: RealnessEffNet, trunks: Sequence[np.ndarray], device: torch.device
) -> np.ndarray:
    """(images, variants, 1280) pooled embeddings of the tuned tail, for fitting the head."""
    network.eval()
    return np.stack(
        [np.stack([_pooled(network, [bag], device)[0].cpu().numpy() for bag in trunk]) for trunk in trunks]
    )
