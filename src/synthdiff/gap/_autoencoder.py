"""A small convolutional autoencoder trained on the union of both sets' thumbnails; its bottleneck
codes give a second, learned embedding in which both sets share one space."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ThumbnailAutoencoder", "autoencoder_codes"]


class ThumbnailAutoencoder(nn.Module):
    """32x32 RGB -> ``code`` numbers -> 32x32 RGB.

    Shape:
        images (B, 3, 32, 32) in [0, 1] -> reconstruction (B, 3, 32, 32), codes (B, code).
    """

    def __init__(self, code: int = 16) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(3, 16, 3, 2, 1), nn.ReLU(), nn.Conv2d(16, 32, 3, 2, 1), nn.ReLU(),
            nn.Conv2d(32, 64, 3, 2, 1), nn.ReLU(), nn.Flatten(), nn.Linear(64 * 4 * 4, code),
        )  # fmt: skip
        self.decoder = nn.Sequential(
            nn.Linear(code, 64 * 4 * 4), nn.ReLU(), nn.Unflatten(1, (64, 4, 4)),
            nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(32, 16, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(16, 3, 4, 2, 1), nn.Sigmoid(),
        )  # fmt: skip

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        codes = self.encoder(images)
        return self.decoder(codes), codes


def autoencoder_codes(
    thumbnails: np.ndarray,
    *,
    code: int = 16,
    epochs: int = 20,
    batch_size: int = 64,
    max_train: int = 1000,
    seed: int = 0,
) -> tuple[np.ndarray, float]:
    """Train the autoencoder on the thumbnails (both sets together) and return every one's code.

    Args:
        thumbnails: (N, 32, 32, 3) uint8.
        max_train: train on a seeded random subset of at most this many (all are encoded), which
            bounds the time for large sets.

    Returns:
        The (N, code) bottleneck codes and the final mean squared reconstruction error.
    """
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    images = torch.from_numpy(thumbnails.astype(np.float32) / 255.0).permute(0, 3, 1, 2).contiguous()
    subset = torch.randperm(len(images), generator=generator)[:max_train]
    training = images[subset]
    model = ThumbnailAutoencoder(code)
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3)
    loss = torch.tensor(0.0)
    for _ in range(epochs):
        order = torch.randperm(len(training), generator=generator)
        for start in range(0, len(training), batch_size):
            batch = training[order[start : start + batch_size]]
            reconstruction, _ = model(batch)
            loss = F.mse_loss(reconstruction, batch)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    model.eval()
    with torch.inference_mode():
        reconstruction, codes = model(images)
        error = float(F.mse_loss(reconstruction, images))
    return codes.numpy().astype(np.float64), error
