"""Everything that talks to Blender: building or opening scenes, render settings, passes, variations.

This is the only module of synthdiff that imports ``bpy``; it is imported by the generator's worker
processes, never by the rest of the package. Blender 5 API (bpy 5.0.1).
"""

from __future__ import annotations

import colorsys
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bpy
import mathutils
import numpy as np

from synthdiff.errors import SceneError
from synthdiff.synth._labels import Passes, SceneState
from synthdiff.synth._options import CHANGED_LABELS, COMBINED_SIZES

__all__ = ["Change", "SceneHandle", "apply_variation", "build_scene", "open_scene", "render"]

COLOUR_PASSES = (
    "Diffuse Direct",
    "Diffuse Indirect",
    "Diffuse Color",
    "Glossy Direct",
    "Glossy Indirect",
    "Glossy Color",
    "Transmission Direct",
    "Transmission Indirect",
    "Transmission Color",
    "Environment",
)
_PASS_FLAGS = (
    "use_pass_diffuse_direct",
    "use_pass_diffuse_indirect",
    "use_pass_diffuse_color",
    "use_pass_glossy_direct",
    "use_pass_glossy_indirect",
    "use_pass_glossy_color",
    "use_pass_transmission_direct",
    "use_pass_transmission_indirect",
    "use_pass_transmission_color",
    "use_pass_environment",
    "use_pass_object_index",
    "use_pass_material_index",
)


def _studiolight(name: str) -> str:
    return os.path.join(bpy.utils.system_resource("DATAFILES"), "studiolights", "world", f"{name}.exr")


# --- building a procedural scene ------------------------------------------------------------------


def _aim(obj: Any, target: list[float]) -> None:
    direction = mathutils.Vector(target) - obj.location
    obj.rotation_euler = direction.to_track_quat("-Z", "Y").to_euler()


def _add_mesh(shape: str) -> Any:
    ops = bpy.ops.mesh
    if shape == "cube":
        ops.primitive_cube_add(size=1.0)
    elif shape == "uv_sphere":
        ops.primitive_uv_sphere_add(radius=0.5, segments=48, ring_count=24)
    elif shape == "ico_sphere":
        ops.primitive_ico_sphere_add(radius=0.5, subdivisions=2)
    elif shape == "cylinder":
        ops.primitive_cylinder_add(radius=0.5, depth=1.0, vertices=48)
    elif shape == "cone":
        ops.primitive_cone_add(radius1=0.5, depth=1.0, vertices=48)
    elif shape == "torus":
        ops.primitive_torus_add(major_radius=0.35, minor_radius=0.15)
    elif shape == "monkey":
        ops.primitive_monkey_add(size=1.0)
    elif shape == "plane":
        ops.primitive_plane_add(size=1.0)
    else:  # pragma: no cover - descriptions come from _scene.SHAPES
        raise ValueError(f"unknown shape {shape!r}")
    obj = bpy.context.object
    if shape in ("uv_sphere", "cylinder", "cone", "torus", "monkey"):
        for polygon in obj.data.polygons:
            polygon.use_smooth = True
    return obj


