"""Render synthetic sources with engines other than Cycles: Mitsuba 3, VTK (OpenGL), LuxCoreRender and
Blender EEVEE.

The realness classifier learnt from Cycles renders calls half of POV-Ray's renders photos
(docs/models.md): it had seen one engine. This script makes three more, so that a model can be trained
on several engines and tested, leave-one-engine-out, on one it never saw:

- ``mitsuba``: Mitsuba 3's path tracer (``scalar_rgb``, CPU) on random scenes of this script's own
  (not the generator's): table tops, rooms and floating objects; diffuse, plastic, metal, glass and
  textured materials; a constant, gradient, sun-and-sky or HDRI world and point or area lights;
  16 to 256 samples, no denoiser, several pixel filters and tone curves.
- ``vtk``: VTK's OpenGL rasteriser (offscreen through EGL) on the same kind of scenes: flat, Gouraud,
  Phong or physically based shading, optional ambient occlusion, FXAA or multisampling, solid or
  gradient backgrounds.
- ``luxcore``: LuxCoreRender's unbiased CPU path tracer (``PATHCPU``) on the same scenes, given as
  inline meshes: its own material models (matte, glossy2, metal2, glass and roughglass), its
  physical sky and sun, Sobol, random or Metropolis sampling, 16 to 256 samples, no denoiser. Added
  for a test-only source (``luxcore-showcase``), an engine no realness model has seen.
- ``eevee``: Blender's EEVEE (a rasteriser, offscreen through EGL) on the generator's scenes (seed
  ``--seed``, other scenes than the Cycles sources' seeds 0, 101 and 102), through ``synthdiff``'s own
  scene builder.

Mitsuba, VTK and LuxCore run in their own environment (``make engine-renders`` makes ``.venv-engines``,
since none is a dependency of synthdiff); EEVEE runs in the project's environment, which has ``bpy``.
Images go to ``OUT/synthetic/ENGINE/NNNN.png``, each scene's description and render settings to
``OUT/ENGINE-scenes.jsonl``. A scene that renders an almost uniform picture (the camera behind a
wall) is skipped and recorded there as skipped. Resumable: images already written, and scenes already
recorded as skipped, are not rendered again. The test-only runs start at another scene index
(``--first``), so they share no scene with the training runs.

The script does not import synthdiff outside EEVEE (Mitsuba and VTK run where synthdiff is not
installed), hence its own sRGB encoding in ``tone_map``.

    .venv-engines/bin/python scripts/make_engine_renders.py --engine mitsuba --count 80 \\
        --out data/realness-engines [--textures PHOTO ...] [--hdris DIR]
    .venv/bin/python scripts/make_engine_renders.py --engine eevee --count 50 --out data/realness-engines
"""

from __future__ import annotations

import argparse
import colorsys
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

SIZES = ((256, 256), (320, 240), (384, 288), (400, 300), (480, 360), (512, 384), (360, 480), (640, 360))
SHAPES = ("sphere", "cube", "cylinder")
PATTERNS = ("checker", "stripes", "noise", "rings", "bricks", "dots")
MIN_GREY_STD = 0.02


# --- engine-neutral scene descriptions -----------------------------------------------------------


def _colour(rng: np.random.Generator) -> list[float]:
    """A random linear-RGB colour (saturation and value spread, a few near-greys)."""
    rgb = colorsys.hsv_to_rgb(rng.uniform(), rng.uniform(0.0, 0.9) ** 1.5, rng.uniform(0.15, 0.95))
    return [round(float(c) ** 2.2, 4) for c in rgb]


def _material(rng: np.random.Generator, photos: list[str]) -> dict[str, Any]:
    kind = str(
        rng.choice(
            ["diffuse", "plastic", "metal", "glass", "textured", "textured"],
            p=[0.2, 0.2, 0.15, 0.1, 0.2, 0.15],
        )
    )
    material: dict[str, Any] = {
        "kind": kind,
        "colour": _colour(rng),
        "roughness": round(float(rng.uniform(0.02, 0.7)), 3),
    }
    if kind == "textured":
        if photos and rng.uniform() < 0.3:
            material["texture"] = {"photo": photos[int(rng.integers(len(photos)))]}
        else:
            material["texture"] = {
                "pattern": str(rng.choice(PATTERNS)),
                "colours": [_colour(rng), _colour(rng)],
                "seed": int(rng.integers(1 << 30)),
            }
        material["tiling"] = round(float(rng.uniform(1.0, 6.0)), 2)
    return material


