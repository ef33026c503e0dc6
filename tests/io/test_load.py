"""Image loading: formats, bit depths, alpha policy, orientation, and every error path."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile
from PIL import Image, ImageOps

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
from synthdiff.io import images_in_folder, list_images, load_image, pair_notes, save_exr, sniff_format

from ._png import png_with_chunk


@pytest.fixture
def rgb8(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)


def test_png_8bit_round_trip(tmp_path: Path, rgb8: np.ndarray) -> None:
    Image.fromarray(rgb8).save(tmp_path / "a.png")
    image = load_image(tmp_path / "a.png")
    assert image.pixels.dtype == np.float32 and image.pixels.shape == (12, 16, 3)
    np.testing.assert_allclose(image.pixels, rgb8 / 255.0, atol=1e-7)
    assert image.info.format == "png" and image.info.bit_depth == 8 and not image.info.is_hdr


def test_png_16bit_keeps_all_bits(tmp_path: Path, rng: np.random.Generator) -> None:
    values = rng.integers(0, 65536, (10, 11, 3), dtype=np.uint16)
    cv2.imwrite(str(tmp_path / "a.png"), values[..., ::-1])
    image = load_image(tmp_path / "a.png")
    assert image.info.bit_depth == 16
    np.testing.assert_allclose(image.pixels, values / 65535.0, atol=1e-7)


def test_png_16bit_grey(tmp_path: Path, rng: np.random.Generator) -> None:
    values = rng.integers(0, 65536, (9, 7), dtype=np.uint16)
    cv2.imwrite(str(tmp_path / "g.png"), values)
    image = load_image(tmp_path / "g.png")
    assert image.info.bit_depth == 16 and image.pixels.shape == (9, 7, 3)
    np.testing.assert_allclose(image.pixels[..., 1], values / 65535.0, atol=1e-7)


@pytest.mark.parametrize("grey", [False, True])
def test_png_16bit_holding_unscaled_8bit_data_is_noted(
    tmp_path: Path, rng: np.random.Generator, grey: bool
) -> None:
    # 8-bit values written with astype(uint16), as a script converting to 16 bits without * 257 does.
    values = rng.integers(0, 256, (9, 7) if grey else (9, 7, 3), dtype=np.uint8).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "u.png"), values if grey else values[..., ::-1])
    image = load_image(tmp_path / "u.png")
    first = values if grey else values[..., 0]
    np.testing.assert_allclose(image.pixels[..., 0], first / 65535.0, atol=1e-7)
    assert [note for note in image.info.notes if "without scaling" in note] == [
        f"a 16-bit image whose samples never exceed {values.max()} of 65535: it shows almost black, and is "
        "probably 8-bit data saved as 16-bit without scaling (astype(uint16) where x * 257 was meant). "
        "Fix: re-save it scaled, or as 8-bit"
    ]


@pytest.mark.parametrize("brightest", [0, 256, 65535])
def test_png_16bit_using_its_range_is_not_noted(tmp_path: Path, brightest: int) -> None:
    values = np.zeros((9, 7, 3), dtype=np.uint16)
    values[4, 3, 1] = brightest  # all black (nothing to say), or one sample above what 8 bits hold
    cv2.imwrite(str(tmp_path / "s.png"), values)
    assert load_image(tmp_path / "s.png").info.notes == ()


def test_alpha_composited_on_background(tmp_path: Path) -> None:
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)
    rgba[..., 0] = 255
    rgba[..., 3] = 128  # half-transparent red
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    black = load_image(tmp_path / "a.png")
    white = load_image(tmp_path / "a.png", background=(1.0, 1.0, 1.0))
    ignored = load_image(tmp_path / "a.png", alpha="ignore")
    a = 128 / 255
    np.testing.assert_allclose(black.pixels[0, 0], [a, 0, 0], atol=1e-6)
    np.testing.assert_allclose(white.pixels[0, 0], [1.0, 1 - a, 1 - a], atol=1e-6)
    np.testing.assert_allclose(ignored.pixels[0, 0], [1.0, 0.0, 0.0], atol=1e-6)
    assert black.info.had_alpha
    # 0-255 values for white: every transparent pixel would have been composited far above white.
    with pytest.raises(
        InvalidArgumentError, match=r"between 0 and 1 .* got \(255, 255, 255\).*1,1,1 is white"
    ):
        load_image(tmp_path / "a.png", background=(255, 255, 255))
    with pytest.raises(InvalidArgumentError, match="none negative"):
        load_image(tmp_path / "a.png", background=(-0.1, 0.0, 0.0))


def test_transparent_pixels_are_counted_and_noted(tmp_path: Path) -> None:
    rgba = np.full((4, 5, 4), 255, dtype=np.uint8)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "opaque.png")
    rgba[0, :2, 3] = 0  # two of twenty pixels clear
    Image.fromarray(rgba, "RGBA").save(tmp_path / "cut.png")
    opaque = load_image(tmp_path / "opaque.png")
    assert opaque.info.had_alpha and opaque.info.transparent_fraction == 0.0 and opaque.info.notes == ()
    cut = load_image(tmp_path / "cut.png", background=(1.0, 1.0, 1.0))
    assert cut.info.transparent_fraction == pytest.approx(0.1)
    assert cut.info.notes == (
        "10.0 % of pixels transparent or partly so (alpha under 1): composited over the background "
        "(1.0, 1.0, 1.0)",
    )
    assert load_image(tmp_path / "cut.png", alpha="ignore").info.notes[0].endswith("alpha ignored")
    assert cut.info.to_dict()["transparent_fraction"] == pytest.approx(0.1)


def test_gif_first_frame_palette_and_transparency(tmp_path: Path, rng: np.random.Generator) -> None:
    frames = [Image.fromarray(rng.integers(0, 256, (12, 10, 3), dtype=np.uint8)) for _ in range(3)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100)
    animated = load_image(tmp_path / "anim.gif")
    with Image.open(tmp_path / "anim.gif") as first:  # the first frame, as Pillow decodes it
        expected = np.asarray(first.convert("RGB"), dtype=np.float32) / 255
    np.testing.assert_allclose(animated.pixels, expected, atol=1e-6)
    assert animated.info.format == "gif" and animated.info.notes[0] == (
        "the GIF file holds 3 frames (an animation or pages): the first was read"
    )
    with Image.open(tmp_path / "anim.gif") as first:
        used = len(first.getcolors(256) or ())
    assert used and animated.info.notes[1] == (
        f"indexed colour: the file holds at most 256 colours ({used} used), so any others the picture had "
        "were reduced when it was saved, often with dithering (a noise pattern)"
    )
    rgba = np.zeros((4, 6, 4), np.uint8)
    rgba[..., 0], rgba[2:, :, 3] = 200, 255  # the top half clear
    Image.fromarray(rgba, "RGBA").save(tmp_path / "clear.gif")
    clear = load_image(tmp_path / "clear.gif")
    assert clear.info.transparent_fraction == 0.5 and clear.info.had_alpha
    np.testing.assert_allclose(clear.pixels[0, 0], [0, 0, 0])  # over the black background
    np.testing.assert_allclose(clear.pixels[3, 0], [200 / 255, 0, 0], atol=1e-6)
    assert [p.name for p in list_images(tmp_path)] == ["anim.gif", "clear.gif"]
    # A palette PNG of two colours says so; a full-colour PNG has no such note.
    two = rgba[..., :3].copy()
    two[:, :3, 1] = 255
    Image.fromarray(two).convert("P").save(tmp_path / "two.png")
    assert "(2 used)" in load_image(tmp_path / "two.png").info.notes[0]
    Image.fromarray(rgba[..., :3]).save(tmp_path / "full.png")
    assert load_image(tmp_path / "full.png").info.notes == ()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_turns_the_pixels_as_pillow_does(tmp_path: Path, orientation: int) -> None:
    array = np.random.default_rng(orientation).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    image = Image.fromarray(array)
    exif = image.getexif()
    exif[0x0112] = orientation
    image.save(tmp_path / "o.png", exif=exif)
    with Image.open(tmp_path / "o.png") as opened:
        shown = ImageOps.exif_transpose(opened)
    loaded = load_image(tmp_path / "o.png")
    np.testing.assert_array_equal(loaded.pixels, np.asarray(shown, dtype=np.float32) / 255)
    assert (loaded.info.width, loaded.info.height) == shown.size
    applied = [note for note in loaded.info.notes if "orientation" in note]
    assert applied == ([] if orientation == 1 else [f"EXIF orientation {orientation} applied"])


def _png_with_exif_orientation(path: Path, array: np.ndarray, orientation: int) -> None:
    """A PNG (16-bit here, which Pillow cannot write in colour) with an eXIf chunk."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    png_with_chunk(path, array, b"eXIf", exif.tobytes()[6:])  # without the "Exif\0\0" JPEG puts first