def _make_material(spec: dict[str, Any]) -> Any:
    material = bpy.data.materials.new(spec["name"])
    nodes, links = material.node_tree.nodes, material.node_tree.links
    bsdf = nodes["Principled BSDF"]
    bsdf.inputs["Base Color"].default_value = (*spec["base_color"], 1.0)
    bsdf.inputs["Roughness"].default_value = spec["roughness"]
    bsdf.inputs["Metallic"].default_value = spec["metallic"]
    bsdf.inputs["Alpha"].default_value = spec["alpha"]
    bsdf.inputs["Transmission Weight"].default_value = spec["transmission"]
    texture = spec["texture"]
    if texture is None:
        return material
    coords = nodes.new("ShaderNodeTexCoord")
    mapping = nodes.new("ShaderNodeMapping")
    mapping.inputs["Location"].default_value = texture["mapping"]["location"]
    mapping.inputs["Rotation"].default_value = (0.0, 0.0, texture["mapping"]["rotation"])
    scale = texture["mapping"]["scale"]
    mapping.inputs["Scale"].default_value = (scale, scale, 1.0)
    links.new(coords.outputs["UV"], mapping.inputs["Vector"])
    kind = texture["kind"]
    if kind == "image":
        node = nodes.new("ShaderNodeTexImage")
        node.image = bpy.data.images.load(texture["image"], check_existing=True)
        node.extension = "REPEAT"
        links.new(node.outputs["Color"], bsdf.inputs["Base Color"])
    elif kind in ("checker", "brick"):
        node = nodes.new("ShaderNodeTexChecker" if kind == "checker" else "ShaderNodeTexBrick")
        node.inputs["Color1"].default_value = (*texture["colors"][0], 1.0)
        node.inputs["Color2"].default_value = (*texture["colors"][1], 1.0)
        node.inputs["Scale"].default_value = texture["scale"]
        links.new(node.outputs["Color"], bsdf.inputs["Base Color"])
    else:
        node = nodes.new(
            {
                "wave": "ShaderNodeTexWave",
                "voronoi": "ShaderNodeTexVoronoi",
                "noise": "ShaderNodeTexNoise",
                "magic": "ShaderNodeTexMagic",
            }[kind]
        )
        node.inputs["Scale"].default_value = texture["scale"]
        ramp = nodes.new("ShaderNodeValToRGB")
        ramp.color_ramp.elements[0].color = (*texture["colors"][0], 1.0)
        ramp.color_ramp.elements[1].color = (*texture["colors"][1], 1.0)
        output = "Distance" if kind == "voronoi" else "Fac"
        links.new(node.outputs[output], ramp.inputs["Fac"])
        links.new(ramp.outputs["Color"], bsdf.inputs["Base Color"])
    links.new(mapping.outputs["Vector"], node.inputs["Vector"])
    return material


def build_scene(description: dict[str, Any]) -> None:
    """Replace Blender's current scene with the described procedural scene (see ``_scene``)."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.view_settings.view_transform = "AgX"  # Blender's default: highlights roll off instead of clipping

    ground = _add_mesh("plane")
    ground.name = "ground"
    ground.scale = (description["ground"]["size"],) * 3
    ground.data.materials.append(_make_material(description["ground"]["material"]))
    for spec in description["objects"]:
        obj = _add_mesh(spec["shape"])
        obj.name = spec["name"]
        obj.location = spec["location"]
        obj.rotation_euler = (0.0, 0.0, spec["rotation_z"])
        obj.scale = (spec["scale"],) * 3
        obj.data.materials.append(_make_material(spec["material"]))
        obj["synthdiff_movable"] = True

    for spec in description["lights"]:
        data = bpy.data.lights.new(spec["name"], type=spec["type"])
        data.energy = spec["energy"]
        data.color = spec["color"]
        if spec["type"] == "SUN":
            data.angle = spec["size"]
        elif spec["type"] == "AREA":
            data.size = spec["size"]
        else:
            data.shadow_soft_size = spec["size"]
        if spec["type"] == "SPOT":
            data.spot_size = spec["spot_size"]
        light = bpy.data.objects.new(spec["name"], data)
        light.location = spec["location"]
        scene.collection.objects.link(light)
        _aim(light, spec["target"])

    world = bpy.data.worlds.new("world")
    scene.world = world
    nodes, links = world.node_tree.nodes, world.node_tree.links
    background = nodes["Background"]
    background.inputs["Strength"].default_value = description["world"]["strength"]
    environment = nodes.new("ShaderNodeTexEnvironment")
    environment.image = bpy.data.images.load(_studiolight(description["world"]["hdri"]), check_existing=True)
    mapping = nodes.new("ShaderNodeMapping")
    mapping.inputs["Rotation"].default_value = (0.0, 0.0, description["world"]["rotation"])
    coords = nodes.new("ShaderNodeTexCoord")
    links.new(coords.outputs["Generated"], mapping.inputs["Vector"])
    links.new(mapping.outputs["Vector"], environment.inputs["Vector"])
    links.new(environment.outputs["Color"], background.inputs["Color"])

    camera = bpy.data.objects.new("camera", bpy.data.cameras.new("camera"))
    camera.data.lens = description["camera"]["lens"]
    camera.location = description["camera"]["location"]
    scene.collection.objects.link(camera)
    _aim(camera, description["camera"]["target"])
    scene.camera = camera
    # Fewer bounces than Blender's defaults and no caustics: a third faster, and enough for these scenes.
    scene.cycles.max_bounces = 4
    scene.cycles.diffuse_bounces = 2
    scene.cycles.glossy_bounces = 2
    scene.cycles.transmission_bounces = 4
    scene.cycles.transparent_max_bounces = 8
    scene.cycles.caustics_reflective = False
    scene.cycles.caustics_refractive = False
    scene.cycles.use_light_tree = False  # with 1-3 lights the light tree costs more than it saves


def open_scene(path: str) -> None:
    """Open a user's .blend file (only in memory: the file itself is never written).

    Raises:
        SceneError: the file cannot be opened or has no camera.
    """
    try:
        bpy.ops.wm.open_mainfile(filepath=path, load_ui=False)
    except RuntimeError as error:
        raise SceneError(f"Expected a .blend file Blender can open, but {path!r} failed: {error}") from None
    scene = bpy.context.scene
    if scene.camera is None:
        cameras = [o for o in scene.objects if o.type == "CAMERA"]
        if not cameras:
            raise SceneError(
                f"Expected a scene with a camera, but {path!r} has none. "
                "Fix: add a camera in Blender and save the file."
            )
        scene.camera = cameras[0]


# --- render settings and passes -------------------------------------------------------------------


def set_view_transform(name: str) -> None:
    """Map rendered light to display values with the view transform ``name`` (AgX, Standard, ...)."""
    bpy.context.scene.view_settings.view_transform = name


def view_transform() -> str:
    """The scene's view transform."""
    return str(bpy.context.scene.view_settings.view_transform)