def describe(seed: int, index: int, photos: list[str], hdris: list[str]) -> dict[str, Any]:
    """A random scene for Mitsuba and VTK: layout, objects, materials, world, lights, camera, settings."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, index]))
    width, height = SIZES[int(rng.integers(len(SIZES)))]
    layout = str(rng.choice(["tabletop", "room", "floating"], p=[0.5, 0.3, 0.2]))
    objects = []
    for _ in range(int(rng.integers(1, 10))):
        scale = float(rng.uniform(0.25, 1.0))
        angle, radius = rng.uniform(0, 2 * math.pi), 2.2 * math.sqrt(rng.uniform())
        z = scale if layout != "floating" else float(rng.uniform(-1.5, 1.5))
        objects.append(
            {
                "shape": str(rng.choice(SHAPES)),
                "scale": round(scale, 3),
                "position": [
                    round(radius * math.cos(angle), 3),
                    round(radius * math.sin(angle), 3),
                    round(z, 3),
                ],
                "rotation": [round(float(a), 1) for a in rng.uniform(0, 360, 3)]
                if layout == "floating"
                else [0.0, 0.0, round(float(rng.uniform(0, 360)), 1)],
                "material": _material(rng, photos),
            }
        )
    world = str(
        rng.choice(["constant", "gradient", "sky", "hdri"] if hdris else ["constant", "gradient", "sky"])
    )
    lights = []
    for _ in range(int(rng.integers(0 if world in ("sky", "hdri") else 1, 4))):
        angle, elevation = rng.uniform(0, 2 * math.pi), rng.uniform(0.3, 1.3)
        distance = float(rng.uniform(3, 8))
        lights.append(
            {
                "kind": str(rng.choice(["point", "area"])),
                "colour": [round(float(c), 3) for c in 0.6 + 0.4 * rng.uniform(size=3)],
                "position": [
                    round(distance * math.cos(elevation) * math.cos(angle), 3),
                    round(distance * math.cos(elevation) * math.sin(angle), 3),
                    round(distance * math.sin(elevation), 3),
                ],
                "power": round(float(rng.uniform(20, 120)) * distance**2 / 16, 2),
                "size": round(float(rng.uniform(0.3, 2.0)), 2),
            }
        )
    azimuth, elevation = rng.uniform(0, 2 * math.pi), rng.uniform(0.08, 1.1)
    distance = float(rng.uniform(4.0, 10.0))
    return {
        "seed": seed,
        "index": index,
        "width": width,
        "height": height,
        "layout": layout,
        "objects": objects,
        "ground": _material(rng, photos) if layout != "floating" else None,
        "world": {
            "kind": world,
            "colour": _colour(rng),
            "colour2": _colour(rng),
            "strength": round(float(rng.uniform(0.2, 1.2)), 3),
            "hdri": hdris[int(rng.integers(len(hdris)))] if world == "hdri" else None,
            "sun_elevation": round(float(rng.uniform(5, 70)), 1),
            "sun_azimuth": round(float(rng.uniform(0, 360)), 1),
        },
        "lights": lights,
        "camera": {
            "fov": round(float(rng.uniform(25, 65)), 1),
            "origin": [
                round(distance * math.cos(elevation) * math.cos(azimuth), 3),
                round(distance * math.cos(elevation) * math.sin(azimuth), 3),
                round(distance * math.sin(elevation) + 0.3, 3),
            ],
            "target": [round(float(v), 3) for v in rng.uniform(-0.5, 0.5, 3) * [1, 1, 0.5] + [0, 0, 0.4]],
        },
        # Settings each engine reads; the others ignore them.
        "samples": int(rng.choice([16, 64, 256], p=[0.25, 0.45, 0.3])),
        "max_depth": int(rng.integers(3, 13)),
        "filter": str(rng.choice(["box", "tent", "gaussian"])),
        "tone": str(rng.choice(["clip", "reinhard", "filmic"])),
        "exposure": round(float(rng.uniform(-0.5, 0.5)), 2),
        "shading": str(rng.choice(["flat", "gouraud", "phong", "pbr"])),
        "ssao": bool(rng.uniform() < 0.4),
        # One anti-aliasing method at a time (FXAA on a multisampled window renders black here).
        "antialias": str(rng.choice(["none", "fxaa", "msaa4", "msaa8"])),
        "light_kit": bool(rng.uniform() < 0.5),
    }


def _towards_sun(world: dict[str, Any]) -> list[float]:
    """Unit vector from the scene towards the sun of a ``sky`` world."""
    elevation, azimuth = math.radians(world["sun_elevation"]), math.radians(world["sun_azimuth"])
    return [
        math.cos(elevation) * math.cos(azimuth),
        math.cos(elevation) * math.sin(azimuth),
        math.sin(elevation),
    ]


def _backdrop(top: list[float], bottom: list[float]) -> np.ndarray:
    """A 64x128 vertical gradient from ``top`` to ``bottom`` (linear RGB), as an environment map."""
    return np.linspace(np.array(top), np.array(bottom), 64)[:, None, :] * np.ones((1, 128, 1))


def pattern_image(texture: dict[str, Any], size: int = 256) -> np.ndarray:
    """A procedural texture as an HxWx3 uint8 sRGB image (for engines that take texture files)."""
    rng = np.random.default_rng(texture["seed"])
    y, x = np.mgrid[0:size, 0:size] / size
    kind = texture["pattern"]
    if kind == "checker":
        mask = ((x * 8).astype(int) + (y * 8).astype(int)) % 2
    elif kind == "stripes":
        mask = (np.sin((x * math.cos(1.0) + y * math.sin(1.0)) * 2 * math.pi * 6) > 0).astype(float)
    elif kind == "noise":
        coarse = rng.uniform(size=(9, 9))
        mask = (
            np.asarray(Image.fromarray((coarse * 255).astype(np.uint8)).resize((size, size), Image.BICUBIC))
            / 255.0
        )
    elif kind == "rings":
        mask = 0.5 + 0.5 * np.sin(np.hypot(x - 0.3, y - 0.6) * 60 + rng.uniform(0, 6))
    elif kind == "bricks":
        row = (y * 8).astype(int)
        mask = ((((x * 4 + 0.5 * (row % 2)) % 1) > 0.05) & (((y * 8) % 1) > 0.08)).astype(float)
    else:  # dots
        mask = (np.hypot((x * 6) % 1 - 0.5, (y * 6) % 1 - 0.5) < 0.3).astype(float)
    a, b = (np.array(c) ** (1 / 2.2) for c in texture["colours"])
    image = a * (1 - mask[..., None]) + b * mask[..., None]
    return (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)


def _texture_file(texture: dict[str, Any], folder: Path) -> str:
    if "photo" in texture:
        return str(texture["photo"])
    path = folder / f"{texture['pattern']}-{texture['seed']}.png"
    if not path.is_file():
        Image.fromarray(pattern_image(texture)).save(path)
    return str(path)


def tone_map(linear: np.ndarray, tone: str, exposure: float) -> np.ndarray:
    """Linear RGB to 8-bit sRGB: auto-exposure (the 90th percentile of luminance to 0.7, as a camera's
    meter would), the scene's exposure offset in stops, then its tone curve."""
    luminance = linear @ np.array([0.2126, 0.7152, 0.0722])
    key = max(float(np.percentile(luminance, 90)), 1e-4)
    value = np.maximum(linear * (0.7 / key) * 2.0**exposure, 0.0)
    if tone == "reinhard":
        value = value / (1.0 + value)
    elif tone == "filmic":  # a simple shoulder: roll highlights off instead of clipping them
        value = 1.0 - np.exp(-1.6 * value)
    value = np.clip(value, 0.0, 1.0)
    srgb = np.where(value <= 0.0031308, 12.92 * value, 1.055 * np.power(value, 1 / 2.4) - 0.055)
    return (srgb * 255 + 0.5).astype(np.uint8)


