"""Label rules on synthetic passes (no Blender): invariants, known changes, noise, index-based masks."""

from __future__ import annotations

import numpy as np
import pytest

from synthdiff.synth import Passes, SceneState
from synthdiff.synth import _labels as labels

SIZE = 64


def make_passes(
    *,
    light: float = 1.0,
    albedo: float = 0.5,
    glossy: float = 0.0,
    objects: np.ndarray | None = None,
    materials: np.ndarray | None = None,
    seed: int | None = None,
    noise: float = 0.0,
) -> Passes:
    """A flat grey scene: every pixel a surface with the given light, colour and glossy light."""
    shape = (SIZE, SIZE, 3)
    rng = np.random.default_rng(seed)

    def lit(value: float) -> np.ndarray:
        base = np.full(shape, value, np.float32)
        if noise:
            base *= (1.0 + noise * rng.standard_normal(shape)).astype(np.float32).clip(0.0, None)
        return base

    colour = {
        "Diffuse Direct": lit(0.8 * light),
        "Diffuse Indirect": lit(0.2 * light),
        "Diffuse Color": np.full(shape, albedo, np.float32),
        "Glossy Direct": lit(glossy),
        "Glossy Color": np.full(shape, 0.5, np.float32),
    }
    ones = np.ones((SIZE, SIZE), np.float32)
    return Passes(
        colour=colour,
        object_index=objects if objects is not None else ones,
        material_index=materials if materials is not None else ones,
    )


def square(value: float, background: float = 1.0, box: slice = slice(16, 40)) -> np.ndarray:
    image = np.full((SIZE, SIZE), background, np.float32)
    image[box, box] = value
    return image


def test_identical_passes_give_empty_change_maps() -> None:
    passes = make_passes(glossy=0.3)
    assert not labels.change_illumination(passes, passes).any()
    assert not labels.change_reflection(passes, passes, [1]).any()
    assert not labels.change_texture(passes, passes, [1]).any()


def test_sampling_noise_alone_is_not_an_illumination_change() -> None:
    # 30 % multiplicative noise per pixel, independent in the two renders, as at low sample counts.
    reference = make_passes(seed=1, noise=0.3)
    test = make_passes(seed=2, noise=0.3)
    assert labels.change_illumination(reference, test).mean() < 0.001


def test_brighter_region_is_an_illumination_change_exactly_there() -> None:
    reference = make_passes()
    test = make_passes()
    for name in ("Diffuse Direct", "Diffuse Indirect"):
        test.colour[name] = test.colour[name] * square(2.0)[..., None]
    change = labels.change_illumination(reference, test)
    expected = square(1.0, background=0.0).astype(bool)
    # The blur widens the boundary by about a pixel; the interior and the far field are exact.
    assert change[20:36, 20:36].all()
    assert not change[:12].any() and not change[44:].any()
    assert abs(int(change.sum()) - int(expected.sum())) < 0.35 * expected.sum()


def test_shadow_is_not_lit() -> None:
    passes = make_passes()
    passes.colour["Diffuse Direct"] = passes.colour["Diffuse Direct"] * square(0.05)[..., None]
    lit = labels.seg_illumination(passes)
    assert not lit[22:34, 22:34].any()
    assert lit[:10].all()


def test_reflection_segmentation_marks_glossy_highlights() -> None:
    passes = make_passes(light=0.5)
    passes.colour["Glossy Direct"] = np.repeat(square(3.0, background=0.0)[..., None], 3, axis=2)
    highlight = labels.seg_reflection(passes)
    assert highlight[22:34, 22:34].all()
    assert not highlight[:10].any()


def test_reflection_change_stays_inside_changed_materials() -> None:
    materials = square(2.0)  # material 2 in the square, 1 around it
    reference = make_passes(glossy=0.1, materials=materials)
    test = make_passes(glossy=0.6, materials=materials)  # glossier everywhere
    change = labels.change_reflection(reference, test, changed_materials=[2])
    assert change[20:36, 20:36].all()
    assert not change[:14].any()


