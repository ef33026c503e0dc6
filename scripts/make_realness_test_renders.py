"""Render a synthetic *test* source for the realness classifier: scenes unlike the generator's.

Nothing is trained, tuned or chosen on these images (docs/models.md). They differ from every training
source on purpose: a physically based sky instead of a studio HDRI, Suzanne heads, tori, subdivided
and bevelled shapes, procedural bump, depth of field, a wider range of sizes (320 to 640 pixels wide,
not square), samples (16 to 256), with and without denoising, and two view transforms.

    .venv/bin/python scripts/make_realness_test_renders.py \\
        --out data/realness-test/synthetic/blender-sky-scenes

Resumable: images already written are skipped.
"""

from __future__ import annotations

import argparse
import math
import os
import random
from pathlib import Path

SIZES = ((320, 240), (480, 360), (640, 360), (400, 300), (512, 384), (360, 480))


def _material(bpy, rng: random.Random, name: str):  # type: ignore[no-untyped-def]
    material = bpy.data.materials.new(name)
    # Blender 5 materials come with a node tree (Principled BSDF -> Material Output)
    nodes, links = material.node_tree.nodes, material.node_tree.links
    bsdf = nodes["Principled BSDF"]
    kind = rng.choice(("plain", "noise", "voronoi", "wave", "brick", "metal", "glass"))
    colour = [rng.uniform(0.05, 0.9) for _ in range(3)]
    bsdf.inputs["Base Color"].default_value = (*colour, 1.0)
    bsdf.inputs["Roughness"].default_value = rng.uniform(0.05, 0.9)
    if kind == "metal":
        bsdf.inputs["Metallic"].default_value = 1.0
        bsdf.inputs["Roughness"].default_value = rng.uniform(0.05, 0.4)
    elif kind == "glass":
        bsdf.inputs["Transmission Weight"].default_value = 1.0
        bsdf.inputs["Roughness"].default_value = rng.uniform(0.0, 0.15)
    elif kind != "plain":
        texture = nodes.new(
            {
                "noise": "ShaderNodeTexNoise",
                "voronoi": "ShaderNodeTexVoronoi",
                "wave": "ShaderNodeTexWave",
                "brick": "ShaderNodeTexBrick",
            }[kind]
        )
        texture.inputs["Scale"].default_value = rng.uniform(2.0, 12.0)
        ramp = nodes.new("ShaderNodeValToRGB")
        ramp.color_ramp.elements[0].color = (*[rng.uniform(0, 1) for _ in range(3)], 1.0)
        ramp.color_ramp.elements[1].color = (*colour, 1.0)
        factor = texture.outputs["Distance" if kind == "voronoi" else "Fac"]
        links.new(factor, ramp.inputs["Fac"])
        links.new(ramp.outputs["Color"], bsdf.inputs["Base Color"])
        bump = nodes.new("ShaderNodeBump")
        bump.inputs["Strength"].default_value = rng.uniform(0.05, 0.4)
        links.new(factor, bump.inputs["Height"])
        links.new(bump.outputs["Normal"], bsdf.inputs["Normal"])
    return material