# --- Mitsuba 3 -----------------------------------------------------------------------------------


def render_mitsuba(scene: dict[str, Any], textures: Path) -> np.ndarray:
    import mitsuba as mi

    mi.set_variant("scalar_rgb")
    T = mi.ScalarTransform4f

    def bsdf(material: dict[str, Any]) -> dict[str, Any]:
        colour = {"type": "rgb", "value": material["colour"]}
        alpha = max(material["roughness"], 0.02) ** 2 * 2
        if material["kind"] == "plastic":
            return {"type": "roughplastic", "alpha": alpha, "diffuse_reflectance": colour}
        if material["kind"] == "metal":
            return {
                "type": "roughconductor",
                "alpha": alpha,
                "material": "none",
                "specular_reflectance": colour,
            }
        if material["kind"] == "glass":
            return (
                {"type": "dielectric", "int_ior": 1.5}
                if material["roughness"] < 0.2
                else {"type": "roughdielectric", "alpha": alpha}
            )
        if material["kind"] == "textured":
            tiling = material["tiling"]
            texture = {
                "type": "bitmap",
                "filename": _texture_file(material["texture"], textures),
                "to_uv": T().scale([tiling, tiling, 1]),
            }
            return {"type": "principled", "base_color": texture, "roughness": material["roughness"]}
        return {"type": "diffuse", "reflectance": colour}

    width, height = scene["width"], scene["height"]
    camera = scene["camera"]
    fov_axis = "x" if width >= height else "y"
    description: dict[str, Any] = {
        "type": "scene",
        "integrator": {"type": "path", "max_depth": scene["max_depth"]},
        "sensor": {
            "type": "perspective",
            "fov": camera["fov"],
            "fov_axis": fov_axis,
            "to_world": T().look_at(origin=camera["origin"], target=camera["target"], up=[0, 0, 1]),
            "film": {
                "type": "hdrfilm",
                "width": width,
                "height": height,
                "rfilter": {"type": scene["filter"]},
            },
            "sampler": {"type": "independent", "sample_count": scene["samples"], "seed": scene["index"]},
        },
    }
    world = scene["world"]
    if world["kind"] == "constant":
        description["world"] = {
            "type": "constant",
            "radiance": {"type": "rgb", "value": [c * world["strength"] for c in world["colour"]]},
        }
    elif world["kind"] in ("gradient", "sky"):
        # A sky is a blue-to-white gradient with a sun (a directional light); a gradient is any two colours.
        top, bottom = (
            ([0.25, 0.45, 0.9], [0.9, 0.9, 0.95])
            if world["kind"] == "sky"
            else (world["colour"], world["colour2"])
        )
        rows = _backdrop(top, bottom)
        path = textures / f"gradient-{scene['seed']}-{scene['index']}.exr"
        mi.Bitmap((rows * world["strength"]).astype(np.float32)).write(str(path))
        description["world"] = {
            "type": "envmap",
            "filename": str(path),
            "to_world": T().rotate([1, 0, 0], 90),
        }
        if world["kind"] == "sky":
            description["sun"] = {
                "type": "directional",
                "direction": [-v for v in _towards_sun(world)],
                "irradiance": {"type": "rgb", "value": [3.0, 2.9, 2.7]},
            }
    else:
        description["world"] = {
            "type": "envmap",
            "filename": world["hdri"],
            "scale": world["strength"],
            "to_world": T().rotate([1, 0, 0], 90).rotate([0, 1, 0], world["sun_azimuth"]),
        }
    for k, light in enumerate(scene["lights"]):
        power = [c * light["power"] for c in light["colour"]]
        if light["kind"] == "point":
            description[f"light{k}"] = {
                "type": "point",
                "position": light["position"],
                "intensity": {"type": "rgb", "value": power},
            }
        else:
            size = light["size"]
            description[f"light{k}"] = {
                "type": "rectangle",
                "to_world": T()
                .look_at(origin=light["position"], target=[0, 0, 0], up=[0, 0, 1])
                .scale([size, size, 1]),
                "emitter": {
                    "type": "area",
                    "radiance": {"type": "rgb", "value": [p / (4 * size * size) for p in power]},
                },
            }
    if scene["ground"] is not None:
        description["ground"] = {
            "type": "rectangle",
            "to_world": T().scale([12, 12, 1]),
            "bsdf": bsdf(scene["ground"]),
        }
        if scene["layout"] == "room":
            for k, (axis, offset) in enumerate(((0, 6), (1, 6))):
                rotate = T().translate([offset if axis == 0 else 0, offset if axis == 1 else 0, 6])
                rotate = rotate.rotate([0, 1, 0], -90) if axis == 0 else rotate.rotate([1, 0, 0], 90)
                description[f"wall{k}"] = {
                    "type": "rectangle",
                    "to_world": rotate.scale([6, 6, 1]),
                    "bsdf": bsdf(scene["ground"]),
                }
    for k, obj in enumerate(scene["objects"]):
        placed = (
            T()
            .translate(obj["position"])
            .rotate([0, 0, 1], obj["rotation"][2])
            .rotate([0, 1, 0], obj["rotation"][1])
        )
        placed = placed.rotate([1, 0, 0], obj["rotation"][0]).scale(obj["scale"])
        if obj["shape"] == "cylinder":  # Mitsuba's cylinder is open: close it with two disks
            description[f"object{k}"] = {
                "type": "cylinder",
                "p0": [0, 0, -1],
                "p1": [0, 0, 1],
                "radius": 0.8,
                "to_world": placed,
                "bsdf": bsdf(obj["material"]),
            }
            for end, z in (("top", 1), ("bottom", -1)):
                description[f"object{k}{end}"] = {
                    "type": "disk",
                    "to_world": placed.translate([0, 0, z]).scale(0.8),
                    "bsdf": bsdf(obj["material"]),
                }
        else:
            description[f"object{k}"] = {
                "type": obj["shape"],
                "to_world": placed,
                "bsdf": bsdf(obj["material"]),
            }
    image = np.asarray(mi.render(mi.load_dict(description)))[..., :3]
    return tone_map(np.nan_to_num(image), scene["tone"], scene["exposure"])


