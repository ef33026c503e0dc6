"""Cutting an image of any size into square crops at native resolution (patch voting)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthdiff.io import float_pixels

__all__ = ["PatchGrid", "eight_bit", "extract_patches", "patch_grid"]


def eight_bit(pixels: np.ndarray) -> np.ndarray:
    """sRGB values in [0, 1] as the 8-bit values every realness model was trained, calibrated and
    benchmarked on (clipped, rounded half up), as uint8. One rounding for the loader, the JPEG copies
    and the crops scored, so that an image scores the same whichever way it came in."""
    return (np.clip(pixels, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


@dataclass(frozen=True)
class PatchGrid:
    """Where the crops of one image lie.

    Attributes:
        size: crop side in pixels.
        tops, lefts: the grid's row and column starts (all crops are ``tops x lefts``).
        chosen: indices (row-major into the full grid) of the crops that were scored.
        padded: the image was smaller than ``size`` and was reflect-padded up to it.
    """

    size: int
    tops: tuple[int, ...]
    lefts: tuple[int, ...]
    chosen: tuple[int, ...]
    padded: bool = False

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.tops), len(self.lefts)


def _starts(length: int, size: int, offset: int) -> tuple[int, ...]:
    """Non-overlapping starts covering ``length``; the last crop ends at the border (may overlap)."""
    if length <= size:
        return (0,)
    starts = list(range(min(offset, length - size), length - size + 1, size))
    if starts[-1] + size < length:
        starts.append(length - size)
    return tuple(starts)


def patch_grid(
    height: int, width: int, size: int = 64, max_patches: int | None = 96, offset: int = 0
) -> PatchGrid:
    """The crop grid of an image: non-overlapping ``size`` crops, the last row/column flush with the edge.

    When the grid has more than ``max_patches`` crops, an evenly spread subset is scored (the
    same subset every time), which bounds the cost of large images.

    Args:
        offset: shift of the grid in pixels (both axes), used to test stability under a shift.

    Raises:
        ValueError: size < 8, max_patches < 1 or a negative offset.
    """
    if size < 8 or (max_patches is not None and max_patches < 1) or offset < 0:
        raise ValueError(
            f"Expected size >= 8, max_patches >= 1 and offset >= 0, got {size}, {max_patches}, {offset}."
        )
    tops, lefts = _starts(height, size, offset), _starts(width, size, offset)
    total = len(tops) * len(lefts)
    if max_patches is None or total <= max_patches:
        chosen = tuple(range(total))
    else:
        chosen = tuple(int(i) for i in np.unique(np.linspace(0, total - 1, max_patches).round().astype(int)))
    return PatchGrid(size, tops, lefts, chosen, padded=height < size or width < size)


def extract_patches(image: np.ndarray, grid: PatchGrid) -> np.ndarray:
    """The grid's chosen crops of an HxWx3 image (sRGB in [0, 1]; uint8 and uint16 images are scaled)
    as an (N, 3, P, P) float32 array.

    An image smaller than the crop is reflect-padded (repeated reflection for very small ones).
    """
    image = float_pixels(image)
    size = grid.size
    height, width = image.shape[:2]
    if height < size or width < size:
        image = np.pad(
            image, ((0, max(0, size - height)), (0, max(0, size - width)), (0, 0)), mode="symmetric"
        )
    columns = len(grid.lefts)
    crops = np.empty((len(grid.chosen), 3, size, size), np.float32)
    for slot, index in enumerate(grid.chosen):
        top, left = grid.tops[index // columns], grid.lefts[index % columns]
        crops[slot] = image[top : top + size, left : left + size].transpose(2, 0, 1)
    return crops
