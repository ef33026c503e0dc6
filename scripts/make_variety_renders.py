"""Render a synthetic *training* source for the realness classifier whose content is not the generator's.

Every synthetic training source so far shows the same kind of picture: a few primitives on a floor
under a studio HDRI (the generator's scenes in Cycles and EEVEE, and the engine-neutral scenes in
Mitsuba and VTK). A classifier fitted on them can learn "a few objects on a floor = render" and call
every other kind of computer graphics a photograph. This source renders, with Cycles, the other kinds
of picture that computer graphics commonly makes (docs/models.md, "Renders of varied content"):

- ``closeup``: a procedural material (wood, marble, bricks, cells, checker, waves, noise) filling the frame;
- ``swatches``: a grid of bevelled tiles, each with its own material, as material libraries show them;
- ``product``: one smooth object on a plain, gradient or black backdrop, lit by one to three lights;
- ``text``: extruded, bevelled 3D letters in front of a backdrop;
- ``landscape``: a displaced terrain, with or without a water plane, under a gradient world;
- ``classic``: mirror and glass spheres over a checkered or tiled infinite plane (the ray tracer's demo);
- ``clutter``: twenty to forty small objects scattered on a surface, seen from above.

Sizes 256 to 640 pixels wide (not always square), 16 to 256 samples, with and without denoising, three
view transforms. No sky texture is used, so that the test-only ``blender-sky-scenes`` keeps a look of its
own.

    .venv/bin/python scripts/make_variety_renders.py --out data/realness-variety/synthetic/blender-variety

Resumable: images already written are skipped; one image is written at a time (``.partial`` then renamed).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_realness_test_renders import _material as _plain_or_procedural
from make_realness_test_renders import render_png

KINDS = ("closeup", "swatches", "product", "text", "landscape", "classic", "clutter")
SIZES = ((256, 256), (320, 240), (384, 288), (400, 300), (480, 360), (512, 384), (640, 480), (360, 480))
WORDS = ("POV", "RENDER", "Hello", "3D", "TEST", "demo", "Blend", "glass", "synth", "ABC", "2026", "metal")


def _material(bpy: Any, rng: random.Random, name: str) -> Any:
    """A material: the test renders' kinds (plain, noise, voronoi, wave, brick, metal, glass) or one of
    wood rings, marble, checker, magic, and an emitter."""
    kind = rng.choice(("base", "base", "wood", "marble", "checker", "magic", "emit"))
    if kind == "base":
        return _plain_or_procedural(bpy, rng, name)
    material = bpy.data.materials.new(name)
    nodes, links = material.node_tree.nodes, material.node_tree.links
    bsdf = nodes["Principled BSDF"]
    bsdf.inputs["Roughness"].default_value = rng.uniform(0.1, 0.8)
    colour = lambda lo, hi: (*[rng.uniform(lo, hi) for _ in range(3)], 1.0)  # noqa: E731
    if kind == "emit":
        bsdf.inputs["Emission Color"].default_value = colour(0.3, 1.0)
        bsdf.inputs["Emission Strength"].default_value = rng.uniform(1.0, 6.0)
        return material
    if kind == "wood":
        texture = nodes.new("ShaderNodeTexWave")
        texture.wave_type = "RINGS"
        texture.inputs["Distortion"].default_value = rng.uniform(2.0, 12.0)
        texture.inputs["Detail"].default_value = rng.uniform(1.0, 6.0)
        low, high = (rng.uniform(0.15, 0.35), rng.uniform(0.08, 0.2), 0.03, 1.0), (0.7, 0.45, 0.2, 1.0)
    elif kind == "marble":
        texture = nodes.new("ShaderNodeTexNoise")
        texture.inputs["Detail"].default_value = rng.uniform(4.0, 12.0)
        texture.inputs["Distortion"].default_value = rng.uniform(1.0, 5.0)
        low, high = colour(0.0, 0.3), colour(0.75, 1.0)
    elif kind == "checker":
        texture = nodes.new("ShaderNodeTexChecker")
        texture.inputs["Color1"].default_value = colour(0.0, 1.0)
        texture.inputs["Color2"].default_value = colour(0.0, 1.0)
        low, high = (0.0, 0.0, 0.0, 1.0), (1.0, 1.0, 1.0, 1.0)
    else:
        texture = nodes.new("ShaderNodeTexMagic")
        texture.turbulence_depth = rng.randint(1, 5)
        low, high = colour(0.0, 0.5), colour(0.5, 1.0)
    texture.inputs["Scale"].default_value = rng.uniform(1.5, 10.0)
    if kind == "checker":
        links.new(texture.outputs["Color"], bsdf.inputs["Base Color"])
        return material
    ramp = nodes.new("ShaderNodeValToRGB")
    ramp.color_ramp.elements[0].color, ramp.color_ramp.elements[1].color = low, high
    links.new(texture.outputs["Fac"], ramp.inputs["Fac"])
    links.new(ramp.outputs["Color"], bsdf.inputs["Base Color"])
    return material


def _assign(obj: Any, material: Any) -> None:
    obj.data.materials.clear()
    obj.data.materials.append(material)


def _world(bpy: Any, rng: random.Random, scene: Any, kind: str | None = None) -> str:
    """A plain colour, a vertical gradient or a black world (``kind``, or drawn); returns which."""
    world = bpy.data.worlds.new("world")
    scene.world = world
    nodes, links = world.node_tree.nodes, world.node_tree.links
    background = nodes["Background"]
    kind = kind or rng.choice(("plain", "gradient", "gradient", "black"))
    if kind == "black":
        background.inputs["Color"].default_value = (0.0, 0.0, 0.0, 1.0)
        return kind
    if kind == "plain":
        background.inputs["Color"].default_value = (*[rng.uniform(0.05, 0.9) for _ in range(3)], 1.0)
        background.inputs["Strength"].default_value = rng.uniform(0.3, 1.2)
        return kind
    # Up-down gradient: the Z of the view direction (the world's Generated coordinates) through a ramp.
    coordinates = nodes.new("ShaderNodeTexCoord")
    split = nodes.new("ShaderNodeSeparateXYZ")
    ramp = nodes.new("ShaderNodeValToRGB")
    ramp.color_ramp.elements[0].position = 0.45
    ramp.color_ramp.elements[0].color = (*[rng.uniform(0.3, 1.0) for _ in range(3)], 1.0)
    ramp.color_ramp.elements[1].color = (*[rng.uniform(0.0, 0.6) for _ in range(3)], 1.0)
    links.new(coordinates.outputs["Generated"], split.inputs["Vector"])
    links.new(split.outputs["Z"], ramp.inputs["Fac"])
    links.new(ramp.outputs["Color"], background.inputs["Color"])
    background.inputs["Strength"].default_value = rng.uniform(0.5, 1.5)
    return kind


def _light(bpy: Any, rng: random.Random, scene: Any, target: tuple[float, float, float]) -> None:
    kind = rng.choice(("AREA", "POINT", "SUN", "SPOT"))
    light = bpy.data.lights.new(f"light-{kind}", type=kind)
    light.energy = {"SUN": rng.uniform(2, 6), "AREA": rng.uniform(200, 1500)}.get(
        kind, rng.uniform(300, 2000)
    )
    obj = bpy.data.objects.new(light.name, light)
    angle, height, distance = rng.uniform(0, math.tau), rng.uniform(2, 8), rng.uniform(3, 8)
    obj.location = (target[0] + distance * math.cos(angle), target[1] + distance * math.sin(angle), height)
    aim = obj.constraints.new("TRACK_TO")
    aim.target = _empty(bpy, scene, target)
    aim.track_axis, aim.up_axis = "TRACK_NEGATIVE_Z", "UP_Y"
    scene.collection.objects.link(obj)


def _empty(bpy: Any, scene: Any, location: tuple[float, float, float]) -> Any:
    empty = bpy.data.objects.new("target", None)
    empty.location = location
    scene.collection.objects.link(empty)
    return empty


def _camera(
    bpy: Any,
    scene: Any,
    location: tuple[float, float, float],
    target: tuple[float, float, float],
    lens: float = 50.0,
    ortho: float | None = None,
) -> None:
    camera = bpy.data.objects.new("camera", bpy.data.cameras.new("camera"))
    camera.location = location
    if ortho is not None:
        camera.data.type, camera.data.ortho_scale = "ORTHO", ortho
    else:
        camera.data.lens = lens
    aim = camera.constraints.new("TRACK_TO")
    aim.target = _empty(bpy, scene, target)
    aim.track_axis, aim.up_axis = "TRACK_NEGATIVE_Z", "UP_Y"
    scene.collection.objects.link(camera)
    scene.camera = camera


def _object(bpy: Any, rng: random.Random, smooth: bool = True) -> Any:
    shape = rng.choice(("monkey", "torus", "sphere", "cube", "cylinder", "cone", "ico"))
    add = {
        "monkey": lambda: bpy.ops.mesh.primitive_monkey_add(),
        "torus": lambda: bpy.ops.mesh.primitive_torus_add(minor_radius=rng.uniform(0.1, 0.4)),
        "sphere": lambda: bpy.ops.mesh.primitive_uv_sphere_add(radius=0.8),
        "cube": lambda: bpy.ops.mesh.primitive_cube_add(size=1.3),
        "cylinder": lambda: bpy.ops.mesh.primitive_cylinder_add(radius=0.6, depth=rng.uniform(0.4, 2.0)),
        "cone": lambda: bpy.ops.mesh.primitive_cone_add(radius1=0.7, depth=1.4),
        "ico": lambda: bpy.ops.mesh.primitive_ico_sphere_add(subdivisions=1, radius=0.8),
    }[shape]
    add()
    obj = bpy.context.object
    if smooth and shape in ("monkey", "cube", "cylinder"):
        modifier = obj.modifiers.new("smooth", "SUBSURF" if shape == "monkey" else "BEVEL")
        if modifier.type == "SUBSURF":
            modifier.levels = modifier.render_levels = 2
        else:
            modifier.width, modifier.segments = 0.06, 3
    if shape != "ico" and (smooth or rng.random() < 0.5):
        bpy.ops.object.shade_smooth()
    _assign(obj, _material(bpy, rng, f"{shape}-material"))
    return obj


def _plane(
    bpy: Any, rng: random.Random, size: float, location: tuple[float, float, float] = (0, 0, 0)
) -> Any:
    bpy.ops.mesh.primitive_plane_add(size=size, location=location)
    obj = bpy.context.object
    _assign(obj, _material(bpy, rng, "plane"))
    return obj


def closeup(bpy: Any, rng: random.Random, scene: Any) -> None:
    _plane(bpy, rng, 4.0)
    _world(bpy, rng, scene)
    _light(bpy, rng, scene, (0.0, 0.0, 0.0))
    tilt = rng.uniform(0.0, 1.2)
    _camera(bpy, scene, (0.0, -tilt, 2.0), (0.0, 0.0, 0.0), ortho=rng.uniform(2.0, 3.5))


def swatches(bpy: Any, rng: random.Random, scene: Any) -> None:
    columns, rows = rng.randint(3, 6), rng.randint(2, 5)
    backdrop = _plane(bpy, rng, 60.0, (0.0, 0.0, -0.2))
    _assign(backdrop, _plain_or_procedural(bpy, random.Random(rng.random()), "backdrop"))
    for row in range(rows):
        for column in range(columns):
            bpy.ops.mesh.primitive_cube_add(size=1.0, location=(column * 1.15, -row * 1.15, 0.0))
            tile = bpy.context.object
            tile.scale = (1.0, 1.0, 0.15)
            tile.modifiers.new("bevel", "BEVEL").width = rng.uniform(0.02, 0.08)
            _assign(tile, _material(bpy, rng, f"tile-{row}-{column}"))
    _world(bpy, rng, scene)
    centre = ((columns - 1) * 0.575, -(rows - 1) * 0.575, 0.0)
    _light(bpy, rng, scene, centre)
    span = max(columns, rows) * 1.2 + 0.5
    _camera(bpy, scene, (centre[0], centre[1] - rng.uniform(0, 2), 8.0), centre, ortho=span)


def product(bpy: Any, rng: random.Random, scene: Any) -> None:
    obj = _object(bpy, rng)
    obj.rotation_euler = [rng.uniform(0, math.tau) for _ in range(3)]
    if rng.random() < 0.5:  # a seamless floor under it, or nothing
        _plane(bpy, rng, 40.0, (0.0, 0.0, -1.0))
    _world(bpy, rng, scene)
    for _ in range(rng.randint(1, 3)):
        _light(bpy, rng, scene, (0.0, 0.0, 0.0))
    angle = rng.uniform(0, math.tau)
    distance = rng.uniform(3.5, 6.0)
    location = (distance * math.cos(angle), distance * math.sin(angle), rng.uniform(0.5, 3.0))
    _camera(bpy, scene, location, (0.0, 0.0, 0.0), lens=rng.uniform(35, 90))


def text(bpy: Any, rng: random.Random, scene: Any) -> None:
    curve = bpy.data.curves.new("text", type="FONT")
    curve.body = " ".join(rng.sample(WORDS, rng.randint(1, 2)))
    curve.align_x, curve.align_y = "CENTER", "CENTER"
    curve.extrude = rng.uniform(0.02, 0.3)
    curve.bevel_depth = rng.uniform(0.0, 0.04)
    obj = bpy.data.objects.new("text", curve)
    scene.collection.objects.link(obj)
    obj.data.materials.append(_material(bpy, rng, "letters"))
    obj.rotation_euler = (math.radians(90), 0.0, 0.0)
    obj.location = (0.0, 0.0, 0.6)
    if rng.random() < 0.7:
        backdrop = _plane(bpy, rng, 30.0, (0.0, 3.0, 0.0))
        backdrop.rotation_euler = (math.radians(90), 0.0, 0.0)
    _world(bpy, rng, scene)
    _light(bpy, rng, scene, (0.0, 0.0, 0.5))
    width = len(curve.body) * 0.6
    location = (rng.uniform(-2, 2), -rng.uniform(1.2, 2.0) * width - 2.0, rng.uniform(0.2, 2.5))
    _camera(bpy, scene, location, (0.0, 0.0, 0.6), lens=rng.uniform(30, 60))


def landscape(bpy: Any, rng: random.Random, scene: Any) -> None:
    bpy.ops.mesh.primitive_grid_add(x_subdivisions=120, y_subdivisions=120, size=60)
    ground = bpy.context.object
    noise = bpy.data.textures.new("terrain", type="CLOUDS")
    noise.noise_scale = rng.uniform(6.0, 15.0)  # hills several units wide on the 60-unit grid
    displace = ground.modifiers.new("terrain", "DISPLACE")
    displace.texture, displace.strength = noise, rng.uniform(4.0, 9.0)
    bpy.ops.object.shade_smooth()
    _assign(ground, _material(bpy, rng, "ground"))
    if rng.random() < 0.6:
        water = _plane(bpy, rng, 200.0, (0.0, 0.0, rng.uniform(-1.5, 0.5)))
        glossy = bpy.data.materials.new("water")
        bsdf = glossy.node_tree.nodes["Principled BSDF"]
        bsdf.inputs["Base Color"].default_value = (0.05, 0.15, 0.25, 1.0)
        bsdf.inputs["Roughness"].default_value = rng.uniform(0.0, 0.1)
        bsdf.inputs["Transmission Weight"].default_value = rng.choice((0.0, 1.0))
        _assign(water, glossy)
    _world(bpy, rng, scene, "gradient")
    sun = bpy.data.objects.new("sun", bpy.data.lights.new("sun", type="SUN"))
    sun.data.energy = rng.uniform(2, 5)
    sun.rotation_euler = (math.radians(rng.uniform(20, 70)), 0.0, rng.uniform(0, math.tau))
    scene.collection.objects.link(sun)
    _camera(bpy, scene, (0.0, -25.0, rng.uniform(8, 16)), (0.0, 5.0, 2.0), lens=rng.uniform(20, 45))


def classic(bpy: Any, rng: random.Random, scene: Any) -> None:
    floor = _plane(bpy, rng, 400.0)
    checker = bpy.data.materials.new("floor")
    nodes = checker.node_tree.nodes
    texture = nodes.new("ShaderNodeTexChecker" if rng.random() < 0.7 else "ShaderNodeTexBrick")
    texture.inputs["Scale"].default_value = rng.uniform(40, 200)
    checker.node_tree.links.new(texture.outputs["Color"], nodes["Principled BSDF"].inputs["Base Color"])
    _assign(floor, checker)
    for index in range(rng.randint(1, 4)):
        bpy.ops.mesh.primitive_uv_sphere_add(
            radius=1.0, location=(index * 2.3 - 3.0, rng.uniform(-1, 2), 1.0)
        )
        bpy.ops.object.shade_smooth()
        sphere = bpy.context.object
        material = bpy.data.materials.new(f"sphere-{index}")
        bsdf = material.node_tree.nodes["Principled BSDF"]
        if rng.random() < 0.5:
            bsdf.inputs["Metallic"].default_value, bsdf.inputs["Roughness"].default_value = 1.0, 0.02
            bsdf.inputs["Base Color"].default_value = (*[rng.uniform(0.6, 1.0) for _ in range(3)], 1.0)
        else:
            bsdf.inputs["Transmission Weight"].default_value, bsdf.inputs["Roughness"].default_value = (
                1.0,
                0.0,
            )
        _assign(sphere, material)
    _world(bpy, rng, scene, "gradient")
    _light(bpy, rng, scene, (0.0, 0.0, 1.0))
    _camera(
        bpy, scene, (rng.uniform(-3, 3), -rng.uniform(8, 14), rng.uniform(1.5, 5.0)), (0.0, 0.5, 0.8), lens=40
    )


def clutter(bpy: Any, rng: random.Random, scene: Any) -> None:
    _plane(bpy, rng, 30.0)
    for _ in range(rng.randint(20, 40)):
        obj = _object(bpy, rng, smooth=rng.random() < 0.5)
        obj.scale = (rng.uniform(0.2, 0.5),) * 3
        obj.location = (rng.uniform(-4, 4), rng.uniform(-4, 4), 0.3)
        obj.rotation_euler = [rng.uniform(0, math.tau) for _ in range(3)]
    _world(bpy, rng, scene)
    for _ in range(rng.randint(1, 2)):
        _light(bpy, rng, scene, (0.0, 0.0, 0.0))
    _camera(bpy, scene, (rng.uniform(-2, 2), -rng.uniform(2, 7), rng.uniform(6, 10)), (0, 0, 0), lens=35)


SCENES = {
    "closeup": closeup,
    "swatches": swatches,
    "product": product,
    "text": text,
    "landscape": landscape,
    "classic": classic,
    "clutter": clutter,
}


def _cycles(bpy: Any, rng: random.Random, scene: Any) -> dict[str, Any]:
    """Cycles as the generator uses it: 16 to 256 samples, denoised or not (the unstyled renders)."""
    scene.render.engine = "CYCLES"
    scene.cycles.samples = rng.choice((16, 32, 64, 128, 256))
    scene.cycles.use_denoising = rng.random() < 0.6
    return {"samples": scene.cycles.samples, "denoise": scene.cycles.use_denoising}


def _workbench(bpy: Any, rng: random.Random, scene: Any) -> dict[str, Any]:
    """Blender's Workbench engine: viewport-style shading (studio light, matcap or flat), no light
    transport at all."""
    scene.render.engine = "BLENDER_WORKBENCH"
    for material in bpy.data.materials:  # Workbench shows a material's viewport colour, grey by default
        bsdf = material.node_tree.nodes.get("Principled BSDF") if material.node_tree else None
        if bsdf is None:
            continue
        base = bsdf.inputs["Base Color"]
        material.diffuse_color = (
            (*[rng.uniform(0.05, 0.95) for _ in range(3)], 1.0) if base.is_linked else base.default_value
        )
        material.metallic = bsdf.inputs["Metallic"].default_value
        material.roughness = bsdf.inputs["Roughness"].default_value
    shading = scene.display.shading
    shading.light = rng.choice(("STUDIO", "STUDIO", "MATCAP", "FLAT"))
    shading.color_type = rng.choice(("MATERIAL", "MATERIAL", "OBJECT", "RANDOM", "SINGLE"))
    shading.show_shadows = rng.random() < 0.5
    shading.show_cavity = rng.random() < 0.4
    shading.show_object_outline = rng.random() < 0.3
    shading.show_specular_highlight = rng.random() < 0.7
    scene.display.render_aa = rng.choice(("OFF", "FXAA", "5", "8", "16"))
    return {"light": shading.light, "colour": shading.color_type, "aa": scene.display.render_aa}


def _eevee(bpy: Any, rng: random.Random, scene: Any) -> dict[str, Any]:
    """Blender's EEVEE rasteriser (offscreen through EGL)."""
    scene.render.engine = "BLENDER_EEVEE"
    scene.eevee.taa_render_samples = rng.choice((1, 4, 16, 64))
    scene.eevee.use_shadows = rng.random() < 0.8
    scene.eevee.use_raytracing = rng.random() < 0.5
    return {"samples": scene.eevee.taa_render_samples, "raytracing": scene.eevee.use_raytracing}