# --- VTK -----------------------------------------------------------------------------------------


def render_vtk(scene: dict[str, Any], textures: Path) -> np.ndarray:
    import vtk
    from vtk.util.numpy_support import vtk_to_numpy

    renderer = vtk.vtkRenderer()
    window = vtk.vtkRenderWindow()
    window.SetOffScreenRendering(1)
    window.SetSize(scene["width"], scene["height"])
    window.SetMultiSamples(int(scene["antialias"][4:]) if scene["antialias"].startswith("msaa") else 0)
    window.AddRenderer(renderer)
    srgb = [c ** (1 / 2.2) for c in scene["world"]["colour"]]
    renderer.SetBackground(*srgb)
    if scene["world"]["kind"] in ("gradient", "sky", "hdri"):
        renderer.GradientBackgroundOn()
        renderer.SetBackground2(*[c ** (1 / 2.2) for c in scene["world"]["colour2"]])

    def actor(source: Any, material: dict[str, Any], tiling: float = 1.0) -> Any:
        mapper = vtk.vtkPolyDataMapper()
        if material["kind"] == "textured":
            texture_file = _texture_file(material["texture"], textures)
            reader = vtk.vtkJPEGReader() if texture_file.lower().endswith(".jpg") else vtk.vtkPNGReader()
            reader.SetFileName(texture_file)
            mapped = (
                vtk.vtkTextureMapToSphere()
                if isinstance(source, vtk.vtkSphereSource)
                else vtk.vtkTextureMapToPlane()
            )
            mapped.SetInputConnection(source.GetOutputPort())
            scale = vtk.vtkTransformTextureCoords()
            scale.SetInputConnection(mapped.GetOutputPort())
            scale.SetScale(material["tiling"] * tiling, material["tiling"] * tiling, 1)
            mapper.SetInputConnection(scale.GetOutputPort())
        else:
            mapper.SetInputConnection(source.GetOutputPort())
        result = vtk.vtkActor()
        result.SetMapper(mapper)
        prop = result.GetProperty()
        prop.SetColor(*[c ** (1 / 2.2) for c in material["colour"]])
        prop.SetAmbient(0.1)
        if material["kind"] == "textured":
            texture = vtk.vtkTexture()
            texture.SetInputConnection(reader.GetOutputPort())
            texture.InterpolateOn()
            texture.RepeatOn()
            texture.MipmapOn()
            texture.UseSRGBColorSpaceOn()
            result.SetTexture(texture)
            prop.SetColor(1, 1, 1)
        shading = scene["shading"]
        if shading == "pbr":
            prop.SetInterpolationToPBR()
            prop.SetMetallic(1.0 if material["kind"] == "metal" else 0.0)
            prop.SetRoughness(material["roughness"])
        else:
            {
                "flat": prop.SetInterpolationToFlat,
                "gouraud": prop.SetInterpolationToGouraud,
                "phong": prop.SetInterpolationToPhong,
            }[shading]()
            prop.SetSpecular(0.1 if material["kind"] == "diffuse" else 0.6)
            prop.SetSpecularPower(5 + 100 * (1 - material["roughness"]))
        if material["kind"] == "glass":
            prop.SetOpacity(0.35)
        return result

    if scene["ground"] is not None:
        plane = vtk.vtkPlaneSource()
        plane.SetOrigin(-12, -12, 0)
        plane.SetPoint1(12, -12, 0)
        plane.SetPoint2(-12, 12, 0)
        plane.SetResolution(32, 32)
        renderer.AddActor(actor(plane, scene["ground"], tiling=4))
        if scene["layout"] == "room":
            for corner in (((6, -12, 0), (6, 12, 0), (6, -12, 12)), ((-12, 6, 0), (12, 6, 0), (-12, 6, 12))):
                wall = vtk.vtkPlaneSource()
                wall.SetOrigin(*corner[0])
                wall.SetPoint1(*corner[1])
                wall.SetPoint2(*corner[2])
                renderer.AddActor(actor(wall, scene["ground"], tiling=2))
    for obj in scene["objects"]:
        if obj["shape"] == "sphere":
            source = vtk.vtkSphereSource()
            source.SetThetaResolution(int(12 + 52 * (obj["scale"] > 0.5)))
            source.SetPhiResolution(int(8 + 40 * (obj["scale"] > 0.5)))
        elif obj["shape"] == "cube":
            source = vtk.vtkCubeSource()
            source.SetXLength(1.6), source.SetYLength(1.6), source.SetZLength(1.6)
        else:
            source = vtk.vtkCylinderSource()
            source.SetResolution(48)
            source.SetRadius(0.8)
            source.SetHeight(2.0)
        item = actor(source, obj["material"])
        if obj["shape"] == "cylinder":
            item.RotateX(90)
        item.SetScale(obj["scale"])
        item.RotateZ(obj["rotation"][2]), item.RotateY(obj["rotation"][1]), item.RotateX(obj["rotation"][0])
        item.SetPosition(*obj["position"])
        renderer.AddActor(item)
    renderer.AutomaticLightCreationOff()
    boost = 3.0 if scene["shading"] == "pbr" else 1.0  # VTK's PBR shading wants brighter lights
    if not scene["lights"] or scene["light_kit"]:
        kit = vtk.vtkLightKit()  # the key, fill, back and head lights of VTK's viewers
        kit.SetKeyLightIntensity(0.8 * boost)
        kit.AddLightsToRenderer(renderer)
    for light in scene["lights"]:
        source = vtk.vtkLight()
        source.SetPosition(*light["position"])
        source.SetFocalPoint(0, 0, 0)
        source.SetColor(*light["colour"])
        source.SetIntensity(boost * min(1.0, 0.5 + light["power"] / 300))
        renderer.AddLight(source)
    camera = renderer.GetActiveCamera()
    camera.SetPosition(*scene["camera"]["origin"])
    camera.SetFocalPoint(*scene["camera"]["target"])
    camera.SetViewUp(0, 0, 1)
    camera.SetViewAngle(
        scene["camera"]["fov"]
        if scene["width"] < scene["height"]
        else scene["camera"]["fov"] * scene["height"] / scene["width"]
    )
    renderer.ResetCameraClippingRange()
    if scene["ssao"]:
        renderer.UseSSAOOn()
        renderer.SetSSAORadius(0.5)
    if scene["antialias"] == "fxaa":
        renderer.UseFXAAOn()
    window.Render()
    grab = vtk.vtkWindowToImageFilter()
    grab.SetInput(window)
    grab.SetInputBufferTypeToRGB()
    grab.ReadFrontBufferOff()
    grab.Update()
    output = grab.GetOutput()
    width, height, _ = output.GetDimensions()
    pixels = vtk_to_numpy(output.GetPointData().GetScalars()).reshape(height, width, 3)[::-1]
    window.Finalize()
    return np.ascontiguousarray(pixels.astype(np.uint8))