def configure(width: int, height: int, samples: int, denoise: bool, threads: int) -> None:
    """Cycles on the CPU at the given size, with the label passes enabled on one view layer."""
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = samples
    scene.cycles.use_denoising = denoise
    if denoise:
        # OpenImageDenoise with the fast prefilter: at 256x256 on 2 CPU threads it takes 0.1 s
        # instead of 0.6 s with the accurate one, and the images are indistinguishable.
        scene.cycles.denoiser = "OPENIMAGEDENOISE"
        scene.cycles.denoising_input_passes = "RGB_ALBEDO_NORMAL"
        scene.cycles.denoising_prefilter = "FAST"
        scene.cycles.denoising_quality = "BALANCED"
    scene.render.resolution_x, scene.render.resolution_y = width, height
    scene.render.resolution_percentage = 100
    scene.render.use_border = False
    scene.render.film_transparent = False
    scene.render.use_persistent_data = True
    scene.render.threads_mode = "FIXED"
    scene.render.threads = threads
    scene.render.use_compositing = False
    scene.render.use_sequencer = False
    layers = list(scene.view_layers)
    for index, layer in enumerate(layers):
        layer.use = index == 0
    layer = layers[0]
    for flag in _PASS_FLAGS:
        setattr(layer, flag, True)
    # Index passes record every surface however transparent, so see-through objects get labels.
    layer.pass_alpha_threshold = 0.0


def render(seed: int, png_path: Path, work_dir: Path) -> Passes:
    """Render the current scene: the display image to ``png_path`` and the passes, returned.

    The passes go through a temporary multilayer EXR in ``work_dir`` that is deleted afterwards.
    """
    import OpenEXR

    scene = bpy.context.scene
    scene.cycles.seed = seed
    bpy.ops.render.render(write_still=False)
    result = bpy.data.images["Render Result"]
    settings = scene.render.image_settings

    settings.media_type = "IMAGE"
    settings.file_format = "PNG"
    settings.color_mode = "RGB"
    settings.color_depth = "8"
    temporary_png = png_path.with_name(png_path.stem + ".partial.png")
    result.save_render(str(temporary_png), scene=scene)
    os.replace(temporary_png, png_path)

    settings.media_type = "MULTI_LAYER_IMAGE"
    settings.color_depth = "16"  # half floats: index passes stay exact (below 2048), light to 0.1 %
    settings.exr_codec = "NONE"
    exr_path = work_dir / f"passes-{os.getpid()}.exr"
    result.save_render(str(exr_path), scene=scene)
    try:
        with OpenEXR.File(str(exr_path), separate_channels=True) as exr:
            channels: dict[str, np.ndarray] = {}
            for part in exr.parts:
                for name, channel in part.channels.items():
                    channels[name] = channel.pixels
    finally:
        exr_path.unlink(missing_ok=True)
    return _passes_from_channels(channels)


