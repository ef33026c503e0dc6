"""Embedded ICC colour profiles: pixels are brought to sRGB, as a colour-managed viewer shows them.

A photo from a camera or phone is often stored in Adobe RGB or Display P3. Read as if it were sRGB, its
colours are off (scikit-image's Adobe RGB ``rocket.jpg`` differs from its converted self by up to 55 of
255), so a pair of one photo saved in two colour spaces would differ everywhere, and a set of such photos
would sit apart from renders for the wrong reason. LittleCMS (inside Pillow) converts with the relative
colorimetric intent: colours inside sRGB keep their appearance, those outside are clipped. It converts
8-bit pixels only; ``high_depth_to_srgb`` does the same for 16-bit ones in floating point.
"""

from __future__ import annotations

import functools
import io
import struct
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageCms

__all__ = ["describe_profile", "high_depth_to_srgb", "to_srgb", "unapplied_profile_note"]

# 16-bit pixels converted at a time, so that a 24-megapixel photo's copies are never all in memory.
_CHUNK = 1 << 20

# The colour space a profile must describe for each Pillow mode converted.
# (CMYK is left to Pillow's own conversion: no press profile was at hand to test one.)
_COLOUR_SPACE = {"RGB": "RGB", "RGBA": "RGB", "L": "GRAY", "LA": "GRAY"}


@functools.lru_cache(maxsize=16)
def _profile(icc: bytes) -> ImageCms.ImageCmsProfile | None:
    try:
        return ImageCms.ImageCmsProfile(io.BytesIO(icc))
    except (OSError, ImageCms.PyCMSError):
        return None


def describe_profile(icc: bytes) -> str:
    """The profile's own name ("Adobe RGB (1998)"), or a note that it cannot be read."""
    profile = _profile(icc)
    if profile is None:
        return "an unreadable ICC profile"
    name = " ".join((profile.profile.profile_description or "").split())
    return f"ICC profile {name!r}" if name else "an unnamed ICC profile"


@functools.lru_cache(maxsize=16)
def _transform(icc: bytes, colour_mode: str) -> ImageCms.ImageCmsTransform | None:
    """The conversion to sRGB, or None when the profile is sRGB itself (within one step of 255)."""
    profile = _profile(icc)
    transform = ImageCms.buildTransform(
        profile,  # type: ignore[arg-type]
        ImageCms.createProfile("sRGB"),
        colour_mode,
        "RGB",
        renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
    )
    # Most files carry an sRGB profile: leave their values exactly as stored. Checked on a lattice of
    # colours rather than by name, since every maker names (and slightly re-encodes) sRGB its own way.
    levels = np.linspace(0, 255, 16).round().astype(np.uint8)
    channels = 3 if colour_mode == "RGB" else 1
    lattice = np.stack(np.meshgrid(*[levels] * channels, indexing="ij"), axis=-1).reshape(1, -1, channels)
    sample = Image.fromarray(lattice[..., 0] if channels == 1 else lattice, colour_mode)
    converted = np.asarray(ImageCms.applyTransform(sample, transform), dtype=np.int16)
    plain = np.asarray(sample.convert("RGB"), dtype=np.int16)
    return None if np.abs(converted - plain).max() <= 1 else transform


def _checked(icc: bytes, mode: str) -> tuple[ImageCms.ImageCmsTransform | None, str | None]:
    """The transform to apply (None: none needed or possible) and a note when one is needed."""
    described = describe_profile(icc)
    profile = _profile(icc)
    if profile is None:
        return None, f"{described} is embedded: its values are read as sRGB"
    space = profile.profile.xcolor_space.strip()
    if space != _COLOUR_SPACE[mode]:
        return None, f"{described} describes {space} colours, not {mode}: ignored, values read as sRGB"
    try:
        transform = _transform(icc, mode.removesuffix("A"))
    except ImageCms.PyCMSError as error:
        return None, f"{described} cannot be applied ({error}): values read as sRGB"
    return transform, None if transform is None else f"{described} converted to sRGB"


