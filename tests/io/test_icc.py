"""Embedded ICC profiles: pixels are read in sRGB, as colour-managed viewers show them."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from synthdiff.io import load_image

from ._png import png_with_chunk

# The profiles scikit-image's own photos carry (its data folder ships with the dev extra).
skimage_data = pytest.importorskip("skimage.data")


def _profile_of(name: str) -> bytes:
    folder = Path(skimage_data.__file__).parent
    with Image.open(folder / name) as image:
        return image.info["icc_profile"]


ADOBE_RGB = _profile_of("rocket.jpg")  # "Adobe RGB (1998)"
SRGB = _profile_of("astronaut.png")  # "sRGB IEC61966-2.1"
DOT_GAIN = _profile_of("page.png")  # "Dot Gain 20%", a grey print profile


def _adobe_rgb_to_srgb(values: np.ndarray) -> np.ndarray:
    """Adobe RGB (1998) to sRGB by the published formulas (both D65): decode, matrices, encode."""
    linear = np.power(values, 563 / 256)
    adobe_to_xyz = np.array(
        [
            [0.5767309, 0.1855540, 0.1881852],
            [0.2973769, 0.6273491, 0.0752741],
            [0.0270343, 0.0706872, 0.9911085],
        ]
    )
    xyz_to_srgb = np.array(
        [
            [3.2404542, -1.5371385, -0.4985314],
            [-0.9692660, 1.8760108, 0.0415560],
            [0.0556434, -0.2040259, 1.0572252],
        ]
    )
    srgb = np.clip(linear @ (xyz_to_srgb @ adobe_to_xyz).T, 0, 1)
    return np.where(srgb <= 0.0031308, 12.92 * srgb, 1.055 * np.power(srgb, 1 / 2.4) - 0.055)


def test_an_adobe_rgb_photo_is_read_in_srgb_as_the_published_formulas_give(tmp_path: Path) -> None:
    values = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    Image.fromarray(values).save(tmp_path / "adobe.png", icc_profile=ADOBE_RGB)
    loaded = load_image(tmp_path / "adobe.png")
    expected = _adobe_rgb_to_srgb(values / 255.0)
    # LittleCMS adapts through D50 and works on 8-bit values: within 2 steps of 255 of the formulas.
    assert np.abs(loaded.pixels - expected).max() < 2.5 / 255
    assert np.abs(values / 255.0 - expected).max() > 30 / 255  # while the stored values are far off
    assert loaded.info.notes == ("ICC profile 'Adobe RGB (1998)' converted to sRGB",)


def test_an_srgb_profile_leaves_the_values_exactly_as_stored(tmp_path: Path) -> None:
    values = np.random.default_rng(1).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    Image.fromarray(values).save(tmp_path / "srgb.png", icc_profile=SRGB)
    loaded = load_image(tmp_path / "srgb.png")
    np.testing.assert_array_equal(loaded.pixels, values / np.float32(255))
    assert loaded.info.notes == ()


def test_alpha_is_kept_and_a_grey_print_profile_gives_grey(tmp_path: Path) -> None:
    rgba = np.random.default_rng(2).integers(0, 256, (6, 6, 4), dtype=np.uint8)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "alpha.png", icc_profile=ADOBE_RGB)
    loaded = load_image(tmp_path / "alpha.png", alpha="ignore")
    assert loaded.info.had_alpha and loaded.info.channels == 4 and "converted to sRGB" in loaded.info.notes[0]
    np.testing.assert_allclose(loaded.pixels, _adobe_rgb_to_srgb(rgba[..., :3] / 255.0), atol=2.5 / 255)
    over_white = load_image(tmp_path / "alpha.png", background=(1.0, 1.0, 1.0))
    expected = loaded.pixels * (rgba[..., 3:] / 255) + (1 - rgba[..., 3:] / 255)
    np.testing.assert_allclose(over_white.pixels, expected, atol=1e-5)  # the stored alpha, unchanged

    grey = np.tile(np.arange(0, 256, 17, dtype=np.uint8), (4, 1))
    Image.fromarray(grey, "L").save(tmp_path / "grey.png", icc_profile=DOT_GAIN)
    read = load_image(tmp_path / "grey.png")
    assert read.info.notes == ("ICC profile 'Dot Gain 20%' converted to sRGB",)
    assert read.info.channels == 1 and not read.info.had_alpha  # what the file stores, not the RGB result
    np.testing.assert_array_equal(read.pixels[..., 0], read.pixels[..., 2])  # still grey
    # Black and paper white stay put; the tones between are moved (each by its own amount), in order.
    shown = read.pixels[0, :, 0]
    assert shown[0] == 0 and shown[-1] == 1 and (np.diff(shown) > 0).all()
    assert np.abs(shown - grey[0] / 255).max() > 0.05
    with_alpha = np.stack([grey, np.full_like(grey, 128)], axis=-1)
    Image.fromarray(with_alpha, "LA").save(tmp_path / "grey-alpha.png", icc_profile=DOT_GAIN)
    read_alpha = load_image(tmp_path / "grey-alpha.png", alpha="ignore")
    assert read_alpha.info.channels == 2 and read_alpha.info.had_alpha
    np.testing.assert_array_equal(read_alpha.pixels, read.pixels)  # the same conversion, alpha apart


def test_profiles_that_cannot_be_applied_are_noted_and_the_values_kept(tmp_path: Path) -> None:
    values = np.random.default_rng(3).integers(0, 256, (5, 5, 3), dtype=np.uint8)
    Image.fromarray(values).save(tmp_path / "garbled.png", icc_profile=b"not a profile" * 20)
    garbled = load_image(tmp_path / "garbled.png")
    np.testing.assert_array_equal(garbled.pixels, values / np.float32(255))
    assert garbled.info.notes == ("an unreadable ICC profile is embedded: its values are read as sRGB",)

    Image.fromarray(values[..., 0], "L").save(tmp_path / "mismatch.png", icc_profile=ADOBE_RGB)
    mismatch = load_image(tmp_path / "mismatch.png")
    np.testing.assert_array_equal(mismatch.pixels[..., 0], values[..., 0] / np.float32(255))
    assert mismatch.info.notes == (
        "ICC profile 'Adobe RGB (1998)' describes RGB colours, not L: ignored, values read as sRGB",
    )


def _iccp(name: bytes, profile: bytes) -> bytes:
    return name + b"\x00\x00" + zlib.compress(profile)  # name, compression method 0, profile


def test_sixteen_bit_colour_with_a_wide_gamut_profile_is_read_in_srgb(tmp_path: Path) -> None:
    # Until 2026-12-07 16-bit pixels kept their Adobe RGB values, with a note saying so.
    values = np.random.default_rng(4).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    png_with_chunk(
        tmp_path / "wide16.png", values.astype(np.uint16) * 257, b"iCCP", _iccp(b"Adobe RGB", ADOBE_RGB)
    )
    loaded = load_image(tmp_path / "wide16.png")
    assert loaded.info.bit_depth == 16 and loaded.info.channels == 3
    assert loaded.info.notes == ("ICC profile 'Adobe RGB (1998)' converted to sRGB",)
    assert np.abs(loaded.pixels - _adobe_rgb_to_srgb(values / 255.0)).max() < 2.5 / 255  # as 8-bit pixels
    Image.fromarray(values).save(tmp_path / "wide8.png", icc_profile=ADOBE_RGB)
    eight_bit = load_image(tmp_path / "wide8.png").pixels
    # LittleCMS's own 8-bit result, up to its rounding.
    assert np.abs(loaded.pixels - eight_bit).max() < 1 / 255

    # The 16-bit gradations survive: a fine ramp keeps every step, in order (8-bit would leave 26).
    ramp = np.linspace(20000, 30000, 1001).round().astype(np.uint16)
    ramp_image = np.stack([ramp, ramp // 2, ramp // 3], axis=-1)[None]
    png_with_chunk(tmp_path / "ramp16.png", ramp_image, b"iCCP", _iccp(b"Adobe RGB", ADOBE_RGB))
    red = load_image(tmp_path / "ramp16.png").pixels[0, :, 0]
    assert (np.diff(red) > 0).all()

    srgb = values.astype(np.uint16) * 257
    png_with_chunk(tmp_path / "srgb16.png", srgb, b"iCCP", _iccp(b"sRGB", SRGB))
    kept = load_image(tmp_path / "srgb16.png")
    assert kept.info.notes == ()
    np.testing.assert_allclose(kept.pixels, srgb / 65535.0, atol=1e-7)  # exactly as stored


def test_sixteen_bit_grey_and_alpha_with_a_profile(tmp_path: Path) -> None:
    grey = np.tile(np.arange(0, 256, 17, dtype=np.uint16) * 257, (4, 1))
    png_with_chunk(tmp_path / "grey16.png", grey[..., None], b"iCCP", _iccp(b"Dot Gain", DOT_GAIN))
    read = load_image(tmp_path / "grey16.png")
    assert read.info.bit_depth == 16 and read.info.channels == 1
    assert read.info.notes == ("ICC profile 'Dot Gain 20%' converted to sRGB",)
    Image.fromarray((grey // 257).astype(np.uint8), "L").save(tmp_path / "grey8.png", icc_profile=DOT_GAIN)
    # LittleCMS rounds its 8-bit result; the 16-bit one is not rounded.
    np.testing.assert_allclose(read.pixels, load_image(tmp_path / "grey8.png").pixels, atol=0.5 / 255)

    rgba = np.random.default_rng(5).integers(0, 65536, (6, 6, 4), dtype=np.uint16)
    # png_with_chunk reverses the channels for OpenCV, which wants BGRA: given ARGB, it writes RGBA.
    png_with_chunk(tmp_path / "alpha16.png", rgba[..., [3, 0, 1, 2]], b"iCCP", _iccp(b"Adobe RGB", ADOBE_RGB))
    loaded = load_image(tmp_path / "alpha16.png", alpha="ignore")
    assert (
        loaded.info.had_alpha and loaded.info.notes[0] == "ICC profile 'Adobe RGB (1998)' converted to sRGB"
    )
    np.testing.assert_allclose(loaded.pixels, _adobe_rgb_to_srgb(rgba[..., :3] / 65535.0), atol=2.5 / 255)
    over_white = load_image(tmp_path / "alpha16.png", background=(1.0, 1.0, 1.0))
    alpha = rgba[..., 3:] / 65535.0
    np.testing.assert_allclose(over_white.pixels, loaded.pixels * alpha + (1 - alpha), atol=1e-5)


def _with_tags(profile: bytes, replaced: dict[bytes, bytes]) -> bytes:
    """``profile`` with some tags' data replaced: the new data appended, their table entries pointed at it."""
    data = bytearray(profile)
    count = int.from_bytes(data[128:132], "big")
    for index in range(count):
        entry = 132 + 12 * index
        signature = bytes(data[entry : entry + 4])
        if signature in replaced:
            while len(data) % 4:
                data.append(0)
            tag = replaced[signature]
            data[entry + 4 : entry + 12] = len(data).to_bytes(4, "big") + len(tag).to_bytes(4, "big")
            data.extend(tag)
    data[0:4] = len(data).to_bytes(4, "big")
    return bytes(data)