def _scene(bpy, rng: random.Random, width: int, height: int) -> None:  # type: ignore[no-untyped-def]
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.view_settings.view_transform = rng.choice(("AgX", "Standard"))
    bpy.ops.mesh.primitive_plane_add(size=rng.uniform(12, 40))
    bpy.context.object.data.materials.append(_material(bpy, rng, "ground"))
    shapes = (
        lambda: bpy.ops.mesh.primitive_monkey_add(),
        lambda: bpy.ops.mesh.primitive_torus_add(major_radius=0.8, minor_radius=rng.uniform(0.15, 0.4)),
        lambda: bpy.ops.mesh.primitive_cylinder_add(radius=0.6, depth=rng.uniform(0.5, 2.0)),
        lambda: bpy.ops.mesh.primitive_cone_add(radius1=0.7, depth=1.5),
        lambda: bpy.ops.mesh.primitive_ico_sphere_add(subdivisions=2, radius=0.7),
        lambda: bpy.ops.mesh.primitive_cube_add(size=1.2),
    )
    for index in range(rng.randint(3, 7)):
        rng.choice(shapes)()
        obj = bpy.context.object
        obj.location = (rng.uniform(-3, 3), rng.uniform(-3, 3), rng.uniform(0.5, 1.2))
        obj.rotation_euler = [rng.uniform(0, math.tau) for _ in range(3)]
        obj.scale = (rng.uniform(0.6, 1.5),) * 3
        modifier = obj.modifiers.new("smooth", "SUBSURF" if rng.random() < 0.5 else "BEVEL")
        if modifier.type == "SUBSURF":
            modifier.levels = modifier.render_levels = 2
        else:
            modifier.width, modifier.segments = 0.05, 3
        bpy.ops.object.shade_smooth()
        obj.data.materials.append(_material(bpy, rng, f"object{index}"))

    world = bpy.data.worlds.new("sky")
    scene.world = world
    sky = world.node_tree.nodes.new("ShaderNodeTexSky")
    sky.sky_type = rng.choice(("SINGLE_SCATTERING", "MULTIPLE_SCATTERING", "HOSEK_WILKIE"))
    sky.sun_elevation = math.radians(rng.uniform(8, 60))
    sky.sun_rotation = rng.uniform(0, math.tau)
    if sky.sky_type == "HOSEK_WILKIE":
        sky.sun_direction = (
            math.cos(sky.sun_rotation),
            math.sin(sky.sun_rotation),
            math.sin(sky.sun_elevation),
        )
    background = world.node_tree.nodes["Background"]
    physical = "SCATTERING" in sky.sky_type  # in physical units: much brighter than the others
    background.inputs["Strength"].default_value = rng.uniform(0.05, 0.3) if physical else 1.0
    world.node_tree.links.new(sky.outputs["Color"], background.inputs["Color"])
    sun = bpy.data.objects.new("sun", bpy.data.lights.new("sun", type="SUN"))
    sun.data.energy = rng.uniform(1.5, 5.0)
    sun.data.angle = math.radians(rng.uniform(0.5, 5))
    sun.rotation_euler = (math.radians(90) - sky.sun_elevation, 0.0, sky.sun_rotation + math.radians(90))
    scene.collection.objects.link(sun)

    camera = bpy.data.objects.new("camera", bpy.data.cameras.new("camera"))
    camera.data.lens = rng.uniform(24, 85)
    distance = rng.uniform(7, 14) * camera.data.lens / 45
    angle = rng.uniform(0, math.tau)
    camera.location = (distance * math.cos(angle), distance * math.sin(angle), rng.uniform(1.0, 5.0))
    target = bpy.data.objects.new("target", None)
    target.location = (rng.uniform(-1, 1), rng.uniform(-1, 1), 0.6)
    scene.collection.objects.link(target)
    scene.collection.objects.link(camera)
    aim = camera.constraints.new("TRACK_TO")
    aim.target, aim.track_axis, aim.up_axis = target, "TRACK_NEGATIVE_Z", "UP_Y"
    if rng.random() < 0.6:
        camera.data.dof.use_dof = True
        camera.data.dof.focus_object = target
        camera.data.dof.aperture_fstop = rng.uniform(1.8, 8.0)
    scene.camera = camera

    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = rng.choice((16, 32, 64, 128, 256))
    scene.cycles.use_denoising = rng.random() < 0.6
    scene.render.resolution_x, scene.render.resolution_y = width, height
    scene.render.resolution_percentage = 100
    scene.render.threads_mode = "FIXED"
    scene.render.threads = os.cpu_count() or 2


def render_png(bpy, scene, path: Path) -> None:  # type: ignore[no-untyped-def]
    """Render ``scene`` to ``path`` as an 8-bit RGB PNG, through a ``.partial.png`` renamed at the end, so
    that an interrupted run never leaves a half-written image under the final name."""
    settings = scene.render.image_settings
    settings.file_format, settings.color_mode, settings.color_depth = "PNG", "RGB", "8"
    partial = path.with_name(path.stem + ".partial.png")
    scene.render.filepath = str(partial)
    bpy.ops.render.render(write_still=True)
    os.replace(partial, path)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("data/realness-test/synthetic/blender-sky-scenes"))
    parser.add_argument("--count", type=int, default=24)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    import bpy

    args.out.mkdir(parents=True, exist_ok=True)
    for index in range(args.count):
        path = args.out / f"sky-{index:03d}.png"
        if path.is_file():
            continue
        rng = random.Random(args.seed * 1000 + index)
        width, height = rng.choice(SIZES)
        _scene(bpy, rng, width, height)
        scene = bpy.context.scene
        scene.cycles.seed = index
        render_png(bpy, scene, path)
        print(
            f"{path.name}: {width}x{height}, {scene.cycles.samples} samples, denoise "
            f"{scene.cycles.use_denoising}, {scene.view_settings.view_transform}",
            flush=True,
        )


if __name__ == "__main__":
    main()