def _whitted(bpy: Any, rng: random.Random, scene: Any) -> dict[str, Any]:
    """Cycles made to look like a classic ray tracer: point-like lights with hard shadows, no diffuse
    bounces (no colour bleeding or soft indirect light), sharp reflections and refractions, many
    samples and no denoiser (so no noise either). The world still lights the scene directly, as a
    classic ray tracer's ambient term would."""
    scene.render.engine = "CYCLES"
    for light in bpy.data.lights:
        light.shadow_soft_size = 0.0  # the radius of point and spot lights; suns and areas below
        if light.type == "SUN":
            light.angle = 0.0
        elif light.type == "AREA":
            light.size = 0.01
    scene.cycles.diffuse_bounces = 0
    scene.cycles.glossy_bounces, scene.cycles.transmission_bounces = rng.choice(((2, 4), (4, 8), (8, 12)))
    scene.cycles.samples = rng.choice((64, 128, 256))
    scene.cycles.use_denoising = False
    return {"samples": scene.cycles.samples, "glossy_bounces": scene.cycles.glossy_bounces}


STYLES = {"workbench": _workbench, "eevee": _eevee, "whitted": _whitted}


def render_one(
    bpy: Any, seed: int, index: int, path: Path, preview: bool = False, styled: bool = False
) -> dict[str, Any]:
    """Build scene ``index`` from its own seed, render it into ``path`` (Cycles), return its settings.

    ``styled`` renders it instead with one of ``STYLES`` (Workbench, EEVEE, a classic ray tracer's look
    in Cycles), taking turns by groups of ``len(KINDS)`` scenes so that every kind meets every style.
    ``preview`` renders the same scene at 64x48 pixels with few samples (for tests); everything is drawn
    from the seed as usual first, so the scene is the one the full render shows."""
    rng = random.Random(seed * 100_003 + index)
    kind = KINDS[index % len(KINDS)]  # every kind equally often
    width, height = rng.choice(SIZES)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    SCENES[kind](bpy, rng, scene)
    scene.view_settings.view_transform = rng.choice(("AgX", "Standard", "Filmic"))
    style = tuple(STYLES)[(index // len(KINDS)) % len(STYLES)] if styled else None
    record: dict[str, Any] = {"kind": kind} | ({"style": style} if style else {})
    record |= (STYLES[style] if style else _cycles)(bpy, rng, scene)
    if style == "workbench" and kind == "closeup":  # flat light on a plane filling the frame: one colour
        scene.display.shading.light = record["light"] = "STUDIO"
    scene.cycles.device = "CPU"
    scene.cycles.seed = index
    if preview:
        width, height = 64, 48
        scene.cycles.samples = min(scene.cycles.samples, 4)
        scene.eevee.taa_render_samples = min(scene.eevee.taa_render_samples, 4)
        if "samples" in record:  # the preview's, not the full render's
            record["samples"] = scene.eevee.taa_render_samples if style == "eevee" else scene.cycles.samples
    scene.render.resolution_x, scene.render.resolution_y = width, height
    scene.render.resolution_percentage = 100
    scene.render.threads_mode = "FIXED"
    scene.render.threads = os.cpu_count() or 2
    render_png(bpy, scene, path)
    return {**record, "size": [width, height], "view_transform": scene.view_settings.view_transform}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("data/realness-variety/synthetic/blender-variety"))
    parser.add_argument("--count", type=int, default=140)
    parser.add_argument("--first", type=int, default=0, help="index of the first scene")
    parser.add_argument("--seed", type=int, default=4242)
    parser.add_argument("--preview", action="store_true", help="64x48 pixels, 4 samples (tests)")
    parser.add_argument(
        "--styled", action="store_true", help="render with Workbench, EEVEE or a ray tracer's look, in turns"
    )
    args = parser.parse_args()
    import bpy

    args.out.mkdir(parents=True, exist_ok=True)
    log = args.out.parent / f"{args.out.name}-scenes.jsonl"
    for index in range(args.first, args.first + args.count):
        path = args.out / f"variety-{index:04d}.png"
        if path.is_file():
            continue
        record = {
            "file": path.name,
            "seed": args.seed,
            "index": index,
            **render_one(bpy, args.seed, index, path, args.preview, args.styled),
        }
        with open(log, "a") as handle:
            handle.write(json.dumps(record) + "\n")
        print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