@pytest.mark.parametrize(
    ("suffix", "dtype"),
    [
        ("png", np.uint8),
        ("webp", np.uint8),
        ("avif", np.uint8),
        ("tiff", np.uint8),
        ("png", np.uint16),
        ("tiff", np.uint16),
    ],
)
def test_exif_orientation_applied_in_every_format(tmp_path: Path, suffix: str, dtype: type) -> None:
    # A photo exported to PNG or WebP keeps its tag, and 16-bit colour files are read by OpenCV, which
    # ignores it: each was read unturned, unlike JPEG (and 8-bit TIFF, which Pillow turns itself).
    array = np.zeros((20, 40, 3), dtype=dtype)
    array[:, :20] = np.iinfo(dtype).max  # left half white
    path = tmp_path / f"r.{suffix}"
    if suffix == "png" and dtype == np.uint16:
        _png_with_exif_orientation(path, array, 6)
    elif suffix == "tiff" and dtype == np.uint16:
        tifffile.imwrite(path, array, photometric="rgb", extratags=[(0x0112, "H", 1, 6, True)])
    else:
        image = Image.fromarray(array)
        exif = image.getexif()
        exif[0x0112] = 6  # rotate 90 degrees clockwise for display
        image.save(path, exif=exif, **({"lossless": True} if suffix == "webp" else {}))
    loaded = load_image(path)
    assert loaded.pixels.shape == (40, 20, 3) and (loaded.info.width, loaded.info.height) == (20, 40)
    assert loaded.pixels[:15].mean() > 0.9 and loaded.pixels[25:].mean() < 0.1  # white is now on top
    assert loaded.info.bit_depth == (16 if dtype == np.uint16 else 8)
    assert "EXIF orientation 6 applied" in loaded.info.notes


