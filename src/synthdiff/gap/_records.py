"""Per-image measurements for set comparison, computed once per file content and cached on disk.

One :class:`ImageRecord` per readable image: its inventory (size, format, bit depth), grey-level and
per-channel histograms with clipping, the radially averaged power spectrum of a native-resolution
centre crop, a small thumbnail of its centre square (for PCA and the autoencoder) and one of the
whole frame (for near-identical images), and EfficientNet-Lite0 ImageNet features. Records are small
(about 30 KB), so a whole folder's records fit in memory while images are read one batch at a time.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from synthdiff.errors import SynthdiffError

__all__ = [
    "RECORD_VERSION",
    "ImageRecord",
    "RecordSettings",
    "compute_records",
    "prepare_square",
    "radial_power_spectrum",
    "whole_frame",
]

# 2 added the whole-frame thumbnail; 3: images with an ICC profile (or an EXIF orientation outside
# JPEG) are read differently since 2026-12-07, so their old measurements no longer hold.
RECORD_VERSION = 3
HISTOGRAM_BINS = 64
SPECTRUM_CROP = 128
THUMBNAIL = 32


@dataclass(frozen=True)
class RecordSettings:
    """What decides a record (part of its cache key).

    Attributes:
        size: side of the square the network sees: the short side is resized to it (antialiased),
            then the centre is cropped; the aspect ratio is never distorted.
    """

    size: int = 224

    def key(self) -> str:
        return f"v{RECORD_VERSION}-size{self.size}-spec{SPECTRUM_CROP}-thumb{THUMBNAIL}"


@dataclass
class ImageRecord:
    """Measurements of one image (see the module docstring)."""

    path: str
    width: int
    height: int
    format: str
    bit_depth: int
    is_hdr: bool
    grey_histogram: np.ndarray  # (HISTOGRAM_BINS,) fractions of pixels
    channel_histograms: np.ndarray  # (3, HISTOGRAM_BINS)
    clipped_dark: float  # share of pixels with every channel <= 1/255
    clipped_bright: float  # share of pixels with some channel >= 254/255
    spectrum: np.ndarray  # (SPECTRUM_CROP // 2,) log10 radially averaged power
    thumbnail: np.ndarray  # (THUMBNAIL, THUMBNAIL, 3) uint8, the centre square
    frame: np.ndarray  # (THUMBNAIL, THUMBNAIL, 3) uint8, the whole image squeezed to a square
    features: np.ndarray  # (1280,) float32 EfficientNet-Lite0 pooled head features
    content_key: str = ""  # a hash of the file's bytes (and the settings): equal for identical files

    def to_arrays(self) -> dict[str, np.ndarray]:
        scalars = np.array([self.width, self.height, self.bit_depth, int(self.is_hdr)], np.int64)
        return {
            "scalars": scalars,
            "clipped": np.array([self.clipped_dark, self.clipped_bright], np.float64),
            "format": np.array(self.format),
            "grey_histogram": self.grey_histogram,
            "channel_histograms": self.channel_histograms,
            "spectrum": self.spectrum,
            "thumbnail": self.thumbnail,
            "frame": self.frame,
            "features": self.features,
        }

    @classmethod
    def from_arrays(cls, path: str, arrays: dict[str, np.ndarray], content_key: str = "") -> ImageRecord:
        width, height, bit_depth, is_hdr = (int(v) for v in arrays["scalars"])
        return cls(
            path, width, height, str(arrays["format"]), bit_depth, bool(is_hdr),
            arrays["grey_histogram"], arrays["channel_histograms"],
            float(arrays["clipped"][0]), float(arrays["clipped"][1]),
            arrays["spectrum"], arrays["thumbnail"], arrays["frame"], arrays["features"], content_key,
        )  # fmt: skip


def prepare_square(pixels: np.ndarray, size: int) -> torch.Tensor:
    """Resize the short side to ``size`` (antialiased bilinear) and crop the centre square.

    Args:
        pixels: HxWx3 float32 sRGB in [0, 1].

    Shape:
        -> (3, size, size).
    """
    height, width = pixels.shape[:2]
    scale = size / min(height, width)
    new_size = (max(size, round(height * scale)), max(size, round(width * scale)))
    resized = _resized(pixels, new_size)
    top, left = (new_size[0] - size) // 2, (new_size[1] - size) // 2
    return resized[:, top : top + size, left : left + size].clamp(0, 1)


def _resized(pixels: np.ndarray, shape: tuple[int, int]) -> torch.Tensor:
    """HxWx3 -> (3, *shape), antialiased bilinear."""
    tensor = torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1)))[None]
    return F.interpolate(tensor, size=shape, mode="bilinear", antialias=True, align_corners=False)[0]


def whole_frame(pixels: np.ndarray, size: int) -> torch.Tensor:
    """The whole image resized to ``size`` x ``size`` (antialiased bilinear; the aspect ratio is not
    kept), as :func:`prepare_square` takes it: HxWx3 float32 sRGB in [0, 1] -> (3, size, size)."""
    return _resized(pixels, (size, size)).clamp(0, 1)


def radial_power_spectrum(grey: np.ndarray, crop: int = SPECTRUM_CROP) -> np.ndarray:
    """log10 of the radially averaged power spectrum of the centre ``crop`` of a grey image, at its
    native resolution (reflect-padded when smaller), Hann-windowed; one value per integer radius
    1 .. crop/2 (cycles per crop).
    """
    height, width = grey.shape
    if height < crop or width < crop:
        grey = np.pad(grey, ((0, max(0, crop - height)), (0, max(0, crop - width))), mode="symmetric")
        height, width = grey.shape
    top, left = (height - crop) // 2, (width - crop) // 2
    patch = grey[top : top + crop, left : left + crop].astype(np.float64)
    window = np.outer(np.hanning(crop), np.hanning(crop))
    power = np.abs(np.fft.fftshift(np.fft.fft2((patch - patch.mean()) * window))) ** 2 / crop**2
    rows, cols = np.indices(power.shape) - crop // 2
    radius = np.round(np.hypot(rows, cols)).astype(int)
    sums = np.bincount(radius.ravel(), power.ravel())
    counts = np.bincount(radius.ravel())
    profile = sums[1 : crop // 2 + 1] / counts[1 : crop // 2 + 1]
    return np.log10(profile + 1e-12).astype(np.float32)


def _measure(pixels: np.ndarray) -> dict[str, object]:
    grey = pixels @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    bins = np.linspace(0.0, 1.0, HISTOGRAM_BINS + 1)
    total = grey.size
    channel_histograms = np.stack([np.histogram(pixels[..., c], bins)[0] / total for c in range(3)])
    thumbnail = prepare_square(pixels, THUMBNAIL).numpy().transpose(1, 2, 0)
    frame = whole_frame(pixels, THUMBNAIL).numpy().transpose(1, 2, 0)
    return {
        "grey_histogram": (np.histogram(grey, bins)[0] / total).astype(np.float32),
        "channel_histograms": channel_histograms.astype(np.float32),
        "clipped_dark": float((pixels.max(axis=2) <= 1 / 255).mean()),
        "clipped_bright": float((pixels.max(axis=2) >= 254 / 255).mean()),
        "spectrum": radial_power_spectrum(grey),
        "thumbnail": (thumbnail * 255 + 0.5).astype(np.uint8),
        "frame": (frame * 255 + 0.5).astype(np.uint8),
    }


def _content_key(path: Path, settings: RecordSettings) -> str:
    digest = hashlib.sha256(settings.key().encode())
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:32]


def compute_records(
    paths: Sequence[Path],
    settings: RecordSettings,
    cache_dir: str | os.PathLike[str] | None,
    *,
    batch_size: int = 16,
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[list[ImageRecord], list[tuple[str, str]], int]:
    """Records for ``paths`` (cached by file content and settings), streaming one batch at a time.

    Returns:
        The records of the readable images (in ``paths`` order), the unreadable files as
        ``(path, reason)`` (skipped, never fatal), and how many records came from the cache.
    """
    from synthdiff.backbones import efficientnet_lite0, inference_copy
    from synthdiff.io import hdr_to_display, load_image, output_folder

    cache = (
        output_folder(Path(cache_dir) / settings.key(), option="--cache-dir")
        if cache_dir is not None
        else None
    )
    network = None
    records: dict[int, ImageRecord] = {}
    failed: list[tuple[str, str]] = []
    hits = 0
    pending: list[tuple[int, dict[str, object], torch.Tensor, str | None]] = []

    def flush() -> None:
        nonlocal network
        if not pending:
            return
        if network is None:
            network = inference_copy(efficientnet_lite0(pretrained=True))
        with torch.inference_mode():
            batch = torch.stack([item[2] for item in pending])
            head = network.embedding(batch).numpy().astype(np.float32)
        for (index, measured, _, key), features in zip(pending, head, strict=True):
            record = ImageRecord(features=features, **measured)  # type: ignore[arg-type]
            records[index] = record
            if cache is not None and key is not None:
                _save(cache / f"{key}.npz", record)
        pending.clear()

    for index, path in enumerate(paths):
        try:
            key = _content_key(path, settings) if cache is not None else None
            cached = cache / f"{key}.npz" if cache is not None else None
            record = _read_cached(cached, str(path), key) if cached is not None and key is not None else None
            if record is not None:
                records[index] = record
                hits += 1
            else:
                loaded = load_image(path)
                pixels = hdr_to_display(loaded.pixels) if loaded.info.is_hdr else loaded.pixels
                pixels = np.clip(pixels, 0.0, 1.0).astype(np.float32)
                info = loaded.info
                measured = {
                    "path": str(path), "width": info.width, "height": info.height, "format": info.format,
                    "bit_depth": info.bit_depth, "is_hdr": info.is_hdr, **_measure(pixels),
                    "content_key": key or "",
                }  # fmt: skip
                pending.append((index, measured, prepare_square(pixels, settings.size), key))
                if len(pending) >= batch_size:
                    flush()
        except (SynthdiffError, OSError, ValueError) as error:
            failed.append((str(path), str(error)))
        if on_progress is not None:
            on_progress(index + 1, len(paths))
    flush()
    return [records[i] for i in sorted(records)], failed, hits


def _read_cached(cached: Path, path: str, key: str) -> ImageRecord | None:
    """The cached record of an image, or None when there is none or it cannot be read (a damaged cache
    file is removed, and the image measured again, rather than the image reported unreadable)."""
    if not cached.is_file():
        return None
    try:
        # Opened here: np.load leaves its own handle open when the file is not a valid archive.
        with cached.open("rb") as handle, np.load(handle) as arrays:
            return ImageRecord.from_arrays(path, dict(arrays), key)
    except Exception:  # numpy and zipfile raise many kinds for a damaged file
        cached.unlink(missing_ok=True)
        return None


def _save(path: Path, record: ImageRecord) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, **record.to_arrays())
    temporary = path.with_name(path.name + ".partial")
    temporary.write_bytes(buffer.getvalue())
    os.replace(temporary, path)