def _passes_from_channels(channels: dict[str, np.ndarray]) -> Passes:
    # Channel names are "<view layer>.<pass>.<channel>"; the view layer name varies between files.
    by_pass: dict[str, dict[str, np.ndarray]] = {}
    for name, pixels in channels.items():
        parts = name.split(".")
        if len(parts) < 2:
            continue
        by_pass.setdefault(parts[-2], {})[parts[-1]] = np.asarray(pixels, dtype=np.float32)
    colour = {
        name: np.stack([by_pass[name][c] for c in "RGB"], axis=2)
        for name in COLOUR_PASSES
        if name in by_pass and all(c in by_pass[name] for c in "RGB")
    }
    return Passes(
        colour=colour,
        object_index=by_pass["Object Index"]["X"],
        material_index=by_pass["Material Index"]["X"],
    )


# --- what a scene offers to vary ------------------------------------------------------------------


@dataclass
class Change:
    """One parameter the generator changed, with the values before and after."""

    feature: str
    target: str
    parameter: str
    old: Any
    new: Any
    undo: Callable[[], None] = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "target": self.target,
            "parameter": self.parameter,
            "old": self.old,
            "new": self.new,
        }


def _value(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 5)
    if hasattr(value, "__len__") and not isinstance(value, str):
        return [round(float(v), 5) for v in value]
    return value


def _socket_change(feature: str, target: str, socket: Any, new: Any) -> Change:
    old = socket.default_value
    old = tuple(old) if hasattr(old, "__len__") else float(old)
    socket.default_value = new

    def undo() -> None:
        socket.default_value = old

    return Change(feature, target, socket.name, _value(old), _value(new), undo)


def _attribute_change(feature: str, target: str, owner: Any, name: str, new: Any) -> Change:
    old = getattr(owner, name)
    old = tuple(old) if hasattr(old, "__len__") and not isinstance(old, str) else old
    setattr(owner, name, new)

    def undo() -> None:
        setattr(owner, name, old)

    return Change(feature, target, name, _value(old), _value(new), undo)


def _principled(material: Any) -> Any | None:
    if material is None or material.node_tree is None:
        return None
    for node in material.node_tree.nodes:
        if node.type == "BSDF_PRINCIPLED":
            return node
    return None


def _free(socket: Any) -> bool:
    return socket is not None and not socket.is_linked


def _ensure_mappings(material: Any) -> list[Any]:
    """The Mapping nodes in front of a material's textures, adding identity ones where missing.

    An identity Mapping node changes nothing in the render; it makes every texture's placement
    adjustable. Image textures default to UV coordinates, procedural ones to Generated.
    """
    tree = material.node_tree
    mappings = []
    for node in list(tree.nodes):
        if not node.type.startswith("TEX_") or node.type in ("TEX_COORD", "TEX_ENVIRONMENT"):
            continue
        vector = node.inputs.get("Vector")
        if vector is None:
            continue
        source = vector.links[0].from_node if vector.is_linked else None
        if source is not None and source.type == "MAPPING":
            mappings.append(source)
            continue
        mapping = tree.nodes.new("ShaderNodeMapping")
        if vector.is_linked:
            tree.links.new(vector.links[0].from_socket, mapping.inputs["Vector"])
        else:
            coords = tree.nodes.new("ShaderNodeTexCoord")
            output = "UV" if node.type == "TEX_IMAGE" else "Generated"
            tree.links.new(coords.outputs[output], mapping.inputs["Vector"])
        tree.links.new(mapping.outputs["Vector"], vector)
        mappings.append(mapping)
    return mappings


