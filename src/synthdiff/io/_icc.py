"""Embedded ICC colour profiles: pixels are brought to sRGB, as a colour-managed viewer shows them.

A photo from a camera or phone is often stored in Adobe RGB or Display P3. Read as if it were sRGB, its
colours are off (scikit-image's Adobe RGB ``rocket.jpg`` differs from its converted self by up to 55 of
255), so a pair of one photo saved in two colour spaces would differ everywhere, and a set of such photos
would sit apart from renders for the wrong reason. LittleCMS (inside Pillow) converts with the relative
colorimetric intent: colours inside sRGB keep their appearance, those outside are clipped.
"""

from __future__ import annotations

import functools
import io

import numpy as np
from PIL import Image, ImageCms

__all__ = ["describe_profile", "to_srgb", "unapplied_profile_note"]

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
    """For pixels synthdiff does not convert (16-bit, float): a note when their profile is not sRGB."""
    if not icc:
        return None
    transform, note = _checked(icc, "L" if channels in (1, 2) else "RGB")
    if transform is None:
        return note
    return (
        f"{describe_profile(icc)} is embedded but not applied to 16-bit or float pixels: values read as sRGB"
    )


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
