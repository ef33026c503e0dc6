"""Pixel labels from Cycles render passes (pure numpy; no bpy needed).

Every label is computed from the passes of the two renders and from what the generator knows it
changed, never by differencing the final RGB images. The exact definitions, with examples, are in
docs/labels.md; the constants below are the ones that page quotes.

Shapes: passes are float32 ``HxWx3`` (colour passes) or ``HxW`` (index passes), linear light.
Label maps are boolean ``HxW``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy import ndimage

__all__ = [
    "Passes",
    "SceneState",
    "change_illumination",
    "change_objects",
    "change_reflection",
    "change_texture",
    "change_transparency",
    "object_boxes",
    "seg_illumination",
    "seg_objects",
    "seg_reflection",
    "seg_texture",
    "seg_transparency",
]

# Illumination: a pixel is "lit" when its direct light is at least this fraction of the image's
# 95th percentile of direct light; it "changed" when its light changed by this factor.
LIT_FRACTION = 0.2
ILLUMINATION_RATIO = 1.25
ILLUMINATION_RATIO_WEAK = 1.15
# A light change must also exceed this many standard deviations of the renders' sampling noise.
NOISE_SIGMAS = 3.0
NOISE_SIGMAS_WEAK = 2.0
# Near-black floor for light ratios, as a fraction of the 95th percentile of light.
DARK_FLOOR = 0.02
# Reflection: glossy light makes up at least this share of the light leaving the surface...
GLOSSY_SHARE = 0.35
# ...and is at least this fraction of the image's 95th percentile of outgoing light.
GLOSSY_FLOOR = 0.05
# Reflection change: relative and absolute (fraction of the 95th percentile) change of glossy light.
GLOSSY_CHANGE_RELATIVE = 0.2
GLOSSY_CHANGE_FLOOR = 0.02
# Texture change: smallest change of surface colour (albedo, 0-1) that counts.
ALBEDO_CHANGE = 0.05
# Connected components smaller than this fraction of the image (and 4 pixels) are dropped.
MIN_AREA_FRACTION = 0.0005

_LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)  # Rec. 709 / linear sRGB


@dataclass
class Passes:
    """The Cycles passes of one render.

    Attributes:
        colour: linear RGB passes (HxWx3) by Blender's pass name: "Diffuse Direct", "Glossy Color", ...
        object_index: the Object Index pass (HxW, the objects' ``pass_index``; 0 = nothing).
        material_index: the Material Index pass (HxW, the materials' ``pass_index``; 0 = nothing).
    """

    colour: dict[str, np.ndarray]
    object_index: np.ndarray
    material_index: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.object_index.shape[0]), int(self.object_index.shape[1]))

    def get(self, name: str) -> np.ndarray:
        """A colour pass, or zeros when the render did not produce it (e.g. no transmission)."""
        if name in self.colour:
            return self.colour[name]
        return np.zeros((*self.shape, 3), dtype=np.float32)

    def light(self, kind: str) -> np.ndarray:
        """Direct + indirect light of one kind ("Diffuse", "Glossy", "Transmission"), colour removed."""
        return self.get(f"{kind} Direct") + self.get(f"{kind} Indirect")

    def outgoing(self, kind: str) -> np.ndarray:
        """Light of one kind leaving the surface towards the camera: colour x (direct + indirect)."""
        return self.get(f"{kind} Color") * self.light(kind)


@dataclass
class SceneState:
    """What the generator knows about the scene in one render (pass indices of the relevant things).

    Attributes:
        textured: material indices with a varied texture mapping.
        transparent: material indices that are see-through (alpha < 1 or transmission > 0).
        movable: object indices that the ``objects`` feature may change.
    """

    textured: set[int] = field(default_factory=set)
    transparent: set[int] = field(default_factory=set)
    movable: set[int] = field(default_factory=set)


def _blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur over the two image axes (edges replicated); OpenCV, several times faster than scipy."""
    radius = max(1, int(np.ceil(4.0 * sigma)))
    image = np.ascontiguousarray(image, dtype=np.float32)
    if image.ndim == 3 and image.shape[2] > 4:  # OpenCV filters at most 4 channels at a time
        return np.stack([_blur(image[..., c], sigma) for c in range(image.shape[2])], axis=2)
    blurred = cv2.GaussianBlur(
        image, (2 * radius + 1, 2 * radius + 1), sigma, borderType=cv2.BORDER_REPLICATE
    )
    return blurred.reshape(image.shape)


def _luminance(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(rgb @ _LUMA, dtype=np.float32)


def _p95(values: np.ndarray, mask: np.ndarray | None = None) -> float:
    selected = values[mask] if mask is not None else values.ravel()
    if selected.size == 0:
        return 0.0
    return float(np.percentile(selected, 95))


def _min_area(shape: tuple[int, int]) -> int:
    return max(4, round(MIN_AREA_FRACTION * shape[0] * shape[1]))


def clean(mask: np.ndarray, *, open_first: bool) -> np.ndarray:
    """Remove sampling speckle from a thresholded map.

    Args:
        mask: boolean HxW map.
        open_first: apply a 3x3 opening (for maps thresholded from noisy light passes; not for
            maps built from index passes, whose one-pixel details are exact).

    Returns:
        The map without connected components smaller than the minimum area.
    """
    if open_first:
        mask = ndimage.binary_opening(mask, structure=np.ones((3, 3), bool))
    labels, count = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if count == 0:
        return np.zeros(mask.shape, dtype=bool)
    sizes = np.bincount(labels.ravel())
    keep = sizes >= _min_area((mask.shape[0], mask.shape[1]))
    keep[0] = False
    return np.asarray(keep[labels], dtype=bool)


def _index_in(index_pass: np.ndarray, indices: Iterable[int]) -> np.ndarray:
    wanted = np.array(sorted(set(indices)), dtype=np.int64)
    if wanted.size == 0:
        return np.zeros(index_pass.shape, dtype=bool)
    return np.isin(np.rint(index_pass).astype(np.int64), wanted)


def _in_either(reference: np.ndarray, test: np.ndarray, indices: Iterable[int]) -> np.ndarray:
    """Pixels showing one of ``indices`` in the reference's or the test's index pass."""
    wanted = list(indices)
    return _index_in(reference, wanted) | _index_in(test, wanted)


def _surface(passes: Passes) -> np.ndarray:
    return np.rint(passes.object_index).astype(np.int64) > 0


# --- illumination ---------------------------------------------------------------------------------


def _scene_light(passes: Passes) -> np.ndarray:
    """Light reaching the camera without surface colours: all light passes plus the background."""
    return (
        passes.light("Diffuse")
        + passes.light("Glossy")
        + passes.light("Transmission")
        + passes.get("Environment")
    )


def seg_illumination(passes: Passes) -> np.ndarray:
    """Directly lit surfaces: direct diffuse light >= LIT_FRACTION x its 95th percentile.

    The Diffuse Direct pass (light arriving straight from lamps and the sky, surface colour divided
    out) is smoothed within each object first. Surfaces outside this mask are in shadow, face away
    from every light, or have no diffuse component (pure metals).
    """
    regions = np.rint(passes.object_index).astype(np.int64)
    direct = _smooth_within(passes.get("Diffuse Direct"), regions, _light_sigma(passes.shape))
    level = _luminance(direct)
    surface = _surface(passes)
    threshold = LIT_FRACTION * _p95(level, surface)
    if threshold <= 0.0:
        return np.zeros(passes.shape, dtype=bool)
    return clean((level >= threshold) & surface, open_first=True)


def _light_sigma(shape: tuple[int, int]) -> float:
    """Smoothing of light passes: 2.7 pixels at 256x256, never below 1.5."""
    return max(1.5, min(shape) / 96.0)


def _smooth_within(image: np.ndarray, regions: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing that never mixes two regions (normalised convolution per region).

    Sampling noise is smoothed away inside each object while the edges between objects stay sharp.
    """
    smoothed = np.zeros_like(image)
    margin = int(np.ceil(4.0 * sigma))
    _, labels = np.unique(regions, return_inverse=True)
    labels = labels.reshape(regions.shape) + 1
    for number, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None:  # pragma: no cover - every label occurs
            continue
        # Work in the region's bounding box (plus the filter's reach): small objects cost little.
        rows = slice(max(0, box[0].start - margin), min(regions.shape[0], box[0].stop + margin))
        cols = slice(max(0, box[1].start - margin), min(regions.shape[1], box[1].stop + margin))
        inside = labels[rows, cols] == number
        weight = _blur(inside.astype(np.float32), sigma)
        values = _blur(image[rows, cols] * inside[..., None], sigma) / np.maximum(weight, 1e-6)[..., None]
        smoothed[rows, cols][inside] = values[inside]
    return smoothed


def _smoothed_with_noise(
    light: np.ndarray, regions: np.ndarray, sigma: float
) -> tuple[np.ndarray, np.ndarray]:
    """The smoothed light and the standard deviation of its sampling noise, per pixel and channel.

    The noise of the raw pass is the local RMS of its residual after smoothing; smoothing with a
    Gaussian of ``sigma`` pixels divides independent per-pixel noise by ``2 sqrt(pi) sigma``. Real
    detail inside a surface raises the estimate too, which only makes the test more cautious there.
    """
    smoothed = _smooth_within(light, regions, sigma)
    residual = light - smoothed
    local_rms = np.sqrt(_smooth_within(residual * residual, regions, sigma))
    return smoothed, local_rms / (2.0 * np.sqrt(np.pi) * sigma)


def change_illumination(reference: Passes, test: Passes) -> np.ndarray:
    """Where the light changed by more than ILLUMINATION_RATIO, beyond sampling noise, in any channel.

    Light is the sum of the diffuse, glossy and transmission light passes (surface colours divided
    out) plus the environment pass, smoothed within each object to suppress sampling noise. A pixel
    changes when, in some colour channel, the ratio of the two lights exceeds ILLUMINATION_RATIO (with
    a floor of DARK_FLOOR x the reference's 95th percentile, so near-black pixels give no large
    ratios) *and* the difference exceeds NOISE_SIGMAS standard deviations of the estimated sampling
    noise of the two renders; pixels that pass the weaker ILLUMINATION_RATIO_WEAK and
    NOISE_SIGMAS_WEAK tests join when connected to such a pixel.
    """
    sigma = _light_sigma(reference.shape)
    regions = np.rint(reference.object_index).astype(np.int64)
    light_ref, noise_ref = _smoothed_with_noise(_scene_light(reference), regions, sigma)
    light_test, noise_test = _smoothed_with_noise(_scene_light(test), regions, sigma)
    floor = DARK_FLOOR * max(_p95(_luminance(light_ref)), 1e-6)
    ratio = np.abs(np.log(light_test + floor) - np.log(light_ref + floor))
    sigmas = np.abs(light_test - light_ref) / np.maximum(np.hypot(noise_ref, noise_test), 1e-12)
    strong = clean(
        ((ratio > np.log(ILLUMINATION_RATIO)) & (sigmas > NOISE_SIGMAS)).any(axis=2), open_first=True
    )
    weak = ((ratio > np.log(ILLUMINATION_RATIO_WEAK)) & (sigmas > NOISE_SIGMAS_WEAK)).any(axis=2)
    return clean(_hysteresis(strong, weak), open_first=True)


def _hysteresis(strong: np.ndarray, weak: np.ndarray) -> np.ndarray:
    """As in Canny's edge detector: weak pixels count where they connect to strong ones, so a change
    near the threshold gives one region rather than a scatter of fragments."""
    regions, _ = ndimage.label(weak, structure=np.ones((3, 3), bool))
    touched = np.unique(regions[strong & weak])
    return np.asarray(np.isin(regions, touched[touched > 0]) | strong, dtype=bool)


# --- reflection -----------------------------------------------------------------------------------


def _smoothed_luminance(passes: Passes, light: np.ndarray) -> np.ndarray:
    """Luminance of an RGB light pass of ``passes``, smoothed within each object."""
    regions = np.rint(passes.object_index).astype(np.int64)
    return _luminance(_smooth_within(light, regions, _light_sigma(passes.shape)))


def _total_outgoing(passes: Passes) -> np.ndarray:
    """All light leaving the surfaces towards the camera: glossy + diffuse + transmission."""
    return passes.outgoing("Glossy") + passes.outgoing("Diffuse") + passes.outgoing("Transmission")


def seg_reflection(passes: Passes) -> np.ndarray:
    """Visible reflections: glossy light is >= GLOSSY_SHARE of the light leaving the surface and
    >= GLOSSY_FLOOR x the image's 95th percentile of outgoing light (highlights, mirror-like surfaces).
    """
    glossy = _smoothed_luminance(passes, passes.outgoing("Glossy"))
    total = _smoothed_luminance(passes, _total_outgoing(passes))
    floor = GLOSSY_FLOOR * _p95(total, _surface(passes))
    if floor <= 0.0:
        return np.zeros(passes.shape, dtype=bool)
    return clean((glossy >= GLOSSY_SHARE * total) & (glossy >= floor), open_first=True)


def _glossy_with_noise(passes: Passes) -> tuple[np.ndarray, np.ndarray]:
    """Glossy light leaving each surface (luminance), smoothed within objects, and its noise."""
    regions = np.rint(passes.object_index).astype(np.int64)
    glossy, noise = _smoothed_with_noise(passes.outgoing("Glossy"), regions, _light_sigma(passes.shape))
    return _luminance(glossy), _luminance(noise)  # the weighted sum bounds the luminance's noise


def change_reflection(reference: Passes, test: Passes, changed_materials: Iterable[int]) -> np.ndarray:
    """Pixels of the changed materials whose glossy light, or all the light they send out, changed
    beyond sampling noise.

    Either change must exceed GLOSSY_CHANGE_RELATIVE of the larger value, GLOSSY_CHANGE_FLOOR x the
    reference's 95th percentile of outgoing light, and NOISE_SIGMAS standard deviations of the two
    renders' estimated sampling noise; pixels passing half the relative change and NOISE_SIGMAS_WEAK
    join when connected to such a pixel (hysteresis). The glossy test (luminance) finds highlights
    that sharpen or fade; the outgoing test (diffuse + glossy + transmission, any colour channel; labels
    version 2) finds what a metallic or specular change does to the rest of the surface's light, such
    as a floor turned metal losing its diffuse colour while its glossy light stays as bright. Nothing
    but the reflection parameters of these materials changed in a reflection pair, so any change of
    their light beyond noise is a reflection change.
    """
    total_ref = _smoothed_luminance(reference, _total_outgoing(reference))
    floor = GLOSSY_CHANGE_FLOOR * max(_p95(total_ref, _surface(reference)), 1e-6)
    where = _in_either(reference.material_index, test.material_index, changed_materials)
    glossy_ref, noise_ref = _glossy_with_noise(reference)
    glossy_test, noise_test = _glossy_with_noise(test)
    strong, weak = _relative_change(glossy_ref, glossy_test, np.hypot(noise_ref, noise_test), floor)
    out_ref, out_noise_ref = _outgoing_with_noise(reference)
    out_test, out_noise_test = _outgoing_with_noise(test)
    out_strong, out_weak = _relative_change(out_ref, out_test, np.hypot(out_noise_ref, out_noise_test), floor)
    strong = clean((strong | out_strong.any(axis=2)) & where, open_first=True)
    return clean(_hysteresis(strong, (weak | out_weak.any(axis=2)) & where), open_first=True)


def _outgoing_with_noise(passes: Passes) -> tuple[np.ndarray, np.ndarray]:
    """All light leaving each surface (RGB), smoothed within objects, and its noise."""
    regions = np.rint(passes.object_index).astype(np.int64)
    return _smoothed_with_noise(_total_outgoing(passes), regions, _light_sigma(passes.shape))


def _relative_change(
    before: np.ndarray, after: np.ndarray, noise: np.ndarray, floor: float
) -> tuple[np.ndarray, np.ndarray]:
    """The strong and weak tests of :func:`change_reflection`, elementwise."""
    delta = np.abs(after - before)
    larger = np.maximum(before, after)
    strong = (delta >= GLOSSY_CHANGE_RELATIVE * larger) & (delta >= floor) & (delta > NOISE_SIGMAS * noise)
    weak = (
        (delta >= 0.5 * GLOSSY_CHANGE_RELATIVE * larger)
        & (delta >= floor)
        & (delta > NOISE_SIGMAS_WEAK * noise)
    )
    return strong, weak


# --- texture --------------------------------------------------------------------------------------


def seg_texture(passes: Passes, state: SceneState) -> np.ndarray:
    """Surfaces whose visible material has a texture (from the Material Index pass)."""
    return clean(_index_in(passes.material_index, state.textured), open_first=False)


def change_texture(reference: Passes, test: Passes, changed_materials: Iterable[int]) -> np.ndarray:
    """Pixels of the materials whose texture mapping changed, where the surface colour changed by
    more than ALBEDO_CHANGE (the Diffuse Color + Glossy Color passes, which carry no lighting)."""
    albedo_ref = reference.get("Diffuse Color") + reference.get("Glossy Color")
    albedo_test = test.get("Diffuse Color") + test.get("Glossy Color")
    moved = np.abs(albedo_test - albedo_ref).max(axis=2) > ALBEDO_CHANGE
    where = _in_either(reference.material_index, test.material_index, changed_materials)
    return clean(moved & where, open_first=False)


# --- transparency ---------------------------------------------------------------------------------


def seg_transparency(passes: Passes, state: SceneState) -> np.ndarray:
    """Surfaces whose visible material is see-through (alpha < 1 or transmission > 0) in this render."""
    return clean(_index_in(passes.material_index, state.transparent), open_first=False)


def change_transparency(reference: Passes, test: Passes, changed_materials: Iterable[int]) -> np.ndarray:
    """Pixels showing a material whose alpha or transmission changed, in either render."""
    return clean(
        _in_either(reference.material_index, test.material_index, changed_materials), open_first=False
    )


# --- objects --------------------------------------------------------------------------------------


def seg_objects(passes: Passes, state: SceneState) -> np.ndarray:
    """Pixels of the objects the ``objects`` feature can change (not the ground)."""
    return clean(_index_in(passes.object_index, state.movable), open_first=False)


def change_objects(reference: Passes, test: Passes, changed_objects: Iterable[int]) -> np.ndarray:
    """Pixels covered by an added, removed, moved or recoloured object in either render."""
    return clean(_in_either(reference.object_index, test.object_index, changed_objects), open_first=False)


def object_boxes(
    reference: Passes, test: Passes, changes: Mapping[int, str], names: Mapping[int, str]
) -> list[dict[str, object]]:
    """Boxes of each changed object in both renders, from the Object Index pass.

    Returns:
        One dict per changed object: index, name, change kind, and ``box_reference`` /
        ``box_test`` as [x0, y0, x1, y1] (pixels, x1/y1 exclusive) or None where it is not visible.
    """
    boxes: list[dict[str, object]] = []
    for index, kind in sorted(changes.items()):
        entry: dict[str, object] = {"object_index": index, "name": names.get(index, ""), "change": kind}
        for key, passes in (("box_reference", reference), ("box_test", test)):
            ys, xs = np.nonzero(np.rint(passes.object_index).astype(np.int64) == index)
            entry[key] = (
                None if xs.size == 0 else [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]
            )
        boxes.append(entry)
    return boxes
