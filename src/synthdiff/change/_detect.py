"""``synthdiff detect``: which rendering feature changed where, for one image pair."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from synthdiff._device import resolve_device
from synthdiff.change._infer import ChangeMaps, check_thresholds, predict_maps, small_pair_note
from synthdiff.change._registry import load_checkpoint
from synthdiff.errors import InvalidArgumentError, SizeMismatchError

if TYPE_CHECKING:
    from synthdiff.io import LoadedImage

__all__ = ["DETECT_SCHEMA_VERSION", "Detection", "detect"]

DETECT_SCHEMA_VERSION = (
    "1.6"  # 1.2 added low_thresholds, 1.3 min_area, 1.4 notes, 1.5 alignment, 1.6 scaled_to
)
# One outline colour per feature in the overlays.
COLOURS = {
    "illumination": (255, 200, 0),
    "reflection": (0, 200, 255),
    "texture": (255, 60, 160),
    "transparency": (120, 255, 80),
    "objects": (255, 90, 0),
}
#: The outline colour of a feature without one of its own.
OTHER_COLOUR = (255, 40, 200)


@dataclass
class Detection:
    """The result of :func:`detect`: probability maps and where they were written.

    Attributes:
        maps: per-feature probabilities, masks and regions.
        model: the checkpoint given and its metadata.
        reference: the reference image's path.
        test: the test image's path.
        notes: sentences for people about what was changed on the way in (an HDR image beside an LDR
            one converted, transparent pixels composited, a failed alignment, ...).
        alignment: how the test image was registered onto the reference (``Registration.to_dict()``).
    """

    maps: ChangeMaps
    model: dict[str, Any]
    reference: str
    test: str
    notes: list[str] = field(default_factory=list)
    alignment: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": DETECT_SCHEMA_VERSION,
            "reference": self.reference,
            "test": self.test,
            "model": self.model,
            "alignment": self.alignment,
            **self.maps.summary(),
            "notes": self.notes,
        }


def detect(
    reference: str | os.PathLike[str] | LoadedImage,
    test: str | os.PathLike[str] | LoadedImage,
    checkpoint: str | os.PathLike[str],
    *,
    features: list[str] | None = None,
    tile: int = 256,
    overlap: int = 32,
    threshold: float | None = None,
    views: str | None = None,
    min_area: int | None = None,
    align: str = "auto",
    resize: bool = False,
    out: str | os.PathLike[str] | None = None,
    device: str = "auto",
    native_size: bool = False,
) -> Detection:
    """Run a trained change detector on a pair of any size.

    Args:
        reference, test: image paths (any format synthdiff reads; HDR is tone-mapped for the model), or
            loaded images (the panels of one image, :func:`synthdiff.align.split_panels`).
        checkpoint: a shipped model name (``fresunet``, ``changestar``) or a checkpoint file written by
            ``synthdiff train change``.
        features: report only these (default: all the model knows).
        threshold: change probability threshold for every feature (a single threshold); default the
            checkpoint's per-feature thresholds, with their low thresholds for hysteresis where it has
            them (tuned on the validation split).
        views: test-time augmentation, a name from :data:`~synthdiff.change.VIEWS` (``none``,
            ``flip``, ``flips``, ``dihedral``: 1, 2, 4 or 8 runs of the model); default the
            checkpoint's.
        min_area: connected changed regions of fewer pixels are not marked
            (:func:`~synthdiff.change.remove_specks`); default the checkpoint's (0, all kept, unless
            set by :func:`~synthdiff.change.set_min_area`).
        align: how the test image is registered onto the reference first, as in
            :func:`synthdiff.compare`: ``auto`` (the default; only applied when it really improves the
            match, so aligned renders are used as they are), ``none``, ``translation`` or
            ``homography``. Unaligned, a test image one pixel off marks about 3.5 % of an unchanged
            pair's pixels as changed (docs/models.md, "A test image a little off").
        resize: scale the test image to the reference's size first when they differ (for a test image
            rendered at another resolution; registration then only undoes what shift remains).
        out: when given, write detect.json, change_<feature>.png heatmaps and overlays there.
        device: where the model runs: ``auto`` (a GPU when there is one), ``cpu``, ``cuda``.
        native_size: run the model on the pair at its own size even when it is larger than the images
            the model was trained on (by default such a pair is scaled down to the checkpoint's
            ``train_size`` and the maps brought back: :func:`~synthdiff.change.working_shape`).

    Raises:
        CheckpointError, SizeMismatchError (different sizes with ``align`` ``none`` or
        ``translation`` and no ``resize``), AlignmentError (different sizes and no homography found),
        InvalidArgumentError, and the image loading errors.
    """
    from synthdiff.align import align_to_reference, panel_source, resize_to_reference
    from synthdiff.io import (
        LoadedImage,
        hdr_pair_to_display,
        load_image,
        match_dynamic_range,
        output_folder,
        pair_notes,
    )

    check_thresholds(threshold)
    if out is not None:  # before the model runs: a bad place costs no work
        output_folder(out, create=False, page="index.html")
    target = resolve_device(device)
    model, metadata = load_checkpoint(checkpoint, device=str(target), views=views)
    known = list(metadata["features"])
    wanted = features or known
    unknown = [f for f in wanted if f not in known]
    if unknown:
        raise InvalidArgumentError(
            f"Expected features this model knows ({', '.join(known)}), got {unknown!r}."
        )
    first, second = (
        image if isinstance(image, LoadedImage) else load_image(image) for image in (reference, test)
    )
    notes = pair_notes(first, second)
    reference_pixels, test_pixels, range_note = match_dynamic_range(
        first.pixels, second.pixels, first.info.is_hdr, second.info.is_hdr
    )
    if range_note:
        notes.append(range_note)
    elif first.info.is_hdr:
        reference_pixels, test_pixels = hdr_pair_to_display(reference_pixels, test_pixels)
    if resize:
        test_pixels, resize_note = resize_to_reference(reference_pixels, test_pixels)
        notes += [resize_note] if resize_note else []
    if reference_pixels.shape != test_pixels.shape and align not in ("auto", "homography"):
        raise SizeMismatchError(
            f"Expected two images of one size with --align {align}, got {reference_pixels.shape[1]}x"
            f"{reference_pixels.shape[0]} and {test_pixels.shape[1]}x{test_pixels.shape[0]}. Fix: --align "
            "auto registers the test image onto the reference, --resize scales it."
        )
    test_pixels, _, registration = align_to_reference(reference_pixels, test_pixels, align)
    if registration.status == "failed":
        notes.append(registration.message)
    maps = predict_maps(
        model,
        known,
        reference_pixels,
        test_pixels,
        tile=tile,
        overlap=overlap,
        threshold=metadata["thresholds"] if threshold is None else threshold,
        # A threshold given by the user is a single one; the checkpoint's come with their low ones.
        low_threshold=metadata["low_thresholds"] if threshold is None else None,
        min_area=metadata["min_area"] if min_area is None else min_area,
        device=target,
        work_size=None if native_size else metadata["train_size"],
    )
    maps.features = wanted
    maps.regions = [r for r in maps.regions if r.feature in wanted]
    small = small_pair_note(reference_pixels.shape[0], reference_pixels.shape[1], metadata["train_size"])
    notes += [small] if small else []
    if maps.identical:
        notes.append(
            "the two images are one picture (no value differs by half an 8-bit step): nothing changed"
        )
    detection = Detection(
        maps,
        {"checkpoint": str(checkpoint), **metadata},
        first.info.path,
        second.info.path,
        notes,
        registration.to_dict(),
    )
    if out is not None:
        # A panel of one image (synthdiff.align.split_panels) is named "FILE [left]": FILE is the input.
        inputs = [panel_source(image.info.path) for image in (first, second)]
        _write(Path(out), detection, reference_pixels, test_pixels, protected=[*inputs, checkpoint])
    return detection


def _write(
    out: Path,
    detection: Detection,
    reference: np.ndarray,
    test: np.ndarray,
    protected: list[str | os.PathLike[str]],
) -> None:
    from synthdiff.io import atomic_write_bytes, atomic_write_text, json_text, output_folder
    from synthdiff.report._detect_report import render_detect_html
    from synthdiff.report._panels import draw_boxes, encode_panels, heatmap

    output_folder(out, page="index.html")
    maps = detection.maps
    colours = {name: COLOURS.get(name, OTHER_COLOUR) for name in maps.features}

    def overlay(image: np.ndarray) -> np.ndarray:
        drawn = np.clip(image, 0.0, 1.0)
        for name in maps.features:
            # Each box carries its row number in the page's table of regions (all features together).
            rows = [(number, r.box) for number, r in enumerate(maps.regions, start=1) if r.feature == name]
            if rows:
                numbers, boxes = zip(*rows, strict=True)
                drawn = draw_boxes(drawn, boxes, colour=colours[name], numbers=numbers)
                drawn = drawn.astype(np.float32) / 255.0
        return drawn

    makers: dict[str, Callable[[], np.ndarray]] = {
        f"change_{name}.png": partial(heatmap, maps.change[name]) for name in maps.features
    }
    makers["overlay_reference.png"] = partial(overlay, reference)
    makers["overlay_test.png"] = partial(overlay, test)
    panels = encode_panels(makers)
    for name, data in panels.items():
        atomic_write_bytes(out / name, data, protected=protected)
    summary = detection.to_dict()
    atomic_write_text(out / "detect.json", json_text(summary), protected=protected)
    size = (reference.shape[1], reference.shape[0])
    atomic_write_text(
        out / "index.html", render_detect_html(summary, panels, colours, size), protected=protected
    )