# --- Blender EEVEE on the generator's scenes ----------------------------------------------------


def render_eevee(seed: int, index: int, path: Path) -> dict[str, Any]:
    import bpy

    from synthdiff.synth._blender import build_scene
    from synthdiff.synth._scene import describe_scene, scene_rng, texture_images

    description = describe_scene(seed, index, texture_images())
    build_scene(description)
    rng = scene_rng(seed, 9, index)
    scene = bpy.context.scene
    scene.render.engine = "BLENDER_EEVEE"
    width, height = SIZES[int(rng.integers(len(SIZES)))]
    scene.render.resolution_x, scene.render.resolution_y = width, height
    scene.render.resolution_percentage = 100
    settings = {
        "width": width,
        "height": height,
        "samples": int(rng.choice([1, 4, 16, 64])),
        "shadows": bool(rng.uniform() < 0.8),
        "raytracing": bool(rng.uniform() < 0.5),
    }
    scene.eevee.taa_render_samples = settings["samples"]
    scene.eevee.use_shadows = settings["shadows"]
    scene.eevee.use_raytracing = settings["raytracing"]
    scene.render.image_settings.file_format = "PNG"
    scene.render.filepath = str(path)
    bpy.ops.render.render(write_still=True)
    return {"seed": seed, "index": index, "scene": description, **settings}


# --- LuxCoreRender -------------------------------------------------------------------------------


def _rotation(degrees: list[float]) -> np.ndarray:
    """Rz @ Ry @ Rx, as the Mitsuba and VTK scenes apply a scene object's rotation."""
    x, y, z = (math.radians(a) for a in degrees)
    rx = np.array([[1, 0, 0], [0, math.cos(x), -math.sin(x)], [0, math.sin(x), math.cos(x)]])
    ry = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    rz = np.array([[math.cos(z), -math.sin(z), 0], [math.sin(z), math.cos(z), 0], [0, 0, 1]])
    return rz @ ry @ rx


