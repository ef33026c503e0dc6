"""Loading images from disk into synthdiff's one internal representation.

Every loader returns an HxWx3 float32 array:

* LDR files (8/16-bit PNG, JPEG, 8/16-bit TIFF, WebP, AVIF, BMP): sRGB-encoded values in [0, 1].
* HDR files (OpenEXR, Radiance .hdr, 32-bit float TIFF): linear light, non-negative, unbounded.

Alpha is composited over a background colour (default black) unless ``alpha="ignore"`` drops it.
LDR alpha is applied to the sRGB-encoded values, as image viewers and browsers display it; EXR colour
is premultiplied by convention, so HDR alpha is applied as ``rgb + (1 - a) * background``.
"""

from __future__ import annotations

import contextlib
import io
import os
import struct
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, UnidentifiedImageError, features

from synthdiff.errors import (
    CorruptImageError,
    EmptyImageError,
    ImageNotFoundError,
    ImageTooLargeError,
    InvalidArgumentError,
    NotAnImageError,
    SynthdiffError,
    UnsupportedImageError,
)
from synthdiff.io._icc import high_depth_to_srgb, to_srgb, unapplied_profile_note

__all__ = ["DEFAULT_MAX_PIXELS", "ImageInfo", "LoadedImage", "load_image", "sniff_format"]

#: Default decompression-bomb guard: 150 megapixels (a 16K x 9K frame fits).
DEFAULT_MAX_PIXELS = 150_000_000

AlphaPolicy = Literal["composite", "ignore"]

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"v/1\x01", "exr"),
    (b"#?RADIANCE", "hdr"),
    (b"#?RGBE", "hdr"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)


@dataclass(frozen=True)
class ImageInfo:
    """What was read from the file, before conversion to the internal representation.

    Attributes:
        path: the file that was read.
        format: ``png``, ``jpeg``, ``tiff``, ``webp``, ``avif``, ``bmp``, ``gif``, ``exr`` or ``hdr``.
        width: width in pixels (after EXIF orientation).
        height: height in pixels (after EXIF orientation).
        channels: channels stored in the file (1 to 4).
        bit_depth: bits per sample stored in the file (8, 16 or 32; 16 for half-float EXR).
        is_hdr: True when pixels are linear light (EXR, .hdr, float TIFF).
        had_alpha: True when the file has an alpha channel.
        transparent_fraction: the fraction of pixels whose alpha is under 1 (0 without alpha).
        notes: anything the loader changed or noticed (orientation applied, negatives clamped, ...).
    """

    path: str
    format: str
    width: int
    height: int
    channels: int
    bit_depth: int
    is_hdr: bool
    had_alpha: bool
    notes: tuple[str, ...] = field(default_factory=tuple)
    transparent_fraction: float = 0.0

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict of the fields."""
        return {
            "path": self.path,
            "format": self.format,
            "width": self.width,
            "height": self.height,
            "channels": self.channels,
            "bit_depth": self.bit_depth,
            "is_hdr": self.is_hdr,
            "had_alpha": self.had_alpha,
            "transparent_fraction": self.transparent_fraction,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class LoadedImage:
    """An image in synthdiff's internal representation plus what the file held.

    Attributes:
        pixels: HxWx3 float32; sRGB-encoded in [0, 1] when ``info.is_hdr`` is False, else linear light.
        info: metadata read from the file.
    """

    pixels: np.ndarray
    info: ImageInfo


def pair_notes(reference: LoadedImage, test: LoadedImage) -> list[str]:
    """What the loader changed or noticed in a pair's two images, each note prefixed by its role.

    Example:
        >>> pair_notes(reference_image, test_image)  # doctest: +SKIP
        ['test: EXIF orientation 6 applied']
    """
    notes = [
        f"{role}: {note}"
        for image, role in ((reference, "reference"), (test, "test"))
        for note in image.info.notes
    ]
    grey = [image.info.channels <= 2 for image in (reference, test)]
    if grey[0] != grey[1]:
        coloured, role, other = (test, "reference", "test") if grey[0] else (reference, "test", "reference")
        if _has_colour(coloured.pixels):
            notes.append(
                f"the {role} image is grey and the {other} in colour: the grey one is compared as three "
                "equal channels, so every colour in the other counts as a difference (compare grey copies "
                "of both to leave colour out)"
            )
    return notes


# A pixel whose channels spread by more than this is coloured; an image with more than COLOURED_SHARE of
# such pixels is in colour (a grey picture saved as RGB, JPEG's chroma noise aside, is not).
COLOUR_SPREAD = 0.02
COLOURED_SHARE = 0.01


def _has_colour(pixels: np.ndarray) -> bool:
    spread = pixels[..., :3].max(axis=-1) - pixels[..., :3].min(axis=-1)
    return bool((spread > COLOUR_SPREAD).mean() > COLOURED_SHARE)


#: The brands after "ftyp" of HEIC/HEIF files, which synthdiff names in its refusal.
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1")


def sniff_format(header: bytes) -> str | None:
    """Name the image format from a file's first bytes, or None when it is not one synthdiff reads."""
    for magic, name in _MAGIC:
        if header.startswith(magic):
            return name
    if header[:4] == b"RIFF" and header[8:12] == b"WEBP":
        return "webp"
    # ISO base media files: the brand after "ftyp" says which (AVIF stills and sequences).
    if header[4:8] == b"ftyp" and header[8:12] in (b"avif", b"avis"):
        return "avif"
    # BMP: "BM", then the file size and two reserved fields that are zero (a text file starting with
    # "BM" is not taken for one).
    if header[:2] == b"BM" and len(header) >= 10 and header[6:10] == b"\x00\x00\x00\x00":
        return "bmp"
    return None


