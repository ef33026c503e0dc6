"""Random procedural scenes as plain data (no bpy needed); ``_blender.build_scene`` turns them into Blender.

A scene description is a JSON-ready dict, saved beside each reference render, so a dataset says
exactly what it contains. Scene ``i`` of seed ``s`` is the same whatever feature is generated.
"""

from __future__ import annotations

import colorsys
import math
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["HDRI_NAMES", "SHAPES", "describe_scene", "scene_rng", "texture_images"]

SHAPES = ("cube", "uv_sphere", "ico_sphere", "cylinder", "cone", "torus", "monkey")
# Half the height of each shape at scale 1 (they are built to fit a unit box), to rest it on the ground.
HALF_HEIGHT = {"torus": 0.15, "monkey": 0.49}
PROCEDURAL_TEXTURES = ("checker", "brick", "wave", "voronoi", "noise", "magic")
LIGHT_TYPES = ("SUN", "POINT", "SPOT", "AREA")
#: The CC0 environment maps that ship inside the bpy package (datafiles/studiolights/world).
HDRI_NAMES = ("city", "courtyard", "forest", "interior", "night", "studio", "sunrise", "sunset")


def scene_rng(seed: int, *stream: int) -> np.random.Generator:
    """A generator for one stream of randomness (scene, variant, attempt), independent of the others."""
    return np.random.default_rng(np.random.SeedSequence([seed, *stream]))


def texture_images() -> list[str]:
    """Photos that ship inside installed packages, usable as image textures (sorted, may be empty).

    matplotlib's sample photo always; scikit-image's bundled photos when it is installed.
    """
    found: list[Path] = []
    try:
        import matplotlib

        sample = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
        if sample.is_file():
            found.append(sample)
    except ImportError:  # pragma: no cover - matplotlib is a core dependency
        pass
    try:
        import skimage

        data = Path(skimage.__file__).parent / "data"
        for name in ("astronaut.png", "brick.png", "chelsea.png", "coffee.png", "grass.png", "gravel.png"):
            if (data / name).is_file():
                found.append(data / name)
    except ImportError:
        pass
    return sorted(str(p) for p in found)


def _colour(rng: np.random.Generator) -> list[float]:
    """A random colour, linear RGB (what Blender's colour sockets take)."""
    rgb = colorsys.hsv_to_rgb(
        float(rng.uniform()), float(rng.uniform(0.25, 0.9)), float(rng.uniform(0.3, 0.9))
    )
    return [round(float(c) ** 2.2, 5) for c in rgb]


def _material(rng: np.random.Generator, name: str, *, textured: bool, images: list[str]) -> dict[str, Any]:
    material: dict[str, Any] = {
        "name": name,
        "base_color": _colour(rng),
        "roughness": round(float(rng.uniform(0.05, 0.9)), 4),
        "metallic": 1.0 if rng.uniform() < 0.2 else 0.0,
        "alpha": 1.0,
        "transmission": 0.0,
        "texture": None,
    }
    if textured:
        if images and rng.uniform() < 0.35:
            texture: dict[str, Any] = {"kind": "image", "image": images[int(rng.integers(len(images)))]}
        else:
            texture = {
                "kind": PROCEDURAL_TEXTURES[int(rng.integers(len(PROCEDURAL_TEXTURES)))],
                "scale": round(float(rng.uniform(3.0, 10.0)), 3),
                "colors": [_colour(rng), _colour(rng)],
            }
        texture["mapping"] = {"location": [0.0, 0.0, 0.0], "rotation": 0.0, "scale": 1.0}
        material["texture"] = texture
    return material


def _place(rng: np.random.Generator, radii: list[float]) -> list[tuple[float, float]]:
    """Non-overlapping positions on the ground for footprints of the given radii."""
    spread = 1.6 + 0.35 * len(radii)
    placed: list[tuple[float, float, float]] = []
    for radius in radii:
        for _ in range(200):
            angle, distance = rng.uniform(0, 2 * math.pi), spread * math.sqrt(rng.uniform())
            x, y = distance * math.cos(angle), distance * math.sin(angle)
            if all(math.hypot(x - px, y - py) > radius + pr + 0.1 for px, py, pr in placed):
                break
        placed.append((x, y, radius))
    return [(round(x, 4), round(y, 4)) for x, y, _ in placed]