def unapplied_profile_note(icc: bytes | None, channels: int) -> str | None:
    """For pixels synthdiff does not convert (float): a note when their profile is not sRGB."""
    if not icc:
        return None
    transform, note = _checked(icc, "L" if channels in (1, 2) else "RGB")
    if transform is None:
        return note
    return f"{describe_profile(icc)} is embedded but not applied to float pixels: values read as sRGB"


def _tags(icc: bytes) -> dict[bytes, bytes]:
    """The profile's tags by signature (ICC.1 section 7.3: a count, then signature, offset and size)."""
    count = struct.unpack_from(">I", icc, 128)[0]
    tags = {}
    for index in range(count):
        signature, offset, size = struct.unpack_from(">4sII", icc, 132 + 12 * index)
        if offset + size > len(icc):
            raise ValueError(f"tag {signature!r} runs past the end of the profile")
        tags[signature] = icc[offset : offset + size]
    return tags


ToneCurve = Callable[[np.ndarray], np.ndarray]


def _tone_curve(data: bytes) -> ToneCurve:
    """A TRC tag as a function from stored values to linear ones, both in [0, 1] (ICC.1 10.6, 10.18)."""
    kind = data[:4]
    if kind == b"curv":
        (points,) = struct.unpack_from(">I", data, 8)
        if points == 0:
            return lambda x: x
        if points == 1:
            gamma = struct.unpack_from(">H", data, 12)[0] / 256.0
            return lambda x: np.power(x, gamma)
        table = np.frombuffer(data, dtype=">u2", count=points, offset=12).astype(np.float64) / 65535.0
        grid = np.linspace(0.0, 1.0, points)
        return lambda x: np.interp(x, grid, table)
    if kind == b"para":
        (function,) = struct.unpack_from(">H", data, 8)
        if function not in _PARAMETERS:
            raise ValueError(f"unknown parametric curve type {function}")
        count = _PARAMETERS[function]
        values = [value / 65536.0 for value in struct.unpack_from(f">{count}i", data, 12)] + [0.0] * (
            7 - count
        )
        g, a, b, c, d, e, f = values
        # Every type as type 4, (aX + b)^g + e from X = d and cX + f below it (3: e = f = 0).
        if function == 0:  # X^g
            a, d = 1.0, 0.0
        elif function in (1, 2):  # (aX + b)^g (+ c) from X = -b/a, and 0 (or c) below
            offset = c if function == 2 else 0.0
            c, d, e, f = 0.0, -b / a, offset, offset
        return lambda x: np.where(x >= d, np.power(np.maximum(a * x + b, 0.0), g) + e, c * x + f)
    raise ValueError(f"a tone curve of type {kind!r}")


_PARAMETERS = {0: 1, 1: 3, 2: 4, 3: 5, 4: 7}  # parameters of each parametric curve type


@functools.lru_cache(maxsize=16)
def _shaper(icc: bytes, colour_mode: str) -> tuple[np.ndarray, np.ndarray] | None:
    """A matrix/TRC profile's conversion to linear sRGB: its tone curves at every 16-bit value (one row
    per channel), then a 3x3 matrix (for grey, one curve, grey staying grey). None for a profile
    converted by lookup tables (A2B tags), which LittleCMS prefers when present."""
    tags = _tags(icc)
    if {b"A2B0", b"A2B1"} & tags.keys():
        return None
    if colour_mode == "L":
        return np.ones((3, 1), dtype=np.float32), _tabulated([tags[b"kTRC"]])
    curves = _tabulated([tags[name] for name in (b"rTRC", b"gTRC", b"bTRC")])
    profile = _profile(icc)
    assert profile is not None  # read before any conversion was chosen
    # Each profile's primaries in the connection space (D50 XYZ), as LittleCMS joins them.
    primaries = []
    for colours in (profile.profile, ImageCms.createProfile("sRGB")):
        columns = (colours.red_colorant, colours.green_colorant, colours.blue_colorant)
        if any(column is None for column in columns):
            raise ValueError("the profile has no primaries (rXYZ, gXYZ, bXYZ)")
        primaries.append(
            np.array([column[0] for column in columns if column is not None], dtype=np.float64).T
        )
    to_xyz, srgb_to_xyz = primaries
    return np.linalg.solve(srgb_to_xyz, to_xyz).astype(np.float32), curves