def load_image(
    path: str | os.PathLike[str],
    *,
    alpha: AlphaPolicy = "composite",
    background: tuple[float, float, float] = (0.0, 0.0, 0.0),
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
) -> LoadedImage:
    """Read an image file into an HxWx3 float32 array.

    The format is recognised from the file's content, not its name. PNG (1-16 bit, palette, grey,
    alpha), JPEG, TIFF (8/16-bit integer, 32-bit float), WebP, AVIF, BMP, GIF (the first frame), OpenEXR and
    Radiance HDR are supported. The pixels are those a colour-managed viewer shows: an EXIF orientation
    tag is applied in whichever format holds it, and an embedded ICC profile converted to sRGB (8-bit
    pixels; see docs/io.md). What the loader changes or notices (an EXIF rotation, a profile converted,
    transparent pixels composited, the first of several frames) is in ``info.notes``.

    Args:
        path: file to read.
        alpha: ``"composite"`` blends the image over ``background``; ``"ignore"`` drops alpha.
        background: RGB background for compositing, in the image's own encoding (sRGB values in
            [0, 1] for LDR, linear for HDR).
        max_pixels: refuse images with more pixels than this (None disables the guard).

    Returns:
        The pixels (sRGB-encoded [0, 1] for LDR, linear for HDR) and the file's metadata.

    Raises:
        ImageNotFoundError: the path does not exist or is a folder.
        EmptyImageError: the file has 0 bytes or the image has zero width or height.
        NotAnImageError: the content is not a supported image format.
        CorruptImageError: the file is truncated or its data cannot be decoded.
        UnsupportedImageError: unsupported bit depth, sample format or channel count.
        ImageTooLargeError: more than ``max_pixels`` pixels.

    Example:
        >>> image = load_image("examples/wrong-light/reference.png")  # doctest: +SKIP
        >>> image.pixels.shape, image.info.is_hdr  # doctest: +SKIP
        ((256, 256, 3), False)
    """
    if alpha not in ("composite", "ignore"):
        raise InvalidArgumentError(f"Expected alpha to be 'composite' or 'ignore', got {alpha!r}.")
    if len(background) != 3 or not all(value >= 0 for value in background):
        raise InvalidArgumentError(
            f"Expected an RGB background of 3 values, none negative, got {background!r}."
        )
    file = Path(path)
    if not file.exists():
        raise ImageNotFoundError(f"Image not found: '{file}'. Fix: check the path and the current folder.")
    if not file.is_file():
        raise ImageNotFoundError(f"Expected an image file, got a folder or special file: '{file}'.")
    size = file.stat().st_size
    if size == 0:
        raise EmptyImageError(f"'{file}' is empty (0 bytes). Fix: re-export or re-copy the image.")
    with file.open("rb") as handle:
        header = handle.read(16)
    fmt = sniff_format(header)
    if fmt is None and header[4:8] == b"ftyp" and header[8:12] in _HEIF_BRANDS:
        raise UnsupportedImageError(
            f"'{file}' is a HEIC/HEIF image (as iPhones save photos), which synthdiff does not read: its "
            "codec needs a licence-encumbered decoder. Fix: export it as JPEG or PNG (or AVIF)."
        )
    if fmt is None:
        raise NotAnImageError(
            f"'{file}' is not an image synthdiff can read: expected PNG, JPEG, TIFF, WebP, AVIF, BMP, GIF, "
            f"OpenEXR or Radiance HDR content, found bytes {header[:8]!r}. Fix: convert it to PNG or EXR."
        )
    if fmt == "avif" and not features.check("avif"):
        raise UnsupportedImageError(
            f"'{file}' is an AVIF image, but this Pillow was built without AVIF. Fix: pip install -U pillow "
            "(11.3 or newer reads AVIF), or convert it to PNG."
        )
    if fmt == "exr":
        rgba, info = _read_exr(file, max_pixels)
    elif fmt == "hdr":
        rgba, info = _read_with_opencv(file, fmt, max_pixels, is_hdr=True)
    else:
        rgba, info = _read_with_pillow(file, fmt, max_pixels)
    pixels = _to_rgb(rgba, info, alpha, background)
    unscaled = _unscaled_8_bit_note(rgba, info)
    if unscaled:
        info = _with_note(info, unscaled)
    if info.had_alpha:
        transparent = float(np.mean(rgba[..., -1] < 1.0))
        info = ImageInfo(**{**info.__dict__, "transparent_fraction": transparent})
        if transparent > 0.0:
            info = _with_note(
                info,
                f"{_percent(transparent)} of pixels transparent or partly so (alpha under 1): "
                + (
                    f"composited over the background {tuple(float(v) for v in background)}"
                    if alpha == "composite"
                    else "alpha ignored"
                ),
            )
    if not np.all(np.isfinite(pixels)):
        bad = int(np.count_nonzero(~np.isfinite(pixels)))
        raise CorruptImageError(
            f"'{file}' has {bad} NaN or infinite sample(s). Expected finite values. "
            "Fix: re-render or repair the image (for example clamp fireflies before saving)."
        )
    if info.is_hdr and float(pixels.min()) < 0.0:
        pixels = np.maximum(pixels, 0.0)
        info = _with_note(info, "negative linear values clamped to 0")
    return LoadedImage(np.ascontiguousarray(pixels, dtype=np.float32), info)