@dataclass
class SceneHandle:
    """The parts of the open scene that variations may change, and their pass indices."""

    lights: list[Any]
    background: Any | None
    world_mappings: list[Any]
    materials: dict[int, Any]  # material pass index -> material
    mappings: dict[int, list[Any]]  # material pass index -> its texture Mapping nodes
    objects: dict[int, Any]  # object pass index -> object
    movable: list[int]
    centre: mathutils.Vector
    radius: float
    names: dict[int, str] = field(default_factory=dict)  # object pass index -> name (added ones too)
    added: int = 0

    @classmethod
    def discover(cls, procedural: bool) -> SceneHandle:
        """Assign pass indices (objects and materials, from 1) and list what can vary."""
        scene = bpy.context.scene
        meshes = [o for o in scene.objects if o.type == "MESH" and not o.hide_render]
        objects: dict[int, Any] = {}
        for index, obj in enumerate(sorted(meshes, key=lambda o: o.name), start=1):
            obj.pass_index = index
            objects[index] = obj
        materials: dict[int, Any] = {}
        used = sorted({slot.material.name for o in meshes for slot in o.material_slots if slot.material})
        for index, name in enumerate(used, start=1):
            material = bpy.data.materials[name]
            material.pass_index = index
            materials[index] = material
        mappings = {i: _ensure_mappings(m) for i, m in materials.items() if m.node_tree is not None}
        mappings = {i: found for i, found in mappings.items() if found}

        sizes = {i: max(o.dimensions) for i, o in objects.items()}
        if procedural:
            movable = [i for i, o in objects.items() if o.get("synthdiff_movable")]
        else:  # leave floors, walls and other large things alone
            extent = max(sizes.values(), default=0.0)
            movable = [i for i, s in sizes.items() if s < 0.5 * extent] or list(objects)
        focus = [objects[i] for i in movable] or meshes
        centres = [o.matrix_world.translation for o in focus]
        centre = sum(centres, mathutils.Vector()) / max(len(centres), 1)
        radius = max(
            ((o.matrix_world.translation - centre).length + 0.5 * max(o.dimensions) for o in focus),
            default=1.0,
        )

        world = scene.world
        background, world_mappings = None, []
        if world is not None and world.node_tree is not None:
            for node in world.node_tree.nodes:
                if node.type == "BACKGROUND" and _free(node.inputs.get("Strength")):
                    background = node
                elif node.type == "MAPPING":
                    world_mappings.append(node)
        lights = sorted(
            (o for o in scene.objects if o.type == "LIGHT" and not o.hide_render), key=lambda o: o.name
        )
        names = {i: o.name for i, o in objects.items()}
        return cls(
            lights, background, world_mappings, materials, mappings, objects, movable, centre, radius, names
        )

    def state(self) -> SceneState:
        """Which materials are textured or see-through and which objects are movable, as now set."""
        transparent = set()
        for index, material in self.materials.items():
            bsdf = _principled(material)
            if bsdf is None:
                continue
            alpha, transmission = bsdf.inputs["Alpha"], bsdf.inputs["Transmission Weight"]
            if (
                alpha.is_linked
                or alpha.default_value < 0.999
                or transmission.is_linked
                or (transmission.default_value > 0.001)
            ):
                transparent.add(index)
        return SceneState(textured=set(self.mappings), transparent=transparent, movable=set(self.movable))


# --- variations -----------------------------------------------------------------------------------


def _away(rng: np.random.Generator, old: float, low: float, high: float, distance: float) -> float:
    """A value in [low, high] at least ``distance`` from ``old`` (as far as the range allows)."""
    below, above = old - distance - low, high - (old + distance)
    if below <= 0 and above <= 0:
        return high if old - low < high - old else low
    if below <= 0 or (above > 0 and rng.uniform() < above / (above + below)):
        return float(rng.uniform(old + distance, high))
    return float(rng.uniform(low, old - distance))


def _factor(rng: np.random.Generator, low: float, high: float) -> float:
    """A multiplicative change of at least ``low`` either way (x1.5 or /1.5 at low=1.5)."""
    value = float(rng.uniform(low, high))
    return value if rng.uniform() < 0.5 else 1.0 / value


def _pick(rng: np.random.Generator, items: list[Any], low: int, high: int) -> list[Any]:
    count = min(len(items), int(rng.integers(low, high + 1)))
    chosen = rng.choice(len(items), size=count, replace=False)
    return [items[int(i)] for i in sorted(chosen)]