def test_damaged_exif_data_does_not_make_an_image_unreadable(tmp_path: Path) -> None:
    # Reading the orientation of every format made a PNG with a damaged eXIf chunk "corrupt".
    array = np.random.default_rng(3).integers(0, 256, (6, 8, 3), dtype=np.uint8)
    png_with_chunk(tmp_path / "odd.png", array, b"eXIf", b"\x00\x01\x02")
    loaded = load_image(tmp_path / "odd.png")
    np.testing.assert_array_equal(loaded.pixels, array / np.float32(255))
    assert len(loaded.info.notes) == 1 and loaded.info.notes[0].startswith("its EXIF data cannot be read")


def test_an_invalid_exif_orientation_is_noted_and_ignored(tmp_path: Path) -> None:
    image = Image.fromarray(np.zeros((4, 6, 3), np.uint8))
    exif = image.getexif()
    exif[0x0112] = 9
    image.save(tmp_path / "odd.jpg", exif=exif)
    loaded = load_image(tmp_path / "odd.jpg")
    assert loaded.pixels.shape == (4, 6, 3)
    assert "EXIF orientation 9 is not a valid value (1-8): ignored" in loaded.info.notes


def test_jpeg_exif_orientation_applied(tmp_path: Path) -> None:
    array = np.zeros((20, 40, 3), dtype=np.uint8)
    array[:, :20] = 255  # left half white
    image = Image.fromarray(array)
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise for display
    image.save(tmp_path / "r.jpg", exif=exif, quality=95)
    loaded = load_image(tmp_path / "r.jpg")
    assert loaded.pixels.shape == (40, 20, 3)
    assert loaded.pixels[:15].mean() > 0.9 and loaded.pixels[25:].mean() < 0.1  # white is now on top
    assert any("orientation" in note for note in loaded.info.notes)


