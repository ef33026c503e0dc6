"""Render the bundled example pairs in examples/ with Blender (needs the `blender` extra).

Each example is a reference render and a "student" render of the same scene from the same camera
in which one rendering feature is wrong. Run from the repository root:

    python scripts/make_examples.py               # renders and examples/exam.blend
    python scripts/make_examples.py --blend-only  # only examples/exam.blend
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import bpy

WIDTH, HEIGHT, SAMPLES = 320, 240, 64
ROOT = Path(__file__).resolve().parent.parent / "examples"

# Each case: folder name, what differs, and the scene settings it changes.
# name: (what differs, the rendering feature it changes, the settings changed)
CASES = {
    "wrong-light": (
        "the key light is moved to the other side and is warmer",
        "illumination",
        {"light_x": -3.0, "light_colour": (1.0, 0.75, 0.55)},
    ),
    "wrong-roughness": ("the sphere is glossy instead of matte", "reflection", {"sphere_roughness": 0.08}),
    "shifted-texture": (
        "the floor checker texture is shifted and rotated",
        "texture",
        {"floor_offset": (0.37, 0.21, 0.0), "floor_rotation": 0.35},
    ),
}

REFERENCE = {
    "light_x": 3.0,
    "light_colour": (1.0, 1.0, 1.0),
    "sphere_roughness": 0.7,
    "floor_offset": (0.0, 0.0, 0.0),
    "floor_rotation": 0.0,
}


def build_scene(settings: dict) -> None:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = SAMPLES
    scene.cycles.seed = 0
    scene.cycles.use_denoising = False
    scene.render.resolution_x, scene.render.resolution_y = WIDTH, HEIGHT
    scene.render.resolution_percentage = 100
    scene.view_settings.view_transform = "Standard"
    scene.render.image_settings.file_format = "PNG"
    scene.render.image_settings.color_depth = "8"

    world = bpy.data.worlds.new("world")
    scene.world = world
    world.use_nodes = True
    world.node_tree.nodes["Background"].inputs["Color"].default_value = (0.05, 0.06, 0.08, 1.0)

    # Floor with a procedural checker through a Mapping node.
    bpy.ops.mesh.primitive_plane_add(size=8, location=(0, 0, 0))
    floor = bpy.context.object
    material = bpy.data.materials.new("floor")
    material.use_nodes = True
    nodes, links = material.node_tree.nodes, material.node_tree.links
    bsdf = nodes["Principled BSDF"]
    checker = nodes.new("ShaderNodeTexChecker")
    checker.inputs["Scale"].default_value = 6.0
    checker.inputs["Color1"].default_value = (0.8, 0.8, 0.75, 1)
    checker.inputs["Color2"].default_value = (0.15, 0.2, 0.35, 1)
    mapping = nodes.new("ShaderNodeMapping")
    coords = nodes.new("ShaderNodeTexCoord")
    mapping.inputs["Location"].default_value = settings["floor_offset"]
    mapping.inputs["Rotation"].default_value = (0.0, 0.0, settings["floor_rotation"])
    links.new(coords.outputs["UV"], mapping.inputs["Vector"])
    links.new(mapping.outputs["Vector"], checker.inputs["Vector"])
    links.new(checker.outputs["Color"], bsdf.inputs["Base Color"])
    floor.data.materials.append(material)

    bpy.ops.mesh.primitive_uv_sphere_add(radius=1.0, location=(-0.4, 0.6, 1.0), segments=64, ring_count=32)
    sphere = bpy.context.object
    bpy.ops.object.shade_smooth()
    material = bpy.data.materials.new("sphere")
    material.use_nodes = True
    bsdf = material.node_tree.nodes["Principled BSDF"]
    bsdf.inputs["Base Color"].default_value = (0.7, 0.12, 0.08, 1)
    bsdf.inputs["Roughness"].default_value = settings["sphere_roughness"]
    bsdf.inputs["Metallic"].default_value = 0.3
    sphere.data.materials.append(material)

    bpy.ops.mesh.primitive_cube_add(size=1.0, location=(1.4, -0.6, 0.5), rotation=(0, 0, 0.6))
    cube = bpy.context.object
    material = bpy.data.materials.new("cube")
    material.use_nodes = True
    material.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = (0.1, 0.5, 0.2, 1)
    cube.data.materials.append(material)

    light_data = bpy.data.lights.new("key", type="AREA")
    light_data.energy = 900.0
    light_data.size = 1.5
    light_data.color = settings["light_colour"]
    light = bpy.data.objects.new("key", light_data)
    light.location = (settings["light_x"], -2.5, 4.5)
    direction = -light.location.normalized()
    light.rotation_euler = direction.to_track_quat("-Z", "Y").to_euler()
    scene.collection.objects.link(light)

    fill_data = bpy.data.lights.new("fill", type="POINT")
    fill_data.energy = 150.0
    fill = bpy.data.objects.new("fill", fill_data)
    fill.location = (-2.0, -4.0, 2.5)
    scene.collection.objects.link(fill)

    camera_data = bpy.data.cameras.new("camera")
    camera = bpy.data.objects.new("camera", camera_data)
    camera.location = (0.0, -7.0, 4.2)
    camera.rotation_euler = (math.radians(62), 0.0, 0.0)
    scene.collection.objects.link(camera)
    scene.camera = camera


def render(settings: dict, path: Path) -> None:
    build_scene(settings)
    bpy.context.scene.render.filepath = str(path)
    bpy.ops.render.render(write_still=True)


def save_exam_scene() -> None:
    """Save the reference scene as examples/exam.blend: a small user scene for `generate --scene`."""
    build_scene(REFERENCE)
    bpy.ops.wm.save_as_mainfile(filepath=str(ROOT / "exam.blend"), compress=True)


def main() -> int:
    if "--blend-only" in sys.argv:
        save_exam_scene()
        return 0
    ROOT.mkdir(exist_ok=True)
    reference_path = ROOT / "_reference.png"
    render(REFERENCE, reference_path)
    for name, (description, feature, change) in CASES.items():
        folder = ROOT / name
        folder.mkdir(exist_ok=True)
        (folder / "reference.png").write_bytes(reference_path.read_bytes())
        render({**REFERENCE, **change}, folder / "test.png")
        meta = {
            "description": description,
            "feature": feature,
            "changed": {k: list(v) if isinstance(v, tuple) else v for k, v in change.items()},
            "renderer": f"Blender {bpy.app.version_string} Cycles, {SAMPLES} samples, {WIDTH}x{HEIGHT}",
        }
        (folder / "case.json").write_text(json.dumps(meta, indent=2) + "\n")
    reference_path.unlink()
    save_exam_scene()
    return 0


if __name__ == "__main__":
    sys.exit(main())
