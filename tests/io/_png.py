"""Writing test PNGs that Pillow cannot: 16-bit colour with an extra chunk (eXIf, iCCP)."""

from __future__ import annotations

import zlib
from pathlib import Path

import cv2
import numpy as np


def png_with_chunk(path: Path, array: np.ndarray, kind: bytes, payload: bytes) -> None:
    """Write ``array`` (HxWx3, RGB) as a PNG with OpenCV, then one more chunk right after IHDR."""
    ok, encoded = cv2.imencode(".png", array[..., ::-1])
    assert ok
    data = encoded.tobytes()
    chunk = len(payload).to_bytes(4, "big") + kind + payload + zlib.crc32(kind + payload).to_bytes(4, "big")
    end_of_ihdr = 8 + 25  # the signature, then IHDR's length, type, 13 bytes and CRC
    path.write_bytes(data[:end_of_ihdr] + chunk + data[end_of_ihdr:])
