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


def test_sixteen_bit_colour_with_a_wide_gamut_profile_says_it_was_not_converted(tmp_path: Path) -> None:
    array = np.random.default_rng(4).integers(0, 65536, (6, 6, 3), dtype=np.uint16)
    iccp = b"Adobe RGB\x00\x00" + zlib.compress(ADOBE_RGB)  # name, compression method 0, profile
    png_with_chunk(tmp_path / "wide16.png", array, b"iCCP", iccp)
    loaded = load_image(tmp_path / "wide16.png")
    assert loaded.info.bit_depth == 16
    np.testing.assert_allclose(loaded.pixels, array / 65535.0, atol=1e-7)
    assert loaded.info.notes == (
        "ICC profile 'Adobe RGB (1998)' is embedded but not applied to 16-bit or float pixels: "
        "values read as sRGB",
    )
    png_with_chunk(tmp_path / "srgb16.png", array, b"iCCP", b"sRGB\x00\x00" + zlib.compress(SRGB))
    assert load_image(tmp_path / "srgb16.png").info.notes == ()


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