@pytest.mark.parametrize("suffix, fmt", [(".tif", "tiff"), (".webp", "webp"), (".bmp", "bmp")])
def test_tiff_and_webp(tmp_path: Path, rgb8: np.ndarray, suffix: str, fmt: str) -> None:
    Image.fromarray(rgb8).save(tmp_path / f"a{suffix}", lossless=True)
    image = load_image(tmp_path / f"a{suffix}")
    assert image.info.format == fmt
    np.testing.assert_allclose(image.pixels, rgb8 / 255.0, atol=1e-7)


def test_avif_is_read_and_heic_named(tmp_path: Path, rgb8: np.ndarray) -> None:
    # AVIF (web images, recent phones) was "not an image synthdiff can read".
    Image.fromarray(rgb8).save(tmp_path / "a.avif", quality=100)
    image = load_image(tmp_path / "a.avif")
    assert image.info.format == "avif" and image.pixels.shape == (12, 16, 3)
    with Image.open(tmp_path / "a.avif") as decoded:  # lossy: what the AVIF decoder gives
        np.testing.assert_array_equal(image.pixels, np.asarray(decoded.convert("RGB")) / np.float32(255))
    assert [p.name for p in list_images(tmp_path)] == ["a.avif"]
    # An iPhone's HEIC gets its own message (its brand, after "ftyp"), not "not an image".
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"
    (tmp_path / "photo.heic").write_bytes(heic + bytes(64))
    assert sniff_format(heic) is None  # not a format synthdiff reads, as sniff_format promises
    with pytest.raises(UnsupportedImageError, match=r"HEIC/HEIF image .* Fix: export it as JPEG or PNG"):
        load_image(tmp_path / "photo.heic")


def test_tiff_16bit_colour(tmp_path: Path, rng: np.random.Generator) -> None:
    values = rng.integers(0, 65536, (6, 5, 3), dtype=np.uint16)
    cv2.imwrite(str(tmp_path / "a.tif"), values[..., ::-1])
    image = load_image(tmp_path / "a.tif")
    assert image.info.bit_depth == 16
    np.testing.assert_allclose(image.pixels, values / 65535.0, atol=1e-7)


@pytest.mark.parametrize("channels", [3, 4])
def test_float_tiff_colour_is_linear_hdr(
    tmp_path: Path, rng: np.random.Generator, channels: int, capfd: pytest.CaptureFixture[str]
) -> None:
    # Pillow cannot open multi-channel float TIFF (a common render output); the loader falls back to OpenCV.
    values = (rng.random((7, 9, channels)) * 4.0).astype(np.float32)
    values[..., 3:] = 1.0
    uncompressed = [cv2.IMWRITE_TIFF_COMPRESSION, 1]  # OpenCV's default for float is lossy LogLuv
    cv2.imwrite(str(tmp_path / "f.tif"), values[..., [2, 1, 0, *range(3, channels)]], uncompressed)
    image = load_image(tmp_path / "f.tif")
    assert image.info.is_hdr and image.info.bit_depth == 32 and image.info.channels == channels
    np.testing.assert_allclose(image.pixels, values[..., :3], rtol=1e-6)
    assert capfd.readouterr().err == ""


def test_half_float_tiff_names_what_is_supported(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    tifffile = pytest.importorskip("tifffile")
    tifffile.imwrite(tmp_path / "h.tif", np.full((6, 5, 3), 0.5, dtype=np.float16), photometric="rgb")
    with pytest.raises(CorruptImageError, match=r"16-bit half floats are not.*Fix: re-export"):
        load_image(tmp_path / "h.tif")
    assert capfd.readouterr().err == "", "OpenCV's own log lines should not reach the user"


def test_exr_is_linear_hdr(tmp_path: Path, rng: np.random.Generator) -> None:
    values = (rng.random((8, 9, 3)) * 20.0).astype(np.float32)
    save_exr(tmp_path / "a.exr", values)
    image = load_image(tmp_path / "a.exr")
    assert image.info.is_hdr and image.info.format == "exr"
    np.testing.assert_allclose(image.pixels, values, rtol=1e-6)


def test_exr_negative_values_are_clamped_with_a_note(tmp_path: Path) -> None:
    values = np.full((4, 4, 3), -0.5, dtype=np.float32)
    save_exr(tmp_path / "n.exr", values)
    image = load_image(tmp_path / "n.exr")
    assert image.pixels.min() == 0.0
    assert any("negative" in note for note in image.info.notes)


def test_format_is_read_from_content_not_name(tmp_path: Path, rgb8: np.ndarray) -> None:
    Image.fromarray(rgb8).save(tmp_path / "misnamed.jpg", format="PNG")
    assert load_image(tmp_path / "misnamed.jpg").info.format == "png"


# Error paths: each says what was expected, what was found and how to fix it.


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImageNotFoundError, match=r"Image not found: .*nope\.png.*Fix: check the path"):
        load_image(tmp_path / "nope.png")