#: The largest 16-bit sample, as a fraction of full scale, that an 8-bit value stored unscaled can be.
_EIGHT_BIT_IN_16 = 255.5 / 65535.0


def _unscaled_8_bit_note(rgba: np.ndarray, info: ImageInfo) -> str | None:
    """A note when a 16-bit image's colour samples never exceed 255 of 65535: 8-bit data written as
    16-bit without scaling (``array.astype(np.uint16)``), which shows almost black. The pixels are kept as
    stored (a 16-bit file says what full scale is); the note says how to read them as meant."""
    if info.bit_depth != 16 or info.is_hdr:
        return None
    colour = rgba[..., : 3 if rgba.shape[2] >= 3 else 1]
    brightest = float(colour.max())
    if not 0.0 < brightest <= _EIGHT_BIT_IN_16:
        return None
    return (
        f"a 16-bit image whose samples never exceed {round(brightest * 65535)} of 65535: it shows almost "
        "black, and is probably 8-bit data saved as 16-bit without scaling (astype(uint16) where x * 257 "
        "was meant). Fix: re-save it scaled, or as 8-bit"
    )


def _percent(fraction: float) -> str:
    """A fraction as a percentage that is never rounded to 0 % or 100 % when it is neither."""
    text = f"{100 * fraction:.1f} %"
    if text == "0.0 %" and fraction > 0:
        return "under 0.1 %"
    if text == "100.0 %" and fraction < 1:
        return "over 99.9 %"
    return text


def _with_note(info: ImageInfo, note: str) -> ImageInfo:
    return ImageInfo(**{**info.__dict__, "notes": (*info.notes, note)})


def _check_dimensions(file: Path, width: int, height: int, max_pixels: int | None) -> None:
    if width <= 0 or height <= 0:
        raise EmptyImageError(
            f"'{file}' has zero size ({width}x{height}). Expected at least 1x1 pixels. "
            "Fix: re-export the image."
        )
    if max_pixels is not None and width * height > max_pixels:
        raise ImageTooLargeError(
            f"'{file}' is {width}x{height} = {width * height:,} pixels, above the limit of "
            f"{max_pixels:,}. Fix: pass a larger max_pixels (CLI: --max-pixels) if you trust the file."
        )


@contextlib.contextmanager
def _pillow_without_bomb_check() -> Iterator[None]:
    # synthdiff applies its own, configurable limit before decoding.
    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def _as_tuple(value: object) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, tuple) else (int(value),)  # type: ignore[call-overload]