def _vary_illumination(handle: SceneHandle, rng: np.random.Generator) -> list[Change]:
    knobs: list[tuple[str, Any]] = []
    for light in handle.lights:
        knobs += [("energy", light), ("position", light), ("colour", light), ("size", light)]
    if handle.background is not None:
        knobs.append(("world_strength", handle.background))
    knobs += [("world_rotation", node) for node in handle.world_mappings]
    if not knobs:
        raise SceneError(
            "Expected lights or a world Background node to vary for illumination; the scene has none."
        )
    changes = []
    for kind, thing in _pick(rng, knobs, 1, 3):
        if kind == "energy":
            changes.append(
                _attribute_change(
                    "illumination",
                    f"light:{thing.name}",
                    thing.data,
                    "energy",
                    thing.data.energy * _factor(rng, 1.8, 3.5),
                )
            )
        elif kind == "position":
            angle = float(rng.uniform(math.radians(50), math.radians(140))) * (
                1 if rng.uniform() < 0.5 else -1
            )
            pivot = mathutils.Matrix.Translation(handle.centre)
            turn = pivot @ mathutils.Matrix.Rotation(angle, 4, "Z") @ pivot.inverted()
            old = thing.matrix_world.copy()
            thing.matrix_world = turn @ old
            target = f"light:{thing.name}"

            def undo(obj: Any = thing, matrix: Any = old) -> None:
                obj.matrix_world = matrix

            # Turned about the vertical axis through the scene centre: location and aim both change.
            changes.append(
                Change(
                    "illumination",
                    target,
                    "location",
                    _value(tuple(old.translation)),
                    _value(tuple(thing.matrix_world.translation)),
                    undo,
                )
            )
        elif kind == "colour":
            hue = float(rng.uniform(0, 1))
            colour = colorsys.hsv_to_rgb(hue, float(rng.uniform(0.35, 0.7)), 1.0)
            changes.append(
                _attribute_change("illumination", f"light:{thing.name}", thing.data, "color", colour)
            )
        elif kind == "size":
            data = thing.data
            name = {"SUN": "angle", "AREA": "size"}.get(data.type, "shadow_soft_size")
            old = float(getattr(data, name))
            if data.type == "SUN":
                new = _away(rng, old, math.radians(0.5), math.radians(20), math.radians(6))
            else:
                new = max(old, 0.05) * _factor(rng, 3.0, 6.0)
            changes.append(_attribute_change("illumination", f"light:{thing.name}", data, name, new))
        elif kind == "world_strength":
            socket = thing.inputs["Strength"]
            changes.append(
                _socket_change(
                    "illumination", "world", socket, float(socket.default_value) * _factor(rng, 2.0, 4.0)
                )
            )
        else:
            socket = thing.inputs["Rotation"]
            old = tuple(socket.default_value)
            turn = float(rng.uniform(math.radians(60), math.radians(180)))
            changes.append(_socket_change("illumination", "world", socket, (old[0], old[1], old[2] + turn)))
    return changes


def _visible(indices: dict[int, Any], counts: dict[int, int]) -> list[int]:
    return [i for i in sorted(indices) if counts.get(i, 0) > 0]


def _editable_principled(
    handle: SceneHandle, counts: dict[int, int], sockets: tuple[str, ...], what: str
) -> list[tuple[Any, Any]]:
    """(material, Principled BSDF) of the visible materials whose ``sockets`` no other node drives.

    Raises:
        SceneError: there is none (the message names ``what`` would have been varied).
    """
    found = []
    for index in _visible(handle.materials, counts):
        bsdf = _principled(handle.materials[index])
        if bsdf is not None and all(_free(bsdf.inputs[name]) for name in sockets):
            found.append((handle.materials[index], bsdf))
    if not found:
        raise SceneError(
            f"Expected visible materials with a Principled BSDF whose {what} can vary; found none."
        )
    return found


def _vary_reflection(
    handle: SceneHandle, rng: np.random.Generator, material_counts: dict[int, int]
) -> list[Change]:
    candidates = _editable_principled(handle, material_counts, ("Roughness",), "roughness")
    changes = []
    for material, bsdf in _pick(rng, candidates, 1, 3):
        target = f"material:{material.name}"
        roughness = bsdf.inputs["Roughness"]
        changes.append(
            _socket_change(
                "reflection", target, roughness, _away(rng, float(roughness.default_value), 0.02, 1.0, 0.35)
            )
        )
        metallic = bsdf.inputs["Metallic"]
        if _free(metallic) and rng.uniform() < 0.3:
            changes.append(
                _socket_change("reflection", target, metallic, 1.0 - round(float(metallic.default_value)))
            )
        specular = bsdf.inputs["Specular IOR Level"]
        if _free(specular) and rng.uniform() < 0.3:
            changes.append(
                _socket_change(
                    "reflection", target, specular, _away(rng, float(specular.default_value), 0.0, 1.0, 0.3)
                )
            )
    return changes


