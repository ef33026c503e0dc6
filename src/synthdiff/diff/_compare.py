"""Comparing one pair of images: alignment, global change, metrics, local differences and regions."""

from __future__ import annotations

import functools
import json
import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from synthdiff.align import (
    AlignMethod,
    Registration,
    align_to_reference,
    resize_to_reference,
    warp_to_reference,
)
from synthdiff.diff._global import (
    IDENTITY_CHANGE,
    GlobalChange,
    difference_magnitude,
    estimate_global_change,
    exposure_change_ev,
    local_difference,
)
from synthdiff.diff._regions import NoiseModel, Region, find_regions
from synthdiff.errors import InvalidArgumentError, SizeMismatchError
from synthdiff.io import (
    DEFAULT_MAX_PIXELS,
    ImageInfo,
    LoadedImage,
    hdr_pair_to_display,
    image_array,
    load_image,
    match_dynamic_range,
    pair_notes,
)
from synthdiff.metrics import (
    METRICS,
    ciede2000_map,
    flip,
    luma_psnr,
    mean_absolute_error,
    mean_squared_error,
    multiscale_structural_similarity,
    ssim_window_side,
    structural_similarity_map,
)

__all__ = ["REPORT_SCHEMA_VERSION", "Comparison", "compare"]

#: Version of the ``report.json`` layout (see docs/report-schema.md); bump on incompatible changes.
REPORT_SCHEMA_VERSION = "1.10"

ImageInput = str | os.PathLike[str] | np.ndarray | LoadedImage

# The smallest side compare accepts: SSIM's Gaussian window (11x11 at sigma 1.5) must fit inside the image.
MIN_SIDE = ssim_window_side()
# A median local difference above this (about 26/255) is beyond the noise of any image pair the region
# finder is meant for: it says so instead of leaving "no regions" unexplained.
EVERYWHERE_DIFFERENCE = 0.1