def test_texture_change_needs_an_albedo_change_in_a_changed_material() -> None:
    materials = square(2.0)
    reference = make_passes(materials=materials)
    test = make_passes(materials=materials)
    stripes = np.zeros((SIZE, SIZE, 3), np.float32)
    stripes[:, ::4] = 0.4
    test.colour["Diffuse Color"] = test.colour["Diffuse Color"] + stripes
    change = labels.change_texture(reference, test, changed_materials=[2])
    assert change[16:40, 16:40][:, ::4].all()
    assert not change[:16].any()  # the albedo changed there too, but material 1 was not changed
    assert not labels.change_texture(reference, test, changed_materials=[]).any()


def test_index_masks_follow_the_scene_state() -> None:
    materials = square(3.0)
    passes = make_passes(materials=materials, objects=square(5.0))
    state = SceneState(textured={1}, transparent={3}, movable={5})
    assert (labels.seg_texture(passes, state) == (materials == 1)).all()
    assert (labels.seg_transparency(passes, state) == (materials == 3)).all()
    assert (labels.seg_objects(passes, state) == (passes.object_index == 5)).all()
    changed = labels.change_transparency(passes, passes, [3])
    assert (changed == (materials == 3)).all()


def test_object_changes_and_boxes_in_both_images() -> None:
    reference_objects = square(4.0, box=slice(8, 20))  # object 4 at the top left
    test_objects = np.ones((SIZE, SIZE), np.float32)
    test_objects[40:56, 30:50] = 4.0  # moved
    reference = make_passes(objects=reference_objects)
    test = make_passes(objects=test_objects)
    change = labels.change_objects(reference, test, [4])
    assert change[8:20, 8:20].all() and change[40:56, 30:50].all()
    assert int(change.sum()) == 12 * 12 + 16 * 20
    boxes = labels.object_boxes(reference, test, {4: "moved", 9: "added"}, {4: "cube"})
    assert boxes[0] == {
        "object_index": 4,
        "name": "cube",
        "change": "moved",
        "box_reference": [8, 8, 20, 20],
        "box_test": [30, 40, 50, 56],
    }
    assert boxes[1]["box_reference"] is None and boxes[1]["box_test"] is None


@pytest.mark.parametrize("open_first", [True, False])
def test_clean_drops_specks_and_keeps_regions(open_first: bool) -> None:
    mask = np.zeros((SIZE, SIZE), bool)
    mask[10:30, 10:30] = True
    mask[50, 50] = True  # a one-pixel speck
    cleaned = labels.clean(mask, open_first=open_first)
    assert cleaned[10:30, 10:30].all()
    assert not cleaned[50, 50]


def test_glossy_sampling_noise_alone_is_not_a_reflection_change() -> None:
    reference = make_passes(glossy=0.5, seed=1, noise=0.5)
    test = make_passes(glossy=0.5, seed=2, noise=0.5)
    assert labels.change_reflection(reference, test, changed_materials=[1]).mean() < 0.001
    glossier = make_passes(glossy=1.5, seed=2, noise=0.5)
    assert labels.change_reflection(reference, glossier, changed_materials=[1]).mean() > 0.9


def test_a_surface_turned_metal_is_a_reflection_change_where_its_diffuse_light_vanished() -> None:
    # Glossy light as bright before and after (the glossy test alone sees nothing), but the diffuse
    # colour is gone, as when metallic rises: labels version 2 counts it, in the changed material only.
    materials = square(2.0)
    reference = make_passes(glossy=0.5, materials=materials, seed=1, noise=0.05)
    test = make_passes(glossy=0.5, albedo=0.0, materials=materials, seed=2, noise=0.05)
    change = labels.change_reflection(reference, test, changed_materials=[2])
    assert change[20:36, 20:36].all()
    assert not change[:14].any()
    same = make_passes(glossy=0.5, materials=materials, seed=3, noise=0.05)
    assert labels.change_reflection(reference, same, changed_materials=[2]).mean() < 0.001