def _vary_texture(
    handle: SceneHandle, rng: np.random.Generator, material_counts: dict[int, int]
) -> list[Change]:
    candidates = _visible(handle.mappings, material_counts)
    if not candidates:
        raise SceneError("Expected visible textured materials to vary for texture; found none.")
    changes = []
    for index in _pick(rng, candidates, 1, 2):
        target = f"material:{handle.materials[index].name}"
        for mapping in handle.mappings[index]:
            for kind in _pick(rng, ["offset", "rotation", "scale"], 1, 3):
                if kind == "offset":
                    socket = mapping.inputs["Location"]
                    old = tuple(socket.default_value)
                    shift = rng.uniform(0.12, 0.45, size=2) * rng.choice([-1.0, 1.0], size=2)
                    changes.append(
                        _socket_change(
                            "texture",
                            target,
                            socket,
                            (old[0] + float(shift[0]), old[1] + float(shift[1]), old[2]),
                        )
                    )
                elif kind == "rotation":
                    socket = mapping.inputs["Rotation"]
                    old = tuple(socket.default_value)
                    turn = float(rng.uniform(math.radians(15), math.radians(90))) * float(
                        rng.choice([-1.0, 1.0])
                    )
                    changes.append(_socket_change("texture", target, socket, (old[0], old[1], old[2] + turn)))
                else:
                    socket = mapping.inputs["Scale"]
                    old = tuple(socket.default_value)
                    factor = _factor(rng, 1.4, 2.5)
                    changes.append(
                        _socket_change("texture", target, socket, (old[0] * factor, old[1] * factor, old[2]))
                    )
    return changes


def _vary_transparency(
    handle: SceneHandle, rng: np.random.Generator, material_counts: dict[int, int]
) -> list[Change]:
    candidates = _editable_principled(handle, material_counts, ("Alpha", "Transmission Weight"), "alpha")
    changes = []
    for material, bsdf in _pick(rng, candidates, 1, 2):
        target = f"material:{material.name}"
        alpha, transmission = bsdf.inputs["Alpha"], bsdf.inputs["Transmission Weight"]
        if transmission.default_value > 0.001:
            changes.append(_socket_change("transparency", target, transmission, 0.0))
        elif alpha.default_value < 0.999:
            new = 1.0 if rng.uniform() < 0.5 else _away(rng, float(alpha.default_value), 0.15, 1.0, 0.3)
            changes.append(_socket_change("transparency", target, alpha, new))
        elif rng.uniform() < 0.6:
            changes.append(_socket_change("transparency", target, alpha, float(rng.uniform(0.2, 0.6))))
        else:
            changes.append(_socket_change("transparency", target, transmission, 1.0))
    return changes


def _vary_objects(
    handle: SceneHandle, rng: np.random.Generator, object_counts: dict[int, int]
) -> tuple[list[Change], dict[int, str]]:
    candidates = [i for i in handle.movable if object_counts.get(i, 0) > 0]
    if not candidates:
        raise SceneError("Expected visible objects to change for objects; found none.")
    changes: list[Change] = []
    kinds: dict[int, str] = {}
    scene = bpy.context.scene
    for index in _pick(rng, candidates, 1, 2):
        obj = handle.objects[index]
        kind = ("move", "remove", "add", "recolour")[int(rng.integers(4))]
        target = f"object:{obj.name}"
        if kind == "move":
            angle = float(rng.uniform(0, 2 * math.pi))
            step = float(rng.uniform(0.5, 1.0)) * max(max(obj.dimensions), 0.3) * 1.5
            old = tuple(obj.location)
            new = (old[0] + step * math.cos(angle), old[1] + step * math.sin(angle), old[2])
            changes.append(_attribute_change("objects", target, obj, "location", new))
            kinds[index] = "moved"
        elif kind == "remove":
            changes.append(_attribute_change("objects", target, obj, "hide_render", True))
            kinds[index] = "removed"
        else:
            colour = (
                *colorsys.hsv_to_rgb(
                    float(rng.uniform()), float(rng.uniform(0.5, 0.9)), float(rng.uniform(0.4, 0.9))
                ),
                1.0,
            )
            if kind == "add":
                new_obj = obj.copy()
                handle.added += 1
                new_obj.name = f"{obj.name}.added"
                new_index = max(handle.objects) + handle.added
                new_obj.pass_index = new_index
                handle.names[new_index] = new_obj.name
                angle = float(rng.uniform(0, 2 * math.pi))
                distance = float(rng.uniform(0.4, 0.9)) * handle.radius
                new_obj.location = (
                    handle.centre.x + distance * math.cos(angle),
                    handle.centre.y + distance * math.sin(angle),
                    obj.location.z,
                )
                for collection in obj.users_collection or [scene.collection]:
                    collection.objects.link(new_obj)
                made = _recolour(new_obj, colour)

                def undo_add(o: Any = new_obj, materials: list[Any] = made) -> None:
                    bpy.data.objects.remove(o, do_unlink=True)
                    for m in materials:
                        bpy.data.materials.remove(m)

                changes.append(
                    Change(
                        "objects",
                        f"object:{new_obj.name}",
                        "added",
                        None,
                        [round(v, 4) for v in new_obj.location],
                        undo_add,
                    )
                )
                kinds[new_index] = "added"
            else:
                old_slots = [(slot.link, slot.material) for slot in obj.material_slots]
                made = _recolour(obj, colour)

                def undo(o: Any = obj, slots: list[Any] = old_slots, materials: list[Any] = made) -> None:
                    for slot, (link, material) in zip(o.material_slots, slots, strict=True):
                        slot.link = link
                        slot.material = material
                    for m in materials:
                        bpy.data.materials.remove(m)

                changes.append(Change("objects", target, "base_color", None, _value(colour), undo))
                kinds[index] = "recoloured"
    return changes, kinds