def test_folder_is_not_an_image(tmp_path: Path) -> None:
    with pytest.raises(ImageNotFoundError, match="Expected an image file, got a folder"):
        load_image(tmp_path)


@pytest.mark.parametrize("text", ["these are not pixels", "BMW makes cars, not bitmaps"])
def test_not_an_image(tmp_path: Path, text: str) -> None:
    # The second starts with BMP's "BM" signature but not with its zero reserved fields.
    (tmp_path / "notes.png").write_text(text)
    with pytest.raises(NotAnImageError, match=r"not an image synthdiff can read: expected PNG.*found bytes"):
        load_image(tmp_path / "notes.png")


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(EmptyImageError, match=r"is empty \(0 bytes\)\. Fix: re-export"):
        load_image(tmp_path / "empty.png")


def test_zero_size_image(tmp_path: Path) -> None:
    import struct
    import zlib

    # A PNG whose header declares 0 x 10 pixels.
    ihdr = struct.pack(">IIBBBBB", 0, 10, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    data = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    (tmp_path / "zero.png").write_bytes(data + b"\x00\x00\x00\x00IEND\xaeB`\x82")
    with pytest.raises(EmptyImageError, match=r"has zero size \(0x10\)\. Expected at least 1x1"):
        load_image(tmp_path / "zero.png")


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tif"])
def test_truncated_file(tmp_path: Path, rng: np.random.Generator, suffix: str) -> None:
    noise = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    full = tmp_path / f"full{suffix}"
    Image.fromarray(noise).save(full)
    data = full.read_bytes()
    (tmp_path / f"cut{suffix}").write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptImageError, match=r"truncated or corrupt.*Fix: re-export or re-copy"):
        load_image(tmp_path / f"cut{suffix}")


def test_truncated_float_tiff(
    tmp_path: Path, rng: np.random.Generator, capfd: pytest.CaptureFixture[str]
) -> None:
    cv2.imwrite(str(tmp_path / "full.tif"), rng.random((64, 64, 3)).astype(np.float32))
    data = (tmp_path / "full.tif").read_bytes()
    (tmp_path / "cut.tif").write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptImageError, match=r"neither Pillow nor OpenCV can decode it: it is truncated"):
        load_image(tmp_path / "cut.tif")
    assert capfd.readouterr().err == ""


def test_corrupt_exr(tmp_path: Path, rng: np.random.Generator) -> None:
    save_exr(tmp_path / "a.exr", rng.random((32, 32, 3)).astype(np.float32))
    data = (tmp_path / "a.exr").read_bytes()
    (tmp_path / "cut.exr").write_bytes(data[:200])
    with pytest.raises(CorruptImageError, match="truncated or corrupt OpenEXR"):
        load_image(tmp_path / "cut.exr")


@pytest.mark.parametrize("keep", [0.25, 0.5, 0.99])
def test_an_exr_cut_short_in_its_pixels_is_corrupt_and_prints_nothing(
    tmp_path: Path, rng: np.random.Generator, capfd: pytest.CaptureFixture[str], keep: float
) -> None:
    # A render interrupted while writing: OpenEXR raised a bare ValueError ("file has 0 parts", a
    # traceback from every command) after printing its own warnings on stdout and stderr.
    save_exr(tmp_path / "a.exr", rng.random((40, 52, 3)).astype(np.float32))
    data = (tmp_path / "a.exr").read_bytes()
    (tmp_path / "cut.exr").write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(CorruptImageError, match=r"'.*cut.exr' is a truncated or corrupt OpenEXR file"):
        load_image(tmp_path / "cut.exr")
    assert capfd.readouterr() == ("", "")