def _parametric(function: int, *parameters: float) -> bytes:
    fixed = b"".join(round(value * 65536).to_bytes(4, "big", signed=True) for value in parameters)
    return b"para\x00\x00\x00\x00" + function.to_bytes(2, "big") + b"\x00\x00" + fixed


_SRGB_CURVE = (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045)
_TABLE = np.round(65535 * np.linspace(0, 1, 33) ** 1.8).astype(">u2")


@pytest.mark.parametrize(
    "curve",
    [
        _parametric(0, 1.8),
        _parametric(1, 2.2, 1.1, -0.1),
        _parametric(2, 2.2, 1.1, -0.1, 0.05),
        _parametric(3, *_SRGB_CURVE),  # sRGB's own curve, as Display P3 profiles have it
        _parametric(4, *_SRGB_CURVE, 0.02, 0.01),
        b"curv\x00\x00\x00\x00" + (33).to_bytes(4, "big") + _TABLE.tobytes(),
        b"curv\x00\x00\x00\x00" + (0).to_bytes(4, "big"),
    ],
    ids=["para0", "para1", "para2", "para3", "para4", "table", "identity"],
)
def test_every_kind_of_tone_curve_gives_what_littlecms_gives(tmp_path: Path, curve: bytes) -> None:
    # Adobe RGB's primaries with another tone curve: each ICC curve type, read here and by LittleCMS.
    profile = _with_tags(ADOBE_RGB, {b"rTRC": curve, b"gTRC": curve, b"bTRC": curve})
    values = np.random.default_rng(6).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    png_with_chunk(tmp_path / "16.png", values.astype(np.uint16) * 257, b"iCCP", _iccp(b"test", profile))
    Image.fromarray(values).save(tmp_path / "8.png", icc_profile=profile)
    sixteen, eight = load_image(tmp_path / "16.png"), load_image(tmp_path / "8.png")
    assert sixteen.info.notes == eight.info.notes == ("ICC profile 'Adobe RGB (1998)' converted to sRGB",)
    assert np.abs(sixteen.pixels - eight.pixels).max() < 1 / 255


