"""Image loading, validation and writing (numpy only; no torch needed).

Internal representation: HxWx3 float32; sRGB-encoded values in [0, 1] for LDR images, linear light
for HDR images (EXR, Radiance HDR, float TIFF).
"""

from synthdiff.io._color import (
    hdr_pair_to_display,
    hdr_to_display,
    linear_to_srgb,
    match_dynamic_range,
    srgb_to_linear,
)
from synthdiff.io._load import (
    DEFAULT_MAX_PIXELS,
    IMAGE_SUFFIXES,
    ImageInfo,
    LoadedImage,
    float_pixels,
    image_array,
    images_in_folder,
    list_images,
    load_image,
    pair_notes,
    sniff_format,
    unit_scaled,
)
from synthdiff.io._tables import csv_delimiter
from synthdiff.io._write import (
    ProtectedInputs,
    atomic_write_bytes,
    atomic_write_text,
    encode_png,
    json_text,
    output_folder,
    save_exr,
    save_png,
)

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "IMAGE_SUFFIXES",
    "ImageInfo",
    "LoadedImage",
    "ProtectedInputs",
    "atomic_write_bytes",
    "atomic_write_text",
    "csv_delimiter",
    "encode_png",
    "float_pixels",
    "hdr_pair_to_display",
    "hdr_to_display",
    "image_array",
    "images_in_folder",
    "json_text",
    "linear_to_srgb",
    "list_images",
    "load_image",
    "match_dynamic_range",
    "output_folder",
    "pair_notes",
    "save_exr",
    "save_png",
    "sniff_format",
    "srgb_to_linear",
    "unit_scaled",
]