def test_an_exr_header_that_is_not_text_is_corrupt(tmp_path: Path, rng: np.random.Generator) -> None:
    save_exr(tmp_path / "a.exr", rng.random((8, 8, 3)).astype(np.float32))
    data = bytearray((tmp_path / "a.exr").read_bytes())
    data[data.index(b"dataWindow") + 1] = 0xC8  # an attribute name that is not UTF-8 any more
    (tmp_path / "bad.exr").write_bytes(bytes(data))
    with pytest.raises(CorruptImageError, match="truncated or corrupt OpenEXR"):
        load_image(tmp_path / "bad.exr")


def test_an_exr_read_only_in_part_is_refused_and_other_output_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """OpenEXR's reader can print that it could not decode a chunk and return the pixels it has."""
    import os
    import sys
    import types

    save_exr(tmp_path / "a.exr", np.full((4, 4, 3), 0.5, np.float32))
    printed = {"text": b""}

    class File:
        def __init__(self, path: str, **options: object) -> None:
            pass

        def __enter__(self) -> File:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def header(self) -> dict[str, object]:
            return {"dataWindow": ((0, 0), (3, 3))}

        def channels(self) -> dict[str, object]:
            os.write(1, printed["text"])
            plane = types.SimpleNamespace(pixels=np.zeros((4, 4), np.float32))
            return {"R": plane, "G": plane, "B": plane}

    monkeypatch.setitem(sys.modules, "OpenEXR", types.SimpleNamespace(File=File))
    printed["text"] = b"Warning: Exception raised reading pixel data for part 0 - Unable to run decoder\n"
    with pytest.raises(
        CorruptImageError, match=r"damaged OpenEXR file: .*\(Warning: Exception raised .*decoder\)"
    ):
        load_image(tmp_path / "a.exr")
    assert capfd.readouterr() == ("", "")
    printed["text"] = b"progress 50 %\n"  # not about the file: given back where it was written
    assert load_image(tmp_path / "a.exr").pixels.shape == (4, 4, 3)
    assert capfd.readouterr() == ("progress 50 %\n", "")


def test_unsupported_bit_depth(tmp_path: Path) -> None:
    Image.fromarray(np.arange(20, dtype=np.int32).reshape(4, 5) * 100000).save(tmp_path / "i32.tif")
    with pytest.raises(UnsupportedImageError, match=r"Expected 8/16-bit integers or 32-bit floats"):
        load_image(tmp_path / "i32.tif")


def test_unsupported_channels(tmp_path: Path) -> None:
    import OpenEXR

    with OpenEXR.File({}, {"Z": np.zeros((4, 4), np.float32)}) as exr:
        exr.write(str(tmp_path / "depth.exr"))
    with pytest.raises(UnsupportedImageError, match=r"EXR channels \['Z'\]\. Expected R, G, B"):
        load_image(tmp_path / "depth.exr")


def test_pixel_limit(tmp_path: Path, rgb8: np.ndarray) -> None:
    Image.fromarray(rgb8).save(tmp_path / "a.png")
    with pytest.raises(ImageTooLargeError, match=r"12 = 192 pixels, above the limit of 100.*--max-pixels"):
        load_image(tmp_path / "a.png", max_pixels=100)
    assert load_image(tmp_path / "a.png", max_pixels=None).pixels.shape == (12, 16, 3)


def test_bad_alpha_policy(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="alpha to be 'composite' or 'ignore'"):
        load_image(tmp_path / "a.png", alpha="premultiply")  # type: ignore[arg-type]


def test_errors_are_synthdiff_errors_and_builtin_kinds() -> None:
    assert issubclass(ImageNotFoundError, FileNotFoundError) and issubclass(
        ImageNotFoundError, SynthdiffError
    )
    assert issubclass(CorruptImageError, ValueError)