def _recolour(obj: Any, colour: tuple[float, ...]) -> list[Any]:
    """Give ``obj`` its own copies of its materials (object-linked slots) with a new flat base colour."""
    made = []
    for slot in obj.material_slots:
        if slot.material is None:
            continue
        copy = slot.material.copy()
        copy.pass_index = 0  # a one-off material: not one of the scene's labelled materials
        bsdf = _principled(copy)
        if bsdf is not None:
            base = bsdf.inputs["Base Color"]
            for link in list(base.links):
                copy.node_tree.links.remove(link)
            base.default_value = colour
        slot.link = "OBJECT"
        slot.material = copy
        made.append(copy)
    return made


def apply_variation(
    feature: str,
    handle: SceneHandle,
    rng: np.random.Generator,
    material_counts: dict[int, int],
    object_counts: dict[int, int],
) -> tuple[list[Change], dict[int, str]]:
    """Change the open scene for one feature; returns the changes (undo them in reverse) and, for
    ``objects``, the changed object indices with the kind of change.

    ``material_counts`` / ``object_counts`` are pixel counts in the reference render, so that only
    visible things are changed.
    """
    if feature == "illumination":
        return _vary_illumination(handle, rng), {}
    if feature == "reflection":
        return _vary_reflection(handle, rng, material_counts), {}
    if feature == "texture":
        return _vary_texture(handle, rng, material_counts), {}
    if feature == "transparency":
        return _vary_transparency(handle, rng, material_counts), {}
    if feature == "mixed":
        changes = _vary_illumination(handle, rng)
        return changes + _vary_texture(handle, rng, material_counts), {}
    if feature == "all":
        changes = _vary_illumination(handle, rng)
        changes += _vary_reflection(handle, rng, material_counts)
        changes += _vary_texture(handle, rng, material_counts)
        return changes + _vary_transparency(handle, rng, material_counts), {}
    if feature == "combined":
        # Two or three of the four, so that a pixel's change is often the sum of several causes without
        # every cause being present at once (as in ``all``).
        names = CHANGED_LABELS["combined"]
        size = int(rng.choice(COMBINED_SIZES))
        changes = []
        for index in sorted(rng.choice(len(names), size=size, replace=False).tolist()):
            changes += apply_variation(names[index], handle, rng, material_counts, object_counts)[0]
        return changes, {}
    if feature == "objects":
        return _vary_objects(handle, rng, object_counts)
    return [], {}


def undo(changes: list[Change]) -> None:
    for change in reversed(changes):
        change.undo()


def blender_version() -> str:
    return str(bpy.app.version_string)


def save_blend(path: Path) -> None:
    """Save the open scene as a .blend file (a copy: the open file's own path is not changed)."""
    bpy.ops.wm.save_as_mainfile(filepath=str(path), copy=True, compress=True)