def _png_header(file: Path) -> tuple[int, int]:
    with file.open("rb") as handle:
        ihdr = handle.read(33)
    if len(ihdr) < 33 or ihdr[12:16] != b"IHDR":
        raise CorruptImageError(f"'{file}' has a PNG signature but no valid IHDR chunk: it is truncated.")
    width, height = int.from_bytes(ihdr[16:20], "big"), int.from_bytes(ihdr[20:24], "big")
    _check_dimensions(file, width, height, None)
    return ihdr[24], ihdr[25]  # bit depth, colour type


def _orient(array: np.ndarray, orientation: int) -> np.ndarray:
    """Turn an HxWxC array as the EXIF orientation tag says a viewer shows it (TIFF/EXIF 1-8)."""
    if orientation in (5, 6, 7, 8):  # the stored rows are the shown columns
        array = array.transpose(1, 0, 2)
    flip_rows = orientation in (3, 4, 7, 8)
    flip_columns = orientation in (2, 3, 6, 7)
    return np.ascontiguousarray(array[:: -1 if flip_rows else 1, :: -1 if flip_columns else 1])


def _exif_orientation(opened: Image.Image, notes: list[str]) -> int:
    """The EXIF orientation tag, 1 to 8 (1 when there is none). Every viewer shows the image turned as
    it says, whatever the format. A value outside 1-8, or damaged EXIF data, does not make the pixels
    unreadable: it is noted and the image read as stored."""
    try:
        orientation = opened.getexif().get(0x0112, 1)
    except (SyntaxError, ValueError, OSError, struct.error) as error:
        notes.append(f"its EXIF data cannot be read ({error}): any orientation in it was not applied")
        return 1
    if orientation not in range(1, 9):
        notes.append(f"EXIF orientation {orientation!r} is not a valid value (1-8): ignored")
        return 1
    if orientation != 1:
        notes.append(f"EXIF orientation {orientation} applied")
    return int(orientation)