def unit_mesh(shape: str, segments: int = 48) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(vertices, triangles, normals, uvs) of a unit sphere, a cube of side 2, or a closed cylinder of
    radius 0.8 from z=-1 to 1 (the shapes of the Mitsuba scenes), for engines that take only meshes."""
    if shape == "sphere":
        theta, phi = np.meshgrid(
            np.linspace(0, math.pi, segments // 2 + 1), np.linspace(0, 2 * math.pi, segments + 1)
        )
        normals = np.stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)], -1)
        uvs = np.stack([phi / (2 * math.pi), 1 - theta / math.pi], -1)
        rows, cols = normals.shape[:2]
        index = np.arange(rows * cols).reshape(rows, cols)
        a, b, c, d = index[:-1, :-1], index[1:, :-1], index[1:, 1:], index[:-1, 1:]
        triangles = np.concatenate(
            [np.stack([a, b, c], -1).reshape(-1, 3), np.stack([a, c, d], -1).reshape(-1, 3)]
        )
        normals = normals.reshape(-1, 3)
        return _outward(normals.copy(), triangles, normals, uvs.reshape(-1, 2))
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (vertices, normals, uvs) of quads
    if shape == "cube":
        for axis in range(3):
            for sign in (-1.0, 1.0):
                u_axis, v_axis = [k for k in range(3) if k != axis]
                corners = np.zeros((4, 3))
                corners[:, axis] = sign
                corners[:, u_axis] = [-1, 1, 1, -1]
                corners[:, v_axis] = [-1, -1, 1, 1]
                normal = np.zeros(3)
                normal[axis] = sign
                parts.append((corners, np.tile(normal, (4, 1)), np.array([[0, 0], [1, 0], [1, 1], [0, 1]])))
    elif shape == "cylinder":  # the side, then the two caps as fans of quads
        angles = np.linspace(0, 2 * math.pi, segments + 1)
        for k in range(segments):
            ring = [
                (math.cos(angles[k]), math.sin(angles[k])),
                (math.cos(angles[k + 1]), math.sin(angles[k + 1])),
            ]
            corners = np.array(
                [
                    [0.8 * ring[0][0], 0.8 * ring[0][1], -1],
                    [0.8 * ring[1][0], 0.8 * ring[1][1], -1],
                    [0.8 * ring[1][0], 0.8 * ring[1][1], 1],
                    [0.8 * ring[0][0], 0.8 * ring[0][1], 1],
                ]
            )
            normals = np.array(
                [
                    [ring[0][0], ring[0][1], 0],
                    [ring[1][0], ring[1][1], 0],
                    [ring[1][0], ring[1][1], 0],
                    [ring[0][0], ring[0][1], 0],
                ]
            )
            u = np.array([k, k + 1, k + 1, k]) / segments
            parts.append((corners, normals, np.stack([u, [0, 0, 1, 1]], -1)))
            for z in (-1.0, 1.0):
                # a quad with two corners at the centre: one real triangle (centre, rim, rim), one empty
                rim = (corners[1], corners[0]) if z < 0 else (corners[3], corners[2])
                cap = np.array([[0, 0, z], [0, 0, z], rim[0], rim[1]])
                parts.append((cap, np.tile([0, 0, z], (4, 1)), 0.5 + 0.5 * cap[:, :2] / 0.8))
    else:
        raise ValueError(f"Expected a shape from {SHAPES}, got {shape!r}.")
    vertices = np.concatenate([q[0] for q in parts])
    normals = np.concatenate([q[1] for q in parts])
    uvs = np.concatenate([q[2] for q in parts])
    start = np.arange(len(parts))[:, None] * 4
    triangles = np.concatenate([start + np.array([0, 1, 2]), start + np.array([0, 2, 3])])
    return _outward(vertices, triangles, normals, uvs)


def _outward(
    vertices: np.ndarray, triangles: np.ndarray, normals: np.ndarray, uvs: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Wind every triangle counter-clockwise seen from outside (its normals' side), so that engines
    which take the inside of a closed mesh from the winding (glass) see it right."""
    a, b, c = (vertices[triangles[:, k]] for k in range(3))
    inward = np.einsum("ij,ij->i", np.cross(b - a, c - a), normals[triangles].mean(1)) < 0
    triangles = triangles.copy()
    triangles[inward] = triangles[inward][:, [0, 2, 1]]
    return vertices, triangles, normals, uvs


def _numbers(values: np.ndarray | list[float]) -> str:
    return " ".join(f"{float(v):.6g}" for v in np.asarray(values).ravel())


CLEAN_EXR = """
import sys, numpy as np, mitsuba as mi
mi.set_variant("scalar_rgb")
pixels = np.nan_to_num(np.asarray(mi.Bitmap(sys.argv[1]), dtype=np.float32), nan=0.0, posinf=0.0)
mi.Bitmap(np.maximum(pixels, 0.0)).write(sys.argv[2])
"""