def test_a_lookup_table_profile_keeps_sixteen_bit_values_with_a_note(tmp_path: Path) -> None:
    values = np.random.default_rng(7).integers(0, 65536, (4, 4, 3), dtype=np.uint16)
    # A2B0 present: LittleCMS would convert through its tables, which synthdiff does not read.
    table_profile = _with_tags(ADOBE_RGB, {b"cprt": b""}).replace(b"cprt", b"A2B0", 1)
    png_with_chunk(tmp_path / "lut.png", values, b"iCCP", _iccp(b"lut", table_profile))
    loaded = load_image(tmp_path / "lut.png")
    np.testing.assert_allclose(loaded.pixels, values / 65535.0, atol=1e-7)
    assert loaded.info.notes == (
        "ICC profile 'Adobe RGB (1998)' is a lookup-table profile, applied to 8-bit pixels only: these "
        "16-bit values are read as sRGB",
    )


def test_one_photo_saved_in_two_colour_spaces_compares_as_the_same(tmp_path: Path) -> None:
    # Before profiles were applied: MAE 0.022, SSIM 0.934 and 5 regions "that differ" for this pair.
    import io

    from PIL import ImageCms

    import synthdiff

    with Image.open(Path(skimage_data.__file__).parent / "rocket.jpg") as photo:
        photo.save(tmp_path / "adobe.png", icc_profile=ADOBE_RGB)
        adobe, srgb = ImageCms.ImageCmsProfile(io.BytesIO(ADOBE_RGB)), ImageCms.createProfile("sRGB")
        intent = ImageCms.Intent.RELATIVE_COLORIMETRIC
        converted = ImageCms.profileToProfile(photo, adobe, srgb, renderingIntent=intent)
    assert converted is not None
    converted.save(tmp_path / "srgb.png")  # no profile: sRGB by convention
    result = synthdiff.compare(tmp_path / "srgb.png", tmp_path / "adobe.png", fast=True)
    assert result.metrics["mae"] < 1e-6 and result.metrics["ssim"] > 0.9999 and result.regions == []