def _read_with_pillow(file: Path, fmt: str, max_pixels: int | None) -> tuple[np.ndarray, ImageInfo]:
    notes: list[str] = []
    png_depth = _png_header(file)[0] if fmt == "png" else None
    try:
        with _pillow_without_bomb_check(), warnings.catch_warnings():
            # Pillow warns about damaged metadata while opening; synthdiff reports what matters itself.
            warnings.simplefilter("ignore")
            with Image.open(file) as opened:
                _check_dimensions(file, opened.width, opened.height, max_pixels)
                # Read before load(): Pillow turns a TIFF while loading it and drops the tag.
                orientation = _exif_orientation(opened, notes)
                opened.load()
                tiff_depth = max(_as_tuple(opened.tag_v2.get(258, 8))) if fmt == "tiff" else 8  # type: ignore[attr-defined]
                image = opened.copy()
                icc = opened.info.get("icc_profile") or None
                frames = int(getattr(opened, "n_frames", 1))
    except (UnidentifiedImageError, SyntaxError) as error:
        if fmt == "tiff":
            # Pillow reads no multi-channel float TIFF (a common render output); OpenCV does.
            return _read_tiff_with_opencv(file, max_pixels, pillow_error=error)
        raise CorruptImageError(
            f"'{file}' starts like a {fmt.upper()} file but is truncated or corrupt (decoder: {error}). "
            "Fix: re-export or re-copy the file."
        ) from error
    except OSError as error:
        raise CorruptImageError(
            f"'{file}' is truncated or corrupt ({fmt.upper()} decoder: {error}). "
            "Fix: re-export or re-copy the file."
        ) from error
    if frames > 1:
        notes.append(
            f"the {fmt.upper()} file holds {frames} frames (an animation or pages): the first was read"
        )
    mode = image.mode
    needs_opencv = (png_depth == 16 and mode not in ("I;16", "I;16B", "I")) or (
        fmt == "tiff"
        and (
            mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I;16", "I;16B", "F")
            or (tiff_depth > 8 and mode in ("RGB", "RGBA", "LA"))
        )
    )
    # Both decoders turn a TIFF themselves while reading it; the other formats are turned here.
    turned = fmt == "tiff"
    if needs_opencv:
        # Pillow reduces 16-bit colour to 8 bits; OpenCV keeps all 16.
        array, info = _read_with_opencv(file, fmt, max_pixels, is_hdr=False)
        array = array if turned else _orient(array, orientation)
        array, profile_note = _high_depth_in_srgb(array, icc, info.bit_depth)
        notes.extend([profile_note] if profile_note else [])
        return array, replace(info, width=array.shape[1], height=array.shape[0], notes=(*info.notes, *notes))
    bit_depth = 8
    stored: int | None = None  # the file's channels, where they differ from the array's
    if mode in ("I;16", "I;16B", "I"):
        if mode == "I" and png_depth != 16:
            raise UnsupportedImageError(
                f"'{file}' holds 32-bit integer samples. Expected 8- or 16-bit integer or 32-bit float. "
                "Fix: convert it to 16-bit PNG or float EXR."
            )
        array, profile_note = _high_depth_in_srgb(
            np.asarray(image, dtype=np.float32)[..., None] / 65535.0, icc, 16
        )
        bit_depth = 16
        stored = 1  # a grey image converted by its profile comes back in RGB
    elif mode == "F":
        array = np.asarray(image, dtype=np.float32)[..., None]
        bit_depth = 32
        profile_note = unapplied_profile_note(icc, 1)
    elif mode in ("1", "L", "P", "RGB", "RGBA", "LA", "CMYK", "YCbCr", "PA", "La", "RGBa"):
        target = {"1": "L", "L": "L", "LA": "LA", "La": "LA", "RGB": "RGB", "RGBA": "RGBA", "RGBa": "RGBA"}
        if mode in ("P", "PA"):
            target_mode = "RGBA" if "transparency" in image.info or mode == "PA" else "RGB"
            # A render saved as GIF or a palette PNG lost its colours to at most 256, often dithered: a
            # comparison with the full-colour original then measures that reduction everywhere.
            used = len(image.getcolors(256) or ())
            notes.append(
                f"indexed colour: the file holds at most 256 colours ({used} used), so any others the "
                "picture had were reduced when it was saved, often with dithering (a noise pattern)"
            )
        else:
            target_mode = target.get(mode, "RGB")
        if target_mode != mode:
            image = image.convert(target_mode)
        stored = len(image.getbands())  # a grey image converted by its profile comes back in RGB
        image, profile_note = to_srgb(image, None if mode == "CMYK" else icc)
        array = np.asarray(image, dtype=np.float32) / 255.0
        if array.ndim == 2:
            array = array[..., None]
    else:
        raise UnsupportedImageError(
            f"'{file}' uses pixel mode {mode!r}, which synthdiff does not read. Expected grey, grey+alpha, "
            "RGB or RGBA with 8/16-bit integers or 32-bit floats. Fix: convert it to PNG."
        )
    notes.extend([profile_note] if profile_note else [])
    if not turned:
        array = _orient(array, orientation)
    is_hdr = mode == "F"
    channels = array.shape[2] if stored is None else stored
    info = ImageInfo(
        path=str(file),
        format=fmt,
        width=array.shape[1],
        height=array.shape[0],
        channels=channels,
        bit_depth=png_depth if png_depth in (1, 2, 4) else bit_depth,
        is_hdr=is_hdr,
        had_alpha=channels in (2, 4),
        notes=tuple(notes),
    )
    return array, info


def _high_depth_in_srgb(
    array: np.ndarray, icc: bytes | None, bit_depth: int
) -> tuple[np.ndarray, str | None]:
    """16-bit pixels with their embedded profile applied (alpha kept as stored), and what was done; float
    pixels as stored, with a note when their profile is not sRGB."""
    if bit_depth != 16:
        return array, unapplied_profile_note(icc, array.shape[2])
    colour_channels = 1 if array.shape[2] in (1, 2) else 3
    stored = array[..., :colour_channels]
    colours, note = high_depth_to_srgb(stored, icc)
    if colours is stored:
        return array, note
    return np.concatenate([colours, array[..., colour_channels:]], axis=-1), note


def _read_tiff_with_opencv(
    file: Path, max_pixels: int | None, *, pillow_error: Exception
) -> tuple[np.ndarray, ImageInfo]:
    try:
        return _read_with_opencv(file, "tiff", max_pixels, is_hdr=False)
    except CorruptImageError as error:
        raise CorruptImageError(
            f"'{file}' starts like a TIFF file but neither Pillow nor OpenCV can decode it: it is "
            "truncated, corrupt, or stores samples synthdiff does not read (supported: 8/16-bit "
            f"integers, 32-bit floats; 16-bit half floats are not). Decoder: {pillow_error}. "
            "Fix: re-export it as a 16-bit PNG, a float32 TIFF or an OpenEXR file."
        ) from error