def render_luxcore(scene: dict[str, Any], textures: Path) -> np.ndarray:
    """LuxCoreRender's CPU path tracer (``PATHCPU``) on a scene from :func:`describe`: meshes given
    inline, its own material models, sun and sky or image-based lighting, and its own samplers."""
    import pyluxcore

    pyluxcore.Init(lambda message: None)  # its log goes nowhere; failures raise
    lines: list[str] = []

    def material(name: str, spec: dict[str, Any]) -> None:
        prefix = f"scene.materials.{name}"
        roughness = max(spec["roughness"], 0.02) ** 2
        colour = _numbers(spec["colour"])
        if spec["kind"] == "plastic":
            lines.extend(
                [
                    f"{prefix}.type = glossy2",
                    f"{prefix}.kd = {colour}",
                    f"{prefix}.ks = 0.04 0.04 0.04",
                    f"{prefix}.uroughness = {roughness}",
                    f"{prefix}.vroughness = {roughness}",
                ]
            )
        elif spec["kind"] == "metal":
            lines.extend(
                [
                    f"scene.textures.{name}_fresnel.type = fresnelcolor",
                    f"scene.textures.{name}_fresnel.kr = {colour}",
                    f"{prefix}.type = metal2",
                    f"{prefix}.fresnel = {name}_fresnel",
                    f"{prefix}.uroughness = {roughness}",
                    f"{prefix}.vroughness = {roughness}",
                ]
            )
        elif spec["kind"] == "glass":
            kind = "glass" if spec["roughness"] < 0.2 else "roughglass"
            lines.extend(
                [
                    f"{prefix}.type = {kind}",
                    f"{prefix}.kr = 1 1 1",
                    f"{prefix}.kt = 1 1 1",
                    f"{prefix}.interiorior = 1.5",
                ]
            )
            if kind == "roughglass":
                lines.extend([f"{prefix}.uroughness = {roughness}", f"{prefix}.vroughness = {roughness}"])
        elif spec["kind"] == "textured":
            tiling = spec["tiling"]
            lines.extend(
                [
                    f"scene.textures.{name}_image.type = imagemap",
                    f'scene.textures.{name}_image.file = "{_texture_file(spec["texture"], textures)}"',
                    f"scene.textures.{name}_image.gamma = 2.2",
                    f"scene.textures.{name}_image.mapping.uvscale = {tiling} {tiling}",
                    f"{prefix}.type = glossy2",
                    f"{prefix}.kd = {name}_image",
                    f"{prefix}.ks = 0.03 0.03 0.03",
                    f"{prefix}.uroughness = {roughness}",
                    f"{prefix}.vroughness = {roughness}",
                ]
            )
        else:
            lines.extend([f"{prefix}.type = matte", f"{prefix}.kd = {colour}"])

    def mesh(
        name: str,
        material_name: str,
        vertices: np.ndarray,
        triangles: np.ndarray,
        normals: np.ndarray | None,
        uvs: np.ndarray,
    ) -> None:
        prefix = f"scene.objects.{name}"
        lines.extend(
            [
                f"{prefix}.material = {material_name}",
                f"{prefix}.vertices = {_numbers(vertices)}",
                f"{prefix}.faces = {' '.join(str(int(i)) for i in triangles.ravel())}",
                f"{prefix}.uvs = {_numbers(uvs)}",
            ]
        )
        if normals is not None:
            lines.append(f"{prefix}.normals = {_numbers(normals)}")

    def quad(
        name: str, material_name: str, centre: np.ndarray, u: np.ndarray, v: np.ndarray, scale: float
    ) -> None:
        corners = np.array([centre - u - v, centre + u - v, centre + u + v, centre - u + v])
        mesh(
            name,
            material_name,
            corners,
            np.array([[0, 1, 2], [0, 2, 3]]),
            None,
            np.array([[0, 0], [scale, 0], [scale, scale], [0, scale]]),
        )

    width, height = scene["width"], scene["height"]
    camera = scene["camera"]
    # LuxCore's field of view spans the shorter side; the scene's spans the longer one (as in Mitsuba).
    short_fov = 2 * math.degrees(
        math.atan(math.tan(math.radians(camera["fov"]) / 2) * min(width, height) / max(width, height))
    )
    lines.extend(
        [
            'scene.camera.type = "perspective"',
            f"scene.camera.lookat.orig = {_numbers(camera['origin'])}",
            f"scene.camera.lookat.target = {_numbers(camera['target'])}",
            "scene.camera.up = 0 0 1",
            f"scene.camera.fieldofview = {short_fov:.4f}",
        ]
    )
    world = scene["world"]
    if world["kind"] == "constant":
        lines.extend(
            [
                "scene.lights.world.type = constantinfinite",
                f"scene.lights.world.color = {_numbers([c * world['strength'] for c in world['colour']])}",
            ]
        )
    elif world["kind"] == "gradient":  # an 8-bit linear image is enough for a smooth backdrop
        rows = _backdrop(world["colour"], world["colour2"])
        path = textures / f"gradient-{scene['seed']}-{scene['index']}.png"
        Image.fromarray((np.clip(rows, 0, 1) * 255 + 0.5).astype(np.uint8)).save(path)
        lines.extend(
            [
                "scene.lights.world.type = infinite",
                f'scene.lights.world.file = "{path}"',
                "scene.lights.world.gamma = 1.0",
                f"scene.lights.world.gain = {_numbers([world['strength']] * 3)}",
            ]
        )
    elif world["kind"] == "sky":  # LuxCore's own physical sky and sun
        towards_sun = _towards_sun(world)
        lines.extend(
            [
                "scene.lights.sky.type = sky2",
                f"scene.lights.sky.dir = {_numbers(towards_sun)}",
                "scene.lights.sky.gain = 0.00005 0.00005 0.00005",
                "scene.lights.sun.type = sun",
                f"scene.lights.sun.dir = {_numbers(towards_sun)}",
                "scene.lights.sun.gain = 0.00005 0.00005 0.00005",
            ]
        )
    else:
        turn = np.eye(4)  # the map turned about the vertical axis by the scene's sun azimuth
        turn[:3, :3] = _rotation([0.0, 0.0, world["sun_azimuth"]])
        # LuxCore refuses maps with NaN pixels, which some of Blender's studio lights have: clean a copy
        # with Mitsuba's image I/O (installed beside it in .venv-engines), in another process, since
        # the two libraries crash when loaded into one.
        hdri = textures / f"clean-{Path(world['hdri']).name}"
        if not hdri.is_file():
            subprocess.run([sys.executable, "-c", CLEAN_EXR, world["hdri"], str(hdri)], check=True)
        lines.extend(
            [
                "scene.lights.world.type = infinite",
                f'scene.lights.world.file = "{hdri}"',
                f"scene.lights.world.gain = {_numbers([world['strength']] * 3)}",
                f"scene.lights.world.transformation = {_numbers(turn)}",
            ]
        )
    for k, light in enumerate(scene["lights"]):
        power = [c * light["power"] for c in light["colour"]]
        if light["kind"] == "point":
            lines.extend(
                [
                    f"scene.lights.light{k}.type = point",
                    f"scene.lights.light{k}.position = {_numbers(light['position'])}",
                    f"scene.lights.light{k}.color = {_numbers(power)}",
                ]
            )
        else:  # an emitting square facing the origin
            size = light["size"]
            lines.extend(
                [
                    f"scene.materials.emit{k}.type = matte",
                    f"scene.materials.emit{k}.kd = 0 0 0",
                    f"scene.materials.emit{k}.emission = {_numbers([p / (4 * size * size) for p in power])}",
                ]
            )
            centre = np.array(light["position"], dtype=float)
            facing = -centre / np.linalg.norm(centre)
            u = np.cross(facing, [0, 0, 1.0])
            u = u / np.linalg.norm(u) if np.linalg.norm(u) > 1e-6 else np.array([1.0, 0, 0])
            v = np.cross(u, facing)
            quad(f"lamp{k}", f"emit{k}", centre, size * v, size * u, 1.0)
    if scene["ground"] is not None:
        material("ground", scene["ground"])
        quad("ground", "ground", np.zeros(3), np.array([12.0, 0, 0]), np.array([0, 12.0, 0]), 12.0)
        if scene["layout"] == "room":
            quad("wall0", "ground", np.array([6.0, 0, 6]), np.array([0, 6.0, 0]), np.array([0, 0, 6.0]), 6.0)
            quad("wall1", "ground", np.array([0, 6.0, 6]), np.array([6.0, 0, 0]), np.array([0, 0, 6.0]), 6.0)
    for k, obj in enumerate(scene["objects"]):
        material(f"m{k}", obj["material"])
        vertices, triangles, normals, uvs = unit_mesh(obj["shape"])
        turn = _rotation(obj["rotation"])
        placed = vertices @ turn.T * obj["scale"] + np.array(obj["position"])
        mesh(f"object{k}", f"m{k}", placed, triangles, normals @ turn.T, uvs)
    properties = pyluxcore.Properties()
    properties.SetFromString("\n".join(lines))
    luxscene = pyluxcore.Scene()
    luxscene.Parse(properties)
    filters = {"box": "BOX", "tent": "MITCHELL_SS", "gaussian": "GAUSSIAN"}
    sampler = ("SOBOL", "RANDOM", "METROPOLIS")[scene["index"] % 3]
    config = pyluxcore.Properties()
    config.SetFromString(
        "\n".join(
            [
                "renderengine.type = PATHCPU",
                f"sampler.type = {sampler}",
                f"film.width = {width}",
                f"film.height = {height}",
                f"film.filter.type = {filters[scene['filter']]}",
                f"path.pathdepth.total = {scene['max_depth']}",
                f"batch.haltspp = {scene['samples']}",
                f"renderengine.seed = {scene['index'] + 1}",
                "film.imagepipelines.0.0.type = TONEMAP_LINEAR",
                "film.imagepipelines.0.0.scale = 1.0",
            ]
        )
    )
    session = pyluxcore.RenderSession(pyluxcore.RenderConfig(config, luxscene))
    session.Start()
    while not session.HasDone():  # WaitForDone does not return here once the sample count is reached
        time.sleep(0.2)
        session.UpdateStats()
    session.Stop()
    buffer = np.zeros((height, width, 3), dtype=np.float32)
    session.GetFilm().GetOutputFloat(pyluxcore.FilmOutputType.RGB_IMAGEPIPELINE, buffer)
    return tone_map(np.nan_to_num(np.flipud(buffer)), scene["tone"], scene["exposure"])