def describe_scene(seed: int, scene_index: int, images: list[str]) -> dict[str, Any]:
    """A random scene: ground, 3-8 objects, materials, textures, 1-3 lights, an HDRI world, a camera.

    Args:
        seed: the dataset seed.
        scene_index: which scene of the dataset.
        images: photos usable as image textures (see :func:`texture_images`).

    Returns:
        A JSON-ready description that ``_blender.build_scene`` builds.
    """
    rng = scene_rng(seed, 1, scene_index)
    count = int(rng.integers(3, 9))
    shapes = [SHAPES[int(i)] for i in rng.integers(len(SHAPES), size=count)]
    scales = [round(float(s), 4) for s in rng.uniform(0.6, 1.4, size=count)]
    positions = _place(rng, [0.75 * s for s in scales])
    textured_flags = [bool(t) for t in rng.uniform(size=count) < 0.4]
    ground_textured = bool(rng.uniform() < 0.8) or not any(textured_flags)

    objects: list[dict[str, Any]] = []
    for i, (shape, scale, (x, y)) in enumerate(zip(shapes, scales, positions, strict=True)):
        material = _material(rng, f"object{i}", textured=textured_flags[i], images=images)
        if rng.uniform() < 0.2:  # see-through: alpha blending or glass-like transmission
            if rng.uniform() < 0.5:
                material["alpha"] = round(float(rng.uniform(0.3, 0.75)), 4)
            else:
                material["transmission"] = 1.0
                material["roughness"] = round(float(rng.uniform(0.0, 0.2)), 4)
                material["metallic"] = 0.0
        objects.append(
            {
                "name": f"object{i}",
                "shape": shape,
                "location": [x, y, round(HALF_HEIGHT.get(shape, 0.5) * scale, 4)],
                "rotation_z": round(float(rng.uniform(0, 2 * math.pi)), 4),
                "scale": scale,
                "material": material,
            }
        )
    ground = _material(rng, "ground", textured=ground_textured, images=images)
    ground["metallic"] = 0.0
    if ground["texture"] is not None:
        ground["texture"]["mapping"]["scale"] = 4.0

    centre = [round(float(np.mean([o["location"][k] for o in objects])), 4) for k in (0, 1)] + [0.4]
    radius = max(
        math.hypot(o["location"][0] - centre[0], o["location"][1] - centre[1]) + 0.8 * o["scale"]
        for o in objects
    )

    lights = []
    light_count = int(rng.integers(1, 4))
    for i in range(light_count):
        kind = LIGHT_TYPES[int(rng.integers(len(LIGHT_TYPES)))]
        azimuth, elevation = rng.uniform(0, 2 * math.pi), rng.uniform(math.radians(25), math.radians(75))
        distance = float(rng.uniform(4.0, 7.0)) + radius
        location = [
            round(centre[0] + distance * math.cos(elevation) * math.cos(azimuth), 4),
            round(centre[1] + distance * math.cos(elevation) * math.sin(azimuth), 4),
            round(distance * math.sin(elevation), 4),
        ]
        energy = {"SUN": rng.uniform(1.0, 3.0), "POINT": rng.uniform(250, 900) * (distance / 6) ** 2}.get(
            kind, rng.uniform(350, 1100) * (distance / 6) ** 2
        )
        warmth = float(rng.uniform(-1, 1))
        colour = (
            [1.0, 1.0 - 0.12 * abs(warmth), 1.0 - 0.3 * warmth]
            if warmth > 0
            else [1.0 + 0.25 * warmth, 1.0 + 0.1 * warmth, 1.0]
        )
        size = {"SUN": math.radians(rng.uniform(1, 8)), "AREA": rng.uniform(0.5, 3.0)}.get(
            kind, rng.uniform(0.1, 1.0)
        )
        lights.append(
            {
                "name": f"light{i}",
                "type": kind,
                "location": location,
                "target": centre,
                "energy": round(float(energy) / math.sqrt(light_count), 3),  # several lights share the load
                "color": [round(c, 4) for c in colour],
                "size": round(float(size), 4),
                "spot_size": round(float(rng.uniform(math.radians(40), math.radians(80))), 4),
            }
        )

    lens = float(rng.uniform(35, 50))
    half_fov = math.atan(18.0 / lens)
    distance = 0.9 * (radius + 0.3) / math.tan(half_fov)
    azimuth, elevation = rng.uniform(0, 2 * math.pi), rng.uniform(math.radians(20), math.radians(45))
    camera = {
        "location": [
            round(centre[0] + distance * math.cos(elevation) * math.cos(azimuth), 4),
            round(centre[1] + distance * math.cos(elevation) * math.sin(azimuth), 4),
            round(centre[2] + distance * math.sin(elevation), 4),
        ],
        "target": centre,
        "lens": round(lens, 3),
    }
    world = {
        "hdri": HDRI_NAMES[int(rng.integers(len(HDRI_NAMES)))],
        "strength": round(float(rng.uniform(0.15, 0.7)), 4),
        "rotation": round(float(rng.uniform(0, 2 * math.pi)), 4),
    }
    return {
        "kind": "procedural",
        "seed": seed,
        "scene_index": scene_index,
        "ground": {"size": 40.0, "material": ground},
        "objects": objects,
        "lights": lights,
        "world": world,
        "camera": camera,
    }