def _read_with_opencv(
    file: Path, fmt: str, max_pixels: int | None, *, is_hdr: bool
) -> tuple[np.ndarray, ImageInfo]:
    import cv2

    data = np.fromfile(file, dtype=np.uint8)
    flags = cv2.IMREAD_ANYDEPTH | cv2.IMREAD_COLOR if fmt == "hdr" else cv2.IMREAD_UNCHANGED
    if fmt == "hdr":
        # Radiance header: the resolution line follows a blank line, e.g. "-Y 480 +X 640".
        text = data[:4096].tobytes().split(b"\n\n", 1)
        dims = text[1].split(b"\n", 1)[0].split() if len(text) == 2 else []
        if len(dims) == 4 and dims[1].isdigit() and dims[3].isdigit():
            _check_dimensions(file, int(dims[3]), int(dims[1]), max_pixels)
    # OpenCV logs failed decodes to stderr itself; synthdiff raises its own clearer error instead.
    previous_level = cv2.getLogLevel()
    cv2.setLogLevel(0)  # silent
    try:
        decoded = cv2.imdecode(data, flags)
    finally:
        cv2.setLogLevel(previous_level)
    if decoded is None or decoded.size == 0:
        raise CorruptImageError(
            f"'{file}' is truncated or corrupt: the {fmt.upper()} decoder returned no pixels. "
            "Fix: re-export or re-copy the file."
        )
    _check_dimensions(file, decoded.shape[1], decoded.shape[0], max_pixels)
    if decoded.ndim == 2:
        decoded = decoded[..., None]
    channels = decoded.shape[2]
    if channels >= 3:
        decoded = decoded[..., [2, 1, 0, *range(3, channels)]]  # BGR(A) -> RGB(A)
    depth_of = {np.dtype(np.uint8): 8, np.dtype(np.uint16): 16, np.dtype(np.float32): 32}
    if decoded.dtype not in depth_of:
        raise UnsupportedImageError(
            f"'{file}' stores {decoded.dtype} samples. Expected 8/16-bit integers or 32-bit floats. "
            "Fix: convert it to 16-bit PNG or float EXR."
        )
    bit_depth = depth_of[decoded.dtype]
    if decoded.dtype == np.uint8:
        array = decoded.astype(np.float32) / 255.0
    elif decoded.dtype == np.uint16:
        array = decoded.astype(np.float32) / 65535.0
    else:
        array = decoded.astype(np.float32)
        is_hdr = True
    info = ImageInfo(
        path=str(file),
        format=fmt,
        width=array.shape[1],
        height=array.shape[0],
        channels=channels,
        bit_depth=bit_depth,
        is_hdr=is_hdr,
        had_alpha=channels in (2, 4),
    )
    return array, info


#: Held while native output is captured: two captures at once would restore each other's streams.
_NATIVE_OUTPUT = threading.Lock()


@contextlib.contextmanager
def _native_output() -> Iterator[dict[int, str]]:
    """Capture what native code writes to file descriptors 1 and 2 while the block runs; the text is in
    the yielded dict (by descriptor) afterwards. OpenEXR's reader reports a chunk it cannot decode only
    there (on stdout and stderr), and goes on with the pixels it has: this is how a damaged file is told
    from a good one, and how its messages are kept out of a command's output."""
    captured: dict[int, str] = {}
    # The binding prints through Python's sys.stdout, its library to the descriptors: both are caught.
    python_out, python_err = io.StringIO(), io.StringIO()
    for stream in (sys.stdout, sys.stderr):  # what Python buffered so far goes out first, where it was meant
        with contextlib.suppress(AttributeError, OSError, ValueError):
            stream.flush()
    with (
        _NATIVE_OUTPUT,
        tempfile.TemporaryFile() as out_sink,
        tempfile.TemporaryFile() as err_sink,
        contextlib.redirect_stdout(python_out),
        contextlib.redirect_stderr(python_err),
    ):
        sinks = {1: out_sink, 2: err_sink}
        saved: dict[int, int] = {}
        for fd, sink in sinks.items():
            with contextlib.suppress(OSError):  # a process without that stream: nothing to capture there
                saved[fd] = os.dup(fd)
                os.dup2(sink.fileno(), fd)
        try:
            yield captured
        finally:
            _flush_c_streams()  # what C and C++ code buffered goes to the sinks, not out later
            for fd, sink in sinks.items():
                if fd in saved:
                    os.dup2(saved[fd], fd)
                    os.close(saved[fd])
                sink.seek(0)
                captured[fd] = sink.read().decode("utf-8", errors="replace")
            captured[1] += python_out.getvalue()
            captured[2] += python_err.getvalue()