def _tabulated(curves: list[bytes]) -> np.ndarray:
    """Tone curves at every 16-bit value: a lookup per pixel instead of a power."""
    every_value = np.arange(65536, dtype=np.float64) / 65535.0
    return np.stack([_tone_curve(curve)(every_value) for curve in curves]).astype(np.float32)


def _srgb_encode(linear: np.ndarray) -> np.ndarray:
    return np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * np.power(linear, 1 / 2.4) - 0.055)


def high_depth_to_srgb(colours: np.ndarray, icc: bytes | None) -> tuple[np.ndarray, str | None]:
    """Convert 16-bit pixels with an embedded profile to sRGB.

    LittleCMS, as Pillow exposes it, converts 8-bit pixels only. For a matrix/TRC profile (Adobe RGB,
    Display P3, ProPhoto and most camera and monitor profiles) the same conversion is computed here in
    floating point: the profile's tone curves, its primaries to sRGB's through D50 XYZ (the relative
    colorimetric intent, clipped to sRGB), sRGB's curve. At 8-bit colours it is within 1 step of 255 of
    LittleCMS's 8-bit result (tests/io/test_icc.py), and it keeps the 16-bit gradations. A profile of
    lookup tables is not converted (a note says so).

    Args:
        colours: HxWx1 (grey) or HxWx3 (RGB) float32 in [0, 1], encoded as stored (16-bit values
            divided by 65535), without alpha.
        icc: the embedded profile's bytes, or None.

    Returns:
        The colours in sRGB (HxWx3 when converted, a grey image included; unchanged otherwise) and a note
        for ``info.notes`` saying what was done, or None when nothing was.
    """
    if not icc:
        return colours, None
    mode = "RGB" if colours.shape[2] == 3 else "L"
    transform, note = _checked(icc, mode)
    if transform is None:
        return colours, note
    try:
        shaper = _shaper(icc, mode)
    except (struct.error, ValueError, KeyError, ZeroDivisionError, np.linalg.LinAlgError) as error:
        return (
            colours,
            f"{describe_profile(icc)} cannot be applied to 16-bit pixels ({error!r}): values read as sRGB",
        )
    if shaper is None:
        return colours, (
            f"{describe_profile(icc)} is a lookup-table profile, applied to 8-bit pixels only: these 16-bit "
            "values are read as sRGB"
        )
    matrix, curves = shaper
    flat = colours.reshape(-1, colours.shape[2])
    converted = np.empty((flat.shape[0], 3), dtype=np.float32)
    for start in range(0, flat.shape[0], _CHUNK):
        stored = np.rint(np.clip(flat[start : start + _CHUNK], 0.0, 1.0) * 65535.0).astype(np.intp)
        linear = np.stack([curve[stored[:, k]] for k, curve in enumerate(curves)], axis=-1) @ matrix.T
        converted[start : start + _CHUNK] = _srgb_encode(np.clip(linear, 0.0, 1.0))
    return converted.reshape(*colours.shape[:2], 3), note


def to_srgb(image: Image.Image, icc: bytes | None) -> tuple[Image.Image, str | None]:
    """Convert an 8-bit Pillow image with an embedded profile to sRGB.

    Args:
        image: an image in mode RGB, RGBA, L or LA (other modes are returned unchanged).
        icc: the embedded profile's bytes (``image.info["icc_profile"]``), or None.

    Returns:
        The image in sRGB (RGB or RGBA; a grey image becomes RGB when its profile is not sRGB's
        tone curve) and a note for ``info.notes`` saying what was done, or None when nothing was.
    """
    if not icc or image.mode not in _COLOUR_SPACE:
        return image, None
    transform, note = _checked(icc, image.mode)
    if transform is None:
        return image, note
    alpha = image.getchannel("A") if image.mode in ("RGBA", "LA") else None
    colours = image.convert(image.mode.removesuffix("A")) if alpha is not None else image
    converted = ImageCms.applyTransform(colours, transform)
    assert converted is not None  # applyTransform returns None only when converting in place
    if alpha is not None:
        converted.putalpha(alpha)
    return converted, note
