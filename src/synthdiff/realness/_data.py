"""Image sources for training and evaluating the realness classifier, and the training crops.

A *source* is one folder of images with one label (real or synthetic), e.g. scikit-image's photos or
one generated dataset. Whole sources are held out for testing; within the training sources, images are
split into train and val by a hash of their path (so the split does not depend on the order or number
of files).
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from synthdiff.errors import InvalidArgumentError, SynthdiffError
from synthdiff.io import images_in_folder
from synthdiff.realness._patches import eight_bit

__all__ = [
    "LabelledImage",
    "RealnessCrops",
    "list_source",
    "source_balanced_weights",
    "split_images",
    "to_grey",
]

LABELS = {"real": 0, "synthetic": 1}
_READABLE = "Expected a readable training image: "
T = TypeVar("T")


@dataclass(frozen=True)
class LabelledImage:
    """One image file with its class (1: synthetic, 0: real), source name, and its path relative to
    the source folder (``key``, which decides its train/val split)."""

    path: Path
    label: int
    source: str
    key: str = ""

    @property
    def label_name(self) -> str:
        return "synthetic" if self.label else "real"


def list_source(
    folder: str | os.PathLike[str],
    label: str,
    name: str | None = None,
    *,
    leave_out: Iterable[str | os.PathLike[str]] = (),
) -> list[LabelledImage]:
    """Every image under ``folder`` (recursively, sorted; hidden ones skipped), labelled ``real`` or
    ``synthetic``.

    Args:
        name: the source's name (default: the folder's name).
        leave_out: folders whose images are skipped (a command's output folder inside ``folder``).

    Raises:
        InvalidArgumentError: unknown label, a missing folder, or a folder without images.
    """
    if label not in LABELS:
        raise InvalidArgumentError(f"Expected the label real or synthetic, got {label!r}.")
    root = Path(folder)
    files = images_in_folder(root, leave_out=leave_out)
    source = name or root.name
    return [LabelledImage(path, LABELS[label], source, path.relative_to(root).as_posix()) for path in files]


def refuse_unreadable_images(images: Sequence[LabelledImage], shown: int = 10) -> None:
    """Refuse files that are empty or not in an image format, naming every one of them at once (the
    training reads images lazily, so each would otherwise stop a run in turn). Only the file's first
    bytes are read; a truncated image is found when it is decoded.

    Raises:
        InvalidArgumentError: lists up to ``shown`` bad files with the reason, and the count.
    """
    from synthdiff.io import sniff_format

    bad = []
    for image in images:
        try:
            with image.path.open("rb") as handle:
                header = handle.read(16)
        except OSError as error:
            bad.append(f"{str(image.path)!r} ({error.strerror or error})")
            continue
        if not header:
            bad.append(f"{str(image.path)!r} (empty, 0 bytes)")
        elif sniff_format(header) is None:
            bad.append(f"{str(image.path)!r} (not an image: starts with {header[:8]!r})")
    if bad:
        more = f", and {len(bad) - shown} more" if len(bad) > shown else ""
        raise InvalidArgumentError(
            f"Expected readable images, but {len(bad)} of the {len(images)} training files cannot be read: "
            f"{'; '.join(bad[:shown])}{more}. Fix: re-export or remove them."
        )


def each_decodable(images: Sequence[LabelledImage], decode: Callable[[int], T], shown: int = 10) -> list[T]:
    """``decode(i)`` for every image, naming every image that cannot be decoded at once (a file cut
    short, damaged data), after all the others are done (what ``decode`` caches on disk, the image
    head's features, is then there for the run after the fix). :func:`refuse_unreadable_images` finds
    the files that are no image from their first bytes; these are found only by decoding them.

    Raises:
        InvalidArgumentError: lists up to ``shown`` bad files with the reason, and the count.
    """
    results, bad = [], []
    for index in range(len(images)):
        try:
            results.append(decode(index))
        except SynthdiffError as error:
            # Each loader message ends with its own fix; the one fix below serves them all.
            bad.append(str(error).removeprefix(_READABLE).split(" Fix: ")[0].rstrip("."))
    if bad:
        more = f", and {len(bad) - shown} more" if len(bad) > shown else ""
        raise InvalidArgumentError(
            f"Expected images that decode, but {len(bad)} of the {len(images)} training images do not: "
            f"{'; '.join(bad[:shown])}{more}. Fix: re-export or remove them."
        )
    return results


def refuse_repeated_images(images: Sequence[LabelledImage]) -> None:
    """Refuse an image file listed twice (one folder given twice, a folder and one inside it, or one
    folder as both real and synthetic): it would count twice, or under both labels.

    Raises:
        InvalidArgumentError: names the file, its two sources and labels, and the fix.
    """
    seen: dict[Path, LabelledImage] = {}
    for image in images:
        key = image.path.resolve()
        first = seen.setdefault(key, image)
        if first is not image:
            raise InvalidArgumentError(
                f"Expected each image once, but {str(image.path)!r} is in source {first.source!r} "
                f"({first.label_name}) and in source {image.source!r} ({image.label_name}). Fix: give each "
                "folder once, under one label, and no folder inside another."
            )


def split_images(
    images: Sequence[LabelledImage], val_fraction: float, seed: int = 0
) -> tuple[list[LabelledImage], list[LabelledImage]]:
    """Train/val split by a hash of (seed, source, path in the source): stable as files are added,
    whatever their order."""

    def draw(image: LabelledImage) -> float:
        key = f"{seed}/{image.source}/{image.key or image.path.name}".encode()
        return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") / 2**64

    train = [image for image in images if draw(image) >= val_fraction]
    val = [image for image in images if draw(image) < val_fraction]
    return train, val


def source_balanced_weights(images: Sequence[LabelledImage]) -> np.ndarray:
    """Per image: each class half the total weight, each source of a class an equal share of it (so a
    source with thousands of renders does not drown one with twenty photos)."""
    counts: dict[tuple[int, str], int] = {}
    for image in images:
        counts[(image.label, image.source)] = counts.get((image.label, image.source), 0) + 1
    per_class = {label: sum(1 for key in counts if key[0] == label) for label in (0, 1)}
    return np.array([1.0 / (2 * per_class[i.label] * counts[(i.label, i.source)]) for i in images])


def to_grey(image: np.ndarray) -> np.ndarray:
    """An HxWx3 float image made grey (Rec. 601 luma), still with three channels."""
    return np.repeat(image @ np.array([[0.299], [0.587], [0.114]], np.float32), 3, axis=2)


def _load_8bit(path: Path) -> np.ndarray:
    """HxWx3 uint8 sRGB (HDR tone-mapped, grey expanded, alpha composited on black)."""
    return _load_8bit_with_notes(path)[0]


def _load_8bit_with_notes(path: Path) -> tuple[np.ndarray, tuple[str, ...]]:
    """As :func:`_load_8bit`, with the loader's notes on what it changed (``ImageInfo.notes``)."""
    from synthdiff.io import hdr_to_display, load_image

    loaded = load_image(path)
    pixels = hdr_to_display(loaded.pixels) if loaded.info.is_hdr else loaded.pixels
    return eight_bit(pixels), tuple(loaded.info.notes)


class RealnessCrops(Dataset[tuple[torch.Tensor, torch.Tensor]]):
    """Random training crops with augmentations that carry no class information.

    Each epoch draws ``crops_per_image`` crops from every image. Both classes get the same
    treatment, so the file format cannot separate them: with probability ``jpeg_probability`` the
    crop's neighbourhood is re-encoded as JPEG at a random quality in ``jpeg_quality`` (at a random
    offset to the 8x8 JPEG grid), else left as decoded; with probability ``grey_probability`` it is
    made grey (several real sources are grey photographs); it is flipped and turned at random.

    Items: a (3, P, P) float32 crop (sRGB in [0, 1]) and its label (float32 0 or 1).
    """

    def __init__(
        self,
        images: Sequence[LabelledImage],
        crop: int = 64,
        crops_per_image: int = 8,
        *,
        augment: bool = True,
        jpeg_probability: float = 0.6,
        jpeg_quality: tuple[int, int] = (60, 100),
        grey_probability: float = 0.15,
        seed: int = 0,
    ) -> None:
        if not images:
            raise InvalidArgumentError("Expected at least one training image.")
        self.images = list(images)
        self.crop, self.crops_per_image, self.augment = crop, crops_per_image, augment
        self.jpeg_probability, self.jpeg_quality = jpeg_probability, jpeg_quality
        self.grey_probability, self.seed = grey_probability, seed
        self.epoch = 0
        self._decoded: dict[int, np.ndarray] = {}

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.images) * self.crops_per_image

    def pixels(self, index: int) -> np.ndarray:
        """The decoded 8-bit image (kept in memory after the first read)."""
        if index not in self._decoded:
            try:
                self._decoded[index] = _load_8bit(self.images[index].path)
            except SynthdiffError as error:
                raise InvalidArgumentError(f"{_READABLE}{error}") from None
        return self._decoded[index]

    def __getitem__(self, item: int) -> tuple[torch.Tensor, torch.Tensor]:
        index = item // self.crops_per_image
        image = self.pixels(index)
        rng = np.random.default_rng([self.seed, self.epoch, item])
        margin = 8 if self.augment else 0
        size = self.crop + margin
        if image.shape[0] < size or image.shape[1] < size:
            pad = ((0, max(0, size - image.shape[0])), (0, max(0, size - image.shape[1])), (0, 0))
            image = np.pad(image, pad, mode="symmetric")
        top = int(rng.integers(0, image.shape[0] - size + 1))
        left = int(rng.integers(0, image.shape[1] - size + 1))
        window = image[top : top + size, left : left + size]
        if self.augment and rng.uniform() < self.jpeg_probability:
            quality = int(rng.integers(self.jpeg_quality[0], self.jpeg_quality[1] + 1))
            buffer = io.BytesIO()
            Image.fromarray(np.ascontiguousarray(window)).save(buffer, "JPEG", quality=quality)
            with Image.open(buffer) as decoded:
                window = np.asarray(decoded.convert("RGB"))
        shift_y, shift_x = (int(rng.integers(0, margin + 1)) for _ in range(2)) if margin else (0, 0)
        crop = window[shift_y : shift_y + self.crop, shift_x : shift_x + self.crop].astype(np.float32) / 255.0
        if self.augment:
            if rng.uniform() < self.grey_probability:
                crop = to_grey(crop)
            crop = np.rot90(crop, int(rng.integers(4)))
            if rng.integers(2):
                crop = crop[:, ::-1]
        tensor = torch.from_numpy(np.ascontiguousarray(crop.transpose(2, 0, 1)))
        return tensor, torch.tensor(float(self.images[index].label))