def _flush_c_streams() -> None:
    """fflush(NULL): write out every C stdio buffer (C++ streams synced with stdio write through them)."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).fflush(None)


#: What OpenEXR prints when it read a file only in part (its reader does not raise then).
_EXR_DAMAGE = ("EXR_ERR_", "Exception raised reading")


def _read_exr(file: Path, max_pixels: int | None) -> tuple[np.ndarray, ImageInfo]:
    import OpenEXR

    try:
        with _native_output() as printed:
            with OpenEXR.File(str(file), header_only=True) as exr:
                window = exr.header()["dataWindow"]
                width = int(window[1][0] - window[0][0] + 1)
                height = int(window[1][1] - window[0][1] + 1)
            _check_dimensions(file, width, height, max_pixels)
            with OpenEXR.File(str(file), separate_channels=True) as exr:
                channels = {name: np.asarray(ch.pixels) for name, ch in exr.channels().items()}
    except (RuntimeError, OSError, KeyError, ValueError) as error:
        # ValueError: a cut-short file ("file has 0 parts"), a header that is not text (UnicodeDecodeError).
        if isinstance(error, SynthdiffError):
            raise
        raise CorruptImageError(
            f"'{file}' is a truncated or corrupt OpenEXR file ({error}). Fix: re-render or re-copy it."
        ) from error
    lines = [line for text in printed.values() for line in text.splitlines()]
    damage = [line for line in lines if any(mark in line for mark in _EXR_DAMAGE)]
    if damage:
        first = damage[0].replace(str(file), "").lstrip(": ")
        raise CorruptImageError(
            f"'{file}' is a damaged OpenEXR file: part of its pixel data cannot be decoded ({first}). "
            "Fix: re-render or re-copy it."
        )
    # Anything else printed meanwhile was not about the file (another thread's output): passed on.
    for stream, fd in ((sys.stdout, 1), (sys.stderr, 2)):
        if printed.get(fd):
            stream.write(printed[fd])
    names = set(channels)
    if {"R", "G", "B"} <= names:
        planes = [channels["R"], channels["G"], channels["B"]]
    elif "Y" in names:
        planes = [channels["Y"]]
    else:
        raise UnsupportedImageError(
            f"'{file}' has EXR channels {sorted(names)}. Expected R, G, B (optionally A) or Y. "
            "Fix: save the beauty pass as RGB(A)."
        )
    had_alpha = "A" in names
    if had_alpha:
        planes.append(channels["A"])
    sample_types = {plane.dtype for plane in planes}
    if not sample_types <= {np.dtype(np.float16), np.dtype(np.float32)}:
        raise UnsupportedImageError(
            f"'{file}' stores EXR samples as {sorted(str(t) for t in sample_types)}. Expected half or "
            "float colour channels. Fix: save the image with half or float pixels."
        )
    array = np.stack([plane.astype(np.float32) for plane in planes], axis=-1)
    info = ImageInfo(
        path=str(file),
        format="exr",
        width=width,
        height=height,
        channels=array.shape[2],
        bit_depth=16 if np.dtype(np.float16) in sample_types else 32,
        is_hdr=True,
        had_alpha=had_alpha,
    )
    return array, info


def _to_rgb(
    array: np.ndarray, info: ImageInfo, alpha: AlphaPolicy, background: tuple[float, float, float]
) -> np.ndarray:
    channels = array.shape[2]
    if channels not in (1, 2, 3, 4):
        raise UnsupportedImageError(
            f"'{info.path}' has {channels} channels. Expected 1 (grey), 2 (grey+alpha), 3 (RGB) or "
            "4 (RGBA). Fix: export the colour channels only."
        )
    has_alpha = channels in (2, 4)
    colour = array[..., : channels - 1] if has_alpha else array
    if colour.shape[2] == 1:
        colour = np.repeat(colour, 3, axis=2)
    if not has_alpha or alpha == "ignore":
        return colour
    a = np.clip(array[..., -1:], 0.0, 1.0)
    bg = np.asarray(background, dtype=np.float32)
    if info.is_hdr:
        return colour + (1.0 - a) * bg  # EXR colour is premultiplied (and may be brighter than 1)
    if bg.max() > 1.0:
        raise InvalidArgumentError(
            f"Expected a background between 0 and 1 for '{info.path}' (an sRGB-encoded image with "
            f"transparency), got {tuple(background)}. Fix: the values are fractions of full intensity, not "
            "0-255: 1,1,1 is white."
        )
    return colour * a + (1.0 - a) * bg


def float_pixels(image: np.ndarray, name: str = "image") -> np.ndarray:
    """An image array's values as float32: uint8 and uint16 scaled to [0, 1] (as Pillow and OpenCV give
    8- and 16-bit images), floats as they are.

    Raises:
        InvalidArgumentError: another dtype (a signed or wider integer, bool, ...): its scale is unknown.
    """
    return unit_scaled(image, name).astype(np.float32, copy=False)


def unit_scaled(image: np.ndarray, name: str = "image") -> np.ndarray:
    """:func:`float_pixels` that leaves float arrays in their own precision (float64 stays float64):
    for functions that compute in float64 anyway.

    Raises:
        InvalidArgumentError: as :func:`float_pixels`.
    """
    image = np.asarray(image)
    if image.dtype in (np.uint8, np.uint16):
        return image.astype(np.float32) / float(np.iinfo(image.dtype).max)
    if np.issubdtype(image.dtype, np.floating):
        return image
    raise InvalidArgumentError(
        f"Expected the {name} image as a float array (sRGB values in [0, 1]) or an 8- or 16-bit integer "
        f"one, got dtype {image.dtype}. Fix: pass array.astype(np.float32) / its full-scale value."
    )


def image_array(image: np.ndarray, name: str = "image") -> np.ndarray:
    """An image given as an array, as synthdiff holds images: HxWx3 float32.

    Float arrays are taken as they are (sRGB-encoded in [0, 1] for LDR, linear for HDR); uint8 and uint16
    arrays, as Pillow and OpenCV give them, are scaled to [0, 1]; an HxW array is grey.

    Args:
        image: HxW or HxWx3 array.
        name: what the image is, for the error messages (``reference``, ``test``, ...).

    Raises:
        InvalidArgumentError: another shape, another integer or non-numeric type, or values that are NaN
            or infinite.
    """
    array = float_pixels(image, name)
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] != 3 or array.size == 0:
        raise InvalidArgumentError(f"Expected the {name} image as an HxWx3 array, got shape {image.shape}.")
    bad = int(np.count_nonzero(~np.isfinite(array)))
    if bad:
        raise InvalidArgumentError(
            f"Expected finite values in the {name} array, found {bad} NaN or infinite. Fix: replace them "
            "(np.nan_to_num) or crop them out."
        )
    return array


#: File name endings of the formats :func:`load_image` reads (folders are searched for these).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".avif", ".bmp", ".gif", ".exr", ".hdr")


def list_images(
    folder: str | os.PathLike[str], *, leave_out: Iterable[str | os.PathLike[str]] = ()
) -> list[Path]:
    """The files under ``folder`` (recursively, sorted) whose names end in :data:`IMAGE_SUFFIXES`.

    Hidden files and folders (names starting with ".") are skipped: macOS's ``._photo.jpg`` copies
    hold no image, and ``.ipynb_checkpoints/`` or ``.thumbnails/`` hold copies or previews that would
    count twice. Symbolic links to folders are not followed (a link to a folder above would loop).

    Args:
        folder: the folder to search.
        leave_out: folders inside ``folder`` whose contents are skipped, such as a command's own
            output folder inside its input, which would otherwise read its own reports as input on the
            next run. One that holds ``folder`` itself (or is elsewhere) changes nothing: a folder
            named to be listed is listed.
    """
    top = Path(folder).resolve()
    skipped = [place for place in (Path(item).resolve() for item in leave_out) if place != top]
    skipped = [place for place in skipped if place.is_relative_to(top)]
    found: list[Path] = []
    for root, folders, files in os.walk(folder):
        here = Path(root)
        if skipped and any(here.resolve().is_relative_to(place) for place in skipped):
            folders.clear()
            continue
        folders[:] = [name for name in folders if not name.startswith(".")]
        found.extend(
            here / name
            for name in files
            if not name.startswith(".")
            and Path(name).suffix.lower() in IMAGE_SUFFIXES
            and (here / name).is_file()
        )
    return sorted(found)


def images_in_folder(
    folder: str | os.PathLike[str], *, leave_out: Iterable[str | os.PathLike[str]] = ()
) -> list[Path]:
    """:func:`list_images` of a folder that must exist and hold at least one image.

    Raises:
        InvalidArgumentError: ``folder`` is not a folder, or holds no image files.
    """
    if not Path(folder).is_dir():
        raise InvalidArgumentError(f"Expected a folder of images, but {str(folder)!r} is not a folder.")
    found = list_images(folder, leave_out=leave_out)
    if not found:
        raise InvalidArgumentError(
            f"Expected images ({', '.join(IMAGE_SUFFIXES)}) in {str(folder)!r}, found none."
        )
    return found