@dataclass
class Comparison:
    """Everything :func:`compare` found about one pair.

    Images and maps share the reference's pixel grid. ``reference`` and ``test`` are the display
    (sRGB-encoded, [0, 1]) versions used for structural metrics and maps; HDR inputs are tone mapped
    with one white point for both.

    Attributes:
        reference_info: metadata of the reference file.
        test_info: metadata of the test file.
        reference: HxWx3 float32 display image.
        test: HxWx3 float32 display image, aligned to the reference.
        test_original: HxWx3 float32 display image of the test before alignment.
        valid: HxW boolean mask of reference pixels covered by the aligned test image.
        registration: how the test image was aligned.
        global_change: the global gain/offset found between the (display) images.
        exposure_change_ev: for an HDR pair, the exposure change in stops in linear light
            (:func:`synthdiff.diff._global.exposure_change_ev`); None for LDR pairs.
        metrics: metric name -> value (None when it could not be computed; see ``metric_notes``).
        metric_notes: metric name -> why it is missing or how it was computed.
        regions: the regions that differ, strongest first.
        difference: HxW local difference map after global compensation.
        excess: HxW ratio of the smoothed difference to the pair's own threshold.
        ssim_map: HxW SSIM map.
        flip_map: HxW FLIP error map, or None.
        feature_maps: per-rendering-feature change maps (``synthdiff.change.ChangeMaps``) when
            ``change_model`` was given, else None.
        feature_model: the change model's checkpoint path, name and features, or None.
        realness: when ``realness_model`` was given, ``{"model": ..., "reference": ..., "test": ...}``
            with each image's realness score (``RealnessScore.to_dict()``), else None.
        noise: the fitted noise model used for the regions.
        options: the settings used, for the report.
        notes: things the user should know (resizing, mixed HDR/LDR, ...).
        timings: seconds spent per stage.
    """

    reference_info: ImageInfo
    test_info: ImageInfo
    reference: np.ndarray
    test: np.ndarray
    test_original: np.ndarray
    valid: np.ndarray
    registration: Registration
    global_change: GlobalChange
    metrics: dict[str, float | None]
    metric_notes: dict[str, str]
    regions: list[Region]
    difference: np.ndarray
    excess: np.ndarray
    ssim_map: np.ndarray
    flip_map: np.ndarray | None
    noise: NoiseModel
    options: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    feature_maps: Any = None  # synthdiff.change.ChangeMaps when a change model was given
    feature_model: dict[str, Any] | None = None
    realness: dict[str, Any] | None = None
    exposure_change_ev: float | None = None

    @property
    def differs(self) -> bool:
        """True when at least one differing region was found."""
        return bool(self.regions)

    def to_dict(self) -> dict[str, Any]:
        """The ``report.json`` content (schema in docs/report-schema.md)."""
        height, width = self.reference.shape[:2]
        return {
            "schema_version": REPORT_SCHEMA_VERSION,
            "tool": "synthdiff compare",
            "inputs": {"reference": self.reference_info.to_dict(), "test": self.test_info.to_dict()},
            "size": {"width": width, "height": height, "compared_pixels": int(self.valid.sum())},
            "options": self.options,
            "alignment": self.registration.to_dict(),
            "global_change": {**self.global_change.to_dict(), "exposure_change_ev": self.exposure_change_ev},
            "metrics": {name: _json_number(value) for name, value in self.metrics.items()},
            "metric_info": {name: METRICS[name].to_dict() for name in self.metrics},
            "metric_notes": self.metric_notes,
            "regions": [region.to_dict() for region in self.regions],
            "noise_model": self.noise.to_dict(),
            "notes": self.notes,
            "timings_s": {name: round(value, 4) for name, value in self.timings.items()},
            "rendering_features": (
                None
                if self.feature_maps is None
                else {"model": self.feature_model, **self.feature_maps.summary()}
            ),
            "realness": self.realness,
        }

    def to_json(self, indent: int | None = 2) -> str:
        """``report.json`` as a string."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def save_report(self, directory: str | os.PathLike[str]) -> Path:
        """Write ``report.json``, ``index.html`` and the PNG panels into ``directory``.

        Inputs are never overwritten; every file is written atomically.

        Returns:
            The path of ``index.html``.
        """
        from synthdiff.report import write_compare_report

        return write_compare_report(self, Path(directory))


def _json_number(value: float | None) -> float | str | None:
    if value is None:
        return None
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return round(float(value), 6)


def _load(image: ImageInput, name: str, **load_options: Any) -> LoadedImage:
    if isinstance(image, LoadedImage):
        return image
    if isinstance(image, np.ndarray):
        array = image_array(image, name)
        brightest = float(array.max(initial=0.0))
        is_hdr = brightest > 1.0
        channels = 1 if image.ndim == 2 else 3
        notes: tuple[str, ...] = ()
        # The whole-number test (a pass over the image) only where values above 1 call for it.
        if (
            is_hdr
            and brightest <= 255.0
            and image.dtype.kind == "f"
            and np.array_equal(array, np.round(array))
        ):
            # Whole numbers up to 255 are 8-bit values as floats (image.astype(float)), not light.
            notes = (
                f"its values are whole numbers up to {brightest:.0f}: 8-bit data as floats? Float arrays "
                "are read as sRGB in [0, 1] (linear HDR above 1), so it was taken for HDR. Fix: divide it "
                "by 255, or pass the uint8 array",
            )
        info = ImageInfo(
            f"<{name} array>", "array", array.shape[1], array.shape[0], channels, 32, is_hdr, False, notes
        )
        return LoadedImage(array, info)
    if not isinstance(image, str | os.PathLike):
        raise InvalidArgumentError(
            f"Expected the {name} image as a file path, a numpy array or a LoadedImage, got "
            f"{type(image).__name__}. Fix: pass np.asarray(...) of it, or its path."
        )
    return load_image(image, **load_options)


def _roles(reference: LoadedImage, test: LoadedImage) -> tuple[tuple[LoadedImage, str], ...]:
    return ((reference, "reference"), (test, "test"))


def _file_identity(spec: str | os.PathLike[str]) -> tuple[int, int] | None:
    """(mtime, size) of a checkpoint file, None for a shipped model's name: part of a cache key, so
    that a checkpoint rewritten between two comparisons (a training run in progress) is read again."""
    path = Path(spec)
    if not path.is_file():
        return None
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


def _change_model(spec: str | os.PathLike[str], device: str) -> tuple[Any, dict[str, Any]]:
    """A change model and its metadata, loaded once per process (``batch`` compares many pairs)."""
    return _load_change_model(str(spec), device, _file_identity(spec))


def _realness_model(spec: str | os.PathLike[str], device: str) -> Any:
    """A realness model, loaded once per process."""
    return _load_realness_model(str(spec), device, _file_identity(spec))


@functools.lru_cache(maxsize=2)
def _load_change_model(
    spec: str, device: str, _identity: tuple[int, int] | None
) -> tuple[Any, dict[str, Any]]:
    from synthdiff.change import load_checkpoint

    return load_checkpoint(spec, device=device)


@functools.lru_cache(maxsize=2)
def _load_realness_model(spec: str, device: str, _identity: tuple[int, int] | None) -> Any:
    from synthdiff.realness import load_realness_model

    return load_realness_model(spec, device=device)


def compare(
    reference: ImageInput,
    test: ImageInput,
    *,
    align: AlignMethod | str = "auto",
    resize: bool = False,
    compensate_global: bool = True,
    fast: bool = False,
    flip_metric: bool = True,
    sensitivity: float = 1.0,
    pixels_per_degree: float = 67.02064514160156,
    alpha: str = "composite",
    background: tuple[float, float, float] = (0.0, 0.0, 0.0),
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    change_model: str | os.PathLike[str] | None = None,
    realness_model: str | os.PathLike[str] | None = None,
    device: str = "auto",
    change_native_size: bool = False,
    luma_border: int = 0,
) -> Comparison:
    """Compare a test image against its reference.

    Steps: load both images; resize or register the test image onto the reference grid; fit the
    global gain/offset between them; compute metrics on the aligned images (pixel metrics on the
    native values, structural and colour metrics on display values, FLIP on LDR or HDR values as
    the inputs are); compute the local difference after removing the global change; find the
    regions that differ beyond the pair's own noise.

    Args:
        reference: path, LoadedImage or HxWx3 (or HxW grey) array: float32 sRGB-encoded in [0, 1] for
            LDR, linear for HDR (an array with values above 1 is taken for HDR); uint8 and uint16 arrays
            are scaled to [0, 1].
        test: the image to judge against the reference, same kinds.
        align: ``auto``, ``none``, ``translation`` or ``homography`` (see :func:`synthdiff.align.register`).
        resize: scale the test image to the reference's size when they differ.
        compensate_global: remove the global gain/offset before computing local differences.
        fast: skip the slower metrics (FLIP, MS-SSIM, CIEDE2000).
        flip_metric: compute FLIP (ignored when ``fast``).
        sensitivity: region threshold divisor (see :func:`synthdiff.diff.find_regions`).
        pixels_per_degree: observer model for FLIP.
        alpha: alpha policy for loading (``composite`` or ``ignore``).
        background: background colour for compositing alpha.
        max_pixels: decompression-bomb guard for loading.
        change_model: a shipped change model name or a checkpoint (``synthdiff train change``):
            also report which rendering feature changed where (on the aligned display images).
        realness_model: a shipped realness model name or a checkpoint (``synthdiff train realness``):
            also report how likely each image is a render rather than a photo (each image as loaded,
            before alignment).
        device: where the learned models (``change_model``, ``realness_model``) run: ``auto`` (a GPU
            when there is one), ``cpu``, ``cuda`` or ``cuda:N``. Unused without either model.
        change_native_size: run ``change_model`` on the pair at its own size even when it is larger
            than the model's training images (by default it is scaled down to them for the model, and
            the maps brought back: :func:`synthdiff.change.working_shape`).
        luma_border: pixels left out at each edge for ``psnr_y`` (super-resolution papers leave out
            the upscaling factor; :func:`synthdiff.metrics.luma_psnr`).

    Returns:
        A :class:`Comparison` with metrics, maps, regions and ``save_report``.

    Raises:
        SizeMismatchError: the sizes differ and neither ``resize`` nor an alignment that can handle
            it (``auto``/``homography``) was requested.
        AlignmentError: the sizes differ and registration failed.
        InvalidArgumentError: an image under 11 pixels on a side, an unknown ``device``, or a CUDA
            device on a machine without one (only checked when a learned model is asked for).
        SynthdiffError: any loading error (see :func:`synthdiff.io.load_image`).

    Example:
        >>> folder = "examples/wrong-light/"
        >>> result = compare(folder + "reference.png", folder + "test.png")  # doctest: +SKIP
        >>> result.metrics["ssim"], len(result.regions)  # doctest: +SKIP
    """
    timings: dict[str, float] = {}
    start = time.perf_counter()
    load_options = {"alpha": alpha, "background": background, "max_pixels": max_pixels}
    ref_image = _load(reference, "reference", **load_options)
    test_image = _load(test, "test", **load_options)
    timings["load"] = time.perf_counter() - start
    notes = pair_notes(ref_image, test_image)
    one_transparent = [
        role for image, role in _roles(ref_image, test_image) if image.info.transparent_fraction > 0
    ]
    if alpha == "composite" and len(one_transparent) == 1:
        notes.append(
            f"only the {one_transparent[0]} image is transparent anywhere, so the pair differs wherever "
            "the other image does not show that background. Fix: --background R,G,B (the colour the "
            "other image was rendered on) or --alpha ignore"
        )

    for image, role in _roles(ref_image, test_image):
        height, width = image.pixels.shape[:2]
        if min(height, width) < MIN_SIDE:
            raise InvalidArgumentError(
                f"Expected images of at least {MIN_SIDE}x{MIN_SIDE} pixels (SSIM's window), got a {role} "
                f"image of {width}x{height}. Fix: compare larger images or crops (upscale both alike if "
                "they are icons)."
            )
    hdr = ref_image.info.is_hdr and test_image.info.is_hdr
    ref_native, test_native, range_note = match_dynamic_range(
        ref_image.pixels, test_image.pixels, ref_image.info.is_hdr, test_image.info.is_hdr
    )
    if range_note:
        notes.append(range_note)

    original_test_shape = test_native.shape[:2]
    if ref_native.shape != test_native.shape:
        if resize:
            test_native, resize_note = resize_to_reference(ref_native, test_native)
            notes += [resize_note] if resize_note else []
            original_test_shape = test_native.shape[:2]
        elif align not in ("auto", "homography"):
            raise SizeMismatchError(
                f"The images differ in size: reference {ref_native.shape[1]}x{ref_native.shape[0]}, test "
                f"{test_native.shape[1]}x{test_native.shape[0]}. Fix: pass --align auto to register the "
                "test image onto the reference, or --resize to scale it."
            )

    if hdr:
        ref_display, test_display = hdr_pair_to_display(ref_native, test_native)
    else:
        ref_display, test_display = ref_native, test_native

    start = time.perf_counter()
    test_original = test_display
    test_display, valid, registration = align_to_reference(ref_display, test_display, align)
    height, width = ref_display.shape[:2]
    if not registration.is_identity:
        test_native, _ = warp_to_reference(test_native, registration.matrix, (height, width))
        # Pixels the test image does not cover take the reference's value, so they add no error.
        test_native = np.where(valid[..., None], test_native, ref_native)
    mask = None if valid.all() else valid
    timings["align"] = time.perf_counter() - start

    start = time.perf_counter()
    exposure = exposure_change_ev(ref_native, test_native, mask) if hdr else None
    change = estimate_global_change(ref_display, test_display, mask) if compensate_global else IDENTITY_CHANGE
    compensated = compensate_global and change.explains_pair
    if not change.estimated:
        notes.append(
            "the global gain/offset could not be estimated: almost every pixel is black or white in one "
            "of the images; nothing was removed"
        )
    if compensate_global and change.is_significant and not change.explains_pair:
        notes.append(
            "no global gain/offset explains the change (residual "
            f"{change.residual_scale:.3f} vs {change.residual_scale_before:.3f} without it): "
            "it was not removed and shows as local difference"
        )
    residual = local_difference(ref_display, test_display, change if compensated else None)
    difference = difference_magnitude(residual)
    timings["global_local"] = time.perf_counter() - start

    metrics: dict[str, float | None] = {}
    metric_notes: dict[str, str] = {}
    start = time.perf_counter()
    data_range = float(ref_native.max()) if hdr else 1.0
    data_range = data_range if data_range > 0 else 1.0
    metrics["mae"] = mean_absolute_error(ref_native, test_native, mask=mask)
    mse = mean_squared_error(ref_native, test_native, mask=mask)
    metrics["rmse"] = math.sqrt(mse)
    metrics["psnr"] = math.inf if mse == 0.0 else 10.0 * math.log10(data_range * data_range / mse)
    # On the images as compared: for an HDR pair, the tone-mapped display images.
    metrics["psnr_y"] = luma_psnr(ref_display, test_display, mask=mask, border=luma_border)
    if hdr:
        metric_notes["psnr"] = f"HDR: data range taken as the reference's peak value {data_range:.4g}"
        metric_notes["psnr_y"] = "HDR: computed on the tone-mapped display images"
        metric_notes["ssim"] = "HDR: computed on the tone-mapped display images"
    metrics["local_mae"] = float(difference[valid].mean())
    metrics["ssim"] = None  # keeps its place among the metrics (the report's and the CSV's order)
    # SSIM needs nothing that follows and spends its time in OpenCV and numpy, which release the GIL,
    # so it runs on a second thread beside the slower metrics and the region finder. What is left of
    # it after them counts in "pixel_ssim".
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="synthdiff-ssim") as ssim_thread:
        ssim_future = ssim_thread.submit(structural_similarity_map, ref_display, test_display, mask=mask)
        timings["pixel_ssim"] = time.perf_counter() - start

        flip_map = None
        if not fast:
            start = time.perf_counter()
            try:
                metrics["ms_ssim"] = multiscale_structural_similarity(ref_display, test_display)
            except InvalidArgumentError as error:
                metrics["ms_ssim"] = None
                metric_notes["ms_ssim"] = str(error)
            metrics["ciede2000"] = float(ciede2000_map(ref_display, test_display)[valid].mean())
            timings["ms_ssim_ciede2000"] = time.perf_counter() - start
            if flip_metric:
                start = time.perf_counter()
                flip_result = flip(ref_native, test_native, hdr=hdr, pixels_per_degree=pixels_per_degree)
                flip_map = flip_result.map
                metrics["flip"] = float(flip_map[valid].mean()) if mask is not None else flip_result.mean
                metric_notes["flip"] = (
                    "HDR-FLIP" if hdr else "LDR-FLIP"
                ) + f" at {pixels_per_degree:.1f} pixels per degree"
                timings["flip"] = time.perf_counter() - start

        start = time.perf_counter()
        found = find_regions(
            residual,
            ref_display,
            test_display,
            mask=mask,
            sensitivity=sensitivity,
            test_matrix=registration.matrix,
            test_shape=original_test_shape,
            difference=difference,
        )
        metrics["regions"] = float(len(found.regions))
        changed_fraction = float(found.changed[valid].mean())
        metrics["changed_fraction"] = changed_fraction
        timings["regions"] = time.perf_counter() - start

        start = time.perf_counter()
        ssim = ssim_future.result()
    metrics["ssim"] = ssim.score
    timings["pixel_ssim"] += time.perf_counter() - start
    median_difference = float(np.median(difference[valid]))
    if median_difference > EVERYWHERE_DIFFERENCE and changed_fraction < 0.5:
        notes.append(
            f"the images differ almost everywhere (median local difference {median_difference:.2f}): the "
            "region finder measures the pair's noise where part of the image is unchanged, so its boxes "
            "show at most the strongest parts here; the metrics describe the whole difference"
        )
    if registration.status == "failed":
        notes.append(registration.message)

    # Resolved once, and only when a learned model runs: a bad device name stops no plain comparison.
    target = None
    if change_model is not None or realness_model is not None:
        from synthdiff._device import resolve_device

        target = resolve_device(device)

    feature_maps, feature_model = None, None
    if change_model is not None:
        from synthdiff.change import predict_maps
        from synthdiff.change._infer import small_pair_note

        start = time.perf_counter()
        model, metadata = _change_model(change_model, str(target))
        feature_maps = predict_maps(
            model,
            metadata["features"],
            ref_display,
            test_display,
            threshold=metadata["thresholds"],
            low_threshold=metadata["low_thresholds"],
            min_area=metadata["min_area"],
            device=target,
            work_size=None if change_native_size else metadata["train_size"],
        )
        feature_model = {
            "checkpoint": str(change_model),
            "model": metadata["model"],
            "features": metadata["features"],
            "train_size": metadata["train_size"],
        }
        small = small_pair_note(ref_display.shape[0], ref_display.shape[1], metadata["train_size"])
        notes += [small] if small else []
        timings["rendering_features"] = time.perf_counter() - start

    realness = None
    if realness_model is not None:
        from synthdiff.realness import score_image

        start = time.perf_counter()
        scorer = _realness_model(realness_model, str(target))
        realness = {
            "model": {
                "checkpoint": str(realness_model),
                "model": scorer.name,
                "checkpoint_sha256": scorer.checkpoint_sha256,
            }
        }
        for key, pixels in (("reference", ref_display), ("test", test_original)):
            realness[key] = score_image(scorer, pixels).to_dict()
        timings["realness"] = time.perf_counter() - start

    options = {
        "align": align,
        "resize": resize,
        "compensate_global": compensate_global,
        "global_change_removed": compensated,
        "fast": fast,
        "flip": flip_metric and not fast,
        "sensitivity": sensitivity,
        "pixels_per_degree": pixels_per_degree,
        "luma_border": luma_border,
        "alpha": alpha,
        "background": list(background),
        "hdr": hdr,
    }
    return Comparison(
        reference_info=ref_image.info,
        test_info=test_image.info,
        reference=ref_display,
        test=test_display,
        test_original=test_original,
        valid=valid,
        registration=registration,
        global_change=change,
        metrics=metrics,
        metric_notes=metric_notes,
        regions=found.regions,
        difference=difference,
        excess=found.excess,
        ssim_map=ssim.map,
        flip_map=flip_map,
        noise=found.noise,
        options=options,
        notes=notes,
        timings=timings,
        feature_maps=feature_maps,
        exposure_change_ev=exposure,
        feature_model=feature_model,
        realness=realness,
    )