# --- the run -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("mitsuba", "vtk", "luxcore", "eevee"), required=True)
    parser.add_argument("--count", type=int, default=80)
    parser.add_argument(
        "--first", type=int, default=0, help="index of the first scene (test-only runs use others)"
    )
    parser.add_argument("--seed", type=int, default=301)
    parser.add_argument("--out", type=Path, default=Path("data/realness-engines"))
    parser.add_argument("--name", help="source folder name (default: the engine's)")
    parser.add_argument(
        "--textures", type=Path, nargs="*", default=[], help="photos usable as image textures"
    )
    parser.add_argument("--hdris", type=Path, help="folder of .exr environment maps (Mitsuba)")
    args = parser.parse_args()
    photos = sorted(str(p) for p in args.textures)
    hdris = sorted(str(p) for p in args.hdris.glob("*.exr")) if args.hdris else []
    folder = args.out / "synthetic" / (args.name or args.engine)
    folder.mkdir(parents=True, exist_ok=True)
    journal = args.out / f"{args.name or args.engine}-scenes.jsonl"
    records = [json.loads(line) for line in journal.read_text().splitlines()] if journal.is_file() else []
    skipped = [r["index"] for r in records if "skipped" in r]
    started, written = time.monotonic(), 0
    with tempfile.TemporaryDirectory() as temporary, open(journal, "a") as log:
        for index in range(args.first, args.first + args.count):
            path = folder / f"{index:04d}.png"
            if path.is_file() or index in skipped:
                continue
            partial = path.with_suffix(".tmp.png")
            if args.engine == "eevee":
                record = render_eevee(args.seed, index, partial)
            else:
                scene = describe(args.seed, index, photos, hdris)
                render = {"mitsuba": render_mitsuba, "vtk": render_vtk, "luxcore": render_luxcore}[
                    args.engine
                ]
                Image.fromarray(render(scene, Path(temporary))).save(partial)
                record = scene
            grey = np.asarray(Image.open(partial).convert("L"), np.float32) / 255.0
            if grey.std() < MIN_GREY_STD:  # a camera inside an object or facing a wall: not a picture
                partial.unlink()
                skipped.append(index)
                log.write(
                    json.dumps({"index": index, "engine": args.engine, "skipped": "almost uniform"}) + "\n"
                )
                log.flush()
                print(f"{args.engine} scene {index}: almost uniform, skipped", flush=True)
                continue
            partial.replace(path)
            log.write(json.dumps({"file": path.name, "engine": args.engine, **record}) + "\n")
            log.flush()
            written += 1
            print(
                f"{args.engine} {path.name} ({written} written, {time.monotonic() - started:.0f} s)",
                flush=True,
            )
    print(
        f"{folder}: {len(list(folder.glob('*.png')))} images; skipped (uniform): {skipped}", file=sys.stderr
    )
    if len(skipped) > 0.1 * args.count:  # more than a few: the engine, not the scenes, is failing
        sys.exit(f"{len(skipped)} of {args.count} {args.engine} scenes rendered almost uniform images")
    if args.engine == "luxcore":
        # pyluxcore 2.11 can crash in the interpreter's teardown once it has rendered (seen here: a
        # segmentation fault after the last line above, every image already written), which fails
        # `make`. Everything is on disk by now, so leave without the teardown.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


if __name__ == "__main__":
    main()