def test_images_in_folder_lists_recursively_and_refuses_empty_or_missing_folders(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    for name in ("b.png", "sub/a.JPG", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    assert images_in_folder(tmp_path) == [tmp_path / "b.png", tmp_path / "sub" / "a.JPG"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidArgumentError, match="found none"):
        images_in_folder(tmp_path / "empty")
    with pytest.raises(InvalidArgumentError, match="not a folder"):
        images_in_folder(tmp_path / "b.png")
    with pytest.raises(InvalidArgumentError, match="not a folder"):
        images_in_folder(tmp_path / "missing")


def test_hidden_files_output_folders_and_folder_links_are_not_listed(tmp_path: Path) -> None:
    for name in (
        "a.png",
        "._a.png",  # macOS's metadata twin of a.png: no image
        ".ipynb_checkpoints/a-checkpoint.png",  # a notebook's copy
        "sub/b.png",
        "sub/.thumbnails/b.png",
        "reports/p/reference.png",  # a command's own output inside its input
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub" / "up").symlink_to(tmp_path)  # would loop if followed
    (tmp_path / "linked.png").symlink_to(tmp_path / "a.png")  # a link to a file is a file
    everything = [tmp_path / n for n in ("a.png", "linked.png", "reports/p/reference.png", "sub/b.png")]
    assert list_images(tmp_path) == everything
    assert list_images(tmp_path, leave_out=[tmp_path / "reports"]) == [
        everything[0],
        everything[1],
        everything[3],
    ]
    # Another spelling of the folder left out, and a folder outside, which changes nothing.
    assert images_in_folder(
        tmp_path / "sub", leave_out=[tmp_path / "sub" / ".." / "reports", "/elsewhere"]
    ) == [tmp_path / "sub" / "b.png"]
    # A folder named to be listed is listed, even when it lies in (or is) one left out elsewhere.
    assert list_images(tmp_path / "reports", leave_out=[tmp_path, tmp_path / "reports"]) == [everything[2]]


def test_a_grey_image_beside_a_colour_one_is_noted(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    colour = (rng.random((32, 40, 3)) * 255).astype(np.uint8)
    Image.fromarray(colour).save(tmp_path / "colour.png")
    Image.fromarray(colour).convert("L").save(tmp_path / "grey.png")
    # A grey picture stored as RGB is not in colour: nothing to say beside a grey file.
    Image.fromarray(np.repeat(colour[..., :1], 3, axis=2)).save(tmp_path / "grey-rgb.png")
    colour_image, grey_image, grey_rgb = (
        load_image(tmp_path / name) for name in ("colour.png", "grey.png", "grey-rgb.png")
    )
    assert pair_notes(colour_image, grey_image) == [
        "the test image is grey and the reference in colour: the grey one is compared as three equal "
        "channels, so every colour in the other counts as a difference (compare grey copies of both to "
        "leave colour out)"
    ]
    assert pair_notes(grey_image, colour_image)[0].startswith(
        "the reference image is grey and the test in colour"
    )
    assert pair_notes(grey_rgb, grey_image) == [] and pair_notes(colour_image, colour_image) == []


@pytest.mark.parametrize("kind", ["PNG", "JPEG", "TIFF", "WEBP", "BMP", "GIF", "EXR", "HDR"])
def test_damaged_files_give_synthdiff_errors_only(tmp_path: Path, kind: str) -> None:
    """Seeded damage (cut short, bytes overwritten, bytes inserted): every file either loads or raises a
    SynthdiffError (an EXR cut short raised a bare ValueError, one with a non-UTF-8 header a
    UnicodeDecodeError)."""
    import random

    from synthdiff.errors import SynthdiffError

    pixels = (np.random.default_rng(0).random((24, 30, 3)) * 255).astype(np.uint8)
    if kind == "EXR":
        save_exr(tmp_path / "good.exr", pixels.astype(np.float32) / 255)
        data = (tmp_path / "good.exr").read_bytes()
    elif kind == "HDR":
        data = cv2.imencode(".hdr", pixels.astype(np.float32) / 255)[1].tobytes()
    else:
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, kind)
        data = buffer.getvalue()
    draw = random.Random(kind)
    loaded = 0
    for trial in range(45):
        damaged = bytearray(data)
        if trial % 3 == 0:
            damaged = damaged[: draw.randint(1, len(damaged) - 1)]
        elif trial % 3 == 1:
            for _ in range(draw.randint(1, 8)):
                damaged[draw.randrange(len(damaged))] = draw.randrange(256)
        else:
            at = draw.randint(8, len(damaged) - 1)
            damaged[at:at] = bytes(draw.randrange(256) for _ in range(draw.randint(1, 40)))
        path = tmp_path / f"damaged.{kind.lower()}"
        path.write_bytes(bytes(damaged))
        try:
            load_image(path)
            loaded += 1
        except SynthdiffError:
            pass
    assert loaded < 45  # the damage was seen at least sometimes
