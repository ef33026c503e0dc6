"""sRGB transfer functions and bringing an HDR/LDR pair to one encoding."""

from __future__ import annotations

import numpy as np

from synthdiff.io import linear_to_srgb, match_dynamic_range, srgb_to_linear


def test_srgb_round_trip_and_known_value() -> None:
    encoded = np.linspace(0.0, 1.0, 101, dtype=np.float32)
    np.testing.assert_allclose(linear_to_srgb(srgb_to_linear(encoded)), encoded, atol=1e-6)
    # IEC 61966-2-1: sRGB 0.5 is linear 0.21404
    assert float(srgb_to_linear(np.float32(0.5))) == np.float32(0.21404114)


def test_8_and_16_bit_arrays_are_scaled() -> None:
    # An 8-bit image (as Pillow gives it) was decoded as if its values ran to 255: linear 155,000.
    encoded = np.linspace(0.0, 1.0, 256, dtype=np.float32)
    eight = np.arange(256, dtype=np.uint8)
    np.testing.assert_allclose(srgb_to_linear(eight), srgb_to_linear(encoded), atol=1e-6)
    sixteen = np.round(encoded * 65535).astype(np.uint16)
    np.testing.assert_allclose(linear_to_srgb(sixteen), linear_to_srgb(encoded), atol=1e-5)


def test_an_hdr_image_beside_an_ldr_one_is_encoded_like_it() -> None:
    ldr = np.random.default_rng(0).random((6, 5, 3), dtype=np.float32)
    hdr = srgb_to_linear(ldr)
    for reference_is_hdr in (True, False):
        pair = (hdr, ldr) if reference_is_hdr else (ldr, hdr)
        reference, test, note = match_dynamic_range(*pair, reference_is_hdr, not reference_is_hdr)
        np.testing.assert_allclose(reference, test, atol=1e-5)
        which = "reference" if reference_is_hdr else "test"
        assert note == f"the {which} image is HDR and the other LDR: the HDR one was clipped and sRGB-encoded"


def test_pairs_of_one_kind_are_left_as_they_are() -> None:
    image = np.full((2, 2, 3), 3.0, dtype=np.float32)
    for is_hdr in (True, False):
        reference, test, note = match_dynamic_range(image, image * 2, is_hdr, is_hdr)
        assert reference is image and note is None
        np.testing.assert_array_equal(test, image * 2)
