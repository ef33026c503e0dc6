"""Make a synthetic source for the realness classifier that no 3D renderer made: flat 2-D graphics.

Every synthetic training source so far is a shaded 3D scene from a renderer (Cycles, EEVEE, Mitsuba, VTK,
POV-Ray). Held out, POV-Ray's example scenes that the default still calls photographs are mostly images
no camera takes: diagrams, text, plotted functions, texture swatches, fractals, starfields
(docs/models.md, "What the remaining POV-Ray misses are"). This source holds such images, drawn with
numpy, Pillow and matplotlib, so that a round can test whether a classifier that has seen them stops
treating "unlike every render I know" as "photograph". Kinds, one per image, in turn:

- ``text``: words in several fonts, sizes and colours on a plain, gradient or checkered background;
- ``plot``: a matplotlib line, scatter, bar or filled plot of random data, with axes and labels;
- ``gradient``: linear or radial colour ramps, some quantised into bands;
- ``pattern``: checkerboards, stripes and grids, some warped by a perspective transform;
- ``fractal``: a Mandelbrot or Julia set at a random view, coloured by a colormap;
- ``noise``: procedural texture (fractal value noise turned into marble, wood rings, clouds or cells);
- ``shapes``: flat or outlined polygons, ellipses and lines (drawn at twice the size, then halved);
- ``spheres``: a few spheres shaded by a few lines of numpy (Lambert and Phong, no noise) on a plain
  or checkered backdrop, the simplest ray-traced picture.

Sizes 256 to 640 pixels on a side (not always square). The same ``--seed`` gives the same images.

    .venv/bin/python scripts/make_graphics_images.py --out data/realness-graphics/synthetic/graphics \\
        --count 120 --seed 131

Resumable: images already written are skipped; each is written to ``.partial`` and then renamed.
"""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

KINDS = ("text", "plot", "gradient", "pattern", "fractal", "noise", "shapes", "spheres")
SIZES = ((256, 256), (320, 240), (384, 288), (480, 360), (512, 384), (640, 480), (360, 480), (512, 512))
WORDS = (
    "Hello", "RENDER", "x = 3.14", "Centered text", "ABC", "2026", "demo", "f(t) = sin t", "Quality",
    "left aligned", "Chapter 4", "ERROR", "scene", "#declare V=5;", "vector", "Layer 2",
)  # fmt: skip


def _colour(rng: np.random.Generator) -> tuple[int, int, int]:
    return (int(rng.integers(0, 256)), int(rng.integers(0, 256)), int(rng.integers(0, 256)))


def _background(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    """Plain, a two-colour ramp, or a checkerboard (as image editors show transparency)."""
    kind = rng.choice(["plain", "ramp", "checker"])
    if kind == "plain":
        return Image.new("RGB", (width, height), _colour(rng))
    if kind == "ramp":
        return Image.fromarray(_ramp(rng, width, height))
    return Image.fromarray(_checker(width, height, int(rng.integers(8, 33)), _colour(rng), _colour(rng)))


def _ramp(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    angle = rng.uniform(0, 2 * np.pi)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    t = x * np.cos(angle) + y * np.sin(angle)
    t = (t - t.min()) / max(float(np.ptp(t)), 1e-6)
    a, b = np.array(_colour(rng), np.float32), np.array(_colour(rng), np.float32)
    return (a + (b - a) * t[..., None]).round().astype(np.uint8)


def _checker(
    width: int, height: int, cell: int, first: tuple[int, int, int], second: tuple[int, int, int]
) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    odd = ((x // cell + y // cell) % 2).astype(bool)
    return np.where(odd[..., None], np.array(second, np.uint8), np.array(first, np.uint8))


def _font(rng: np.random.Generator, size: int) -> ImageFont.FreeTypeFont:
    import matplotlib

    fonts = sorted((Path(matplotlib.get_data_path()) / "fonts" / "ttf").glob("DejaVu*.ttf"))
    return ImageFont.truetype(str(fonts[int(rng.integers(0, len(fonts)))]), size)


def text(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    image = _background(rng, width, height)
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(1, 7))):
        font = _font(rng, int(rng.integers(12, max(13, height // 5))))
        position = (int(rng.integers(0, width * 3 // 4)), int(rng.integers(0, height * 7 // 8)))
        draw.text(position, str(rng.choice(WORDS)), fill=_colour(rng), font=font)
    return image


def plot(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=(width / 100, height / 100), dpi=100)
    axes = figure.add_subplot()
    x = np.linspace(0, rng.uniform(2, 20), 200)
    kind = rng.choice(["line", "scatter", "bar", "fill"])
    for _ in range(int(rng.integers(1, 4))):
        y = rng.uniform(0.5, 3) * np.sin(x * rng.uniform(0.3, 3) + rng.uniform(0, 6)) + rng.normal(
            0, 0.2, x.size
        )
        if kind == "line":
            axes.plot(x, y, linewidth=rng.uniform(0.8, 3))
        elif kind == "scatter":
            axes.scatter(x[::4], y[::4], s=rng.uniform(4, 30))
        elif kind == "bar":
            axes.bar(np.arange(12), rng.uniform(0, 10, 12), alpha=0.7)
        else:
            axes.fill_between(x, y, alpha=0.4)
    axes.set_title(str(rng.choice(WORDS)))
    axes.grid(bool(rng.integers(0, 2)))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB").resize((width, height))


def gradient(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    if rng.random() < 0.5:
        pixels = _ramp(rng, width, height).astype(np.float32)
    else:
        y, x = np.mgrid[0:height, 0:width].astype(np.float32)
        centre = rng.uniform(0, 1, 2) * (width, height)
        t = np.hypot(x - centre[0], y - centre[1])
        t = (t / max(float(t.max()), 1e-6))[..., None]
        a, b = np.array(_colour(rng), np.float32), np.array(_colour(rng), np.float32)
        pixels = a + (b - a) * t
    if rng.random() < 0.4:  # bands, as a low bit depth gives
        step = float(rng.integers(8, 48))
        pixels = np.floor(pixels / step) * step
    return Image.fromarray(pixels.clip(0, 255).round().astype(np.uint8))


def pattern(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    first, second = _colour(rng), _colour(rng)
    kind = rng.choice(["checker", "stripes", "grid"])
    cell = int(rng.integers(8, 64))
    if kind == "checker":
        pixels = _checker(width, height, cell, first, second)
    else:
        y, x = np.mgrid[0:height, 0:width]
        line = (x % cell < max(1, cell // (2 if kind == "stripes" else 8))) | (
            (y % cell < max(1, cell // 8)) if kind == "grid" else False
        )
        pixels = np.where(line[..., None], np.array(second, np.uint8), np.array(first, np.uint8))
    image = Image.fromarray(pixels)
    if rng.random() < 0.5:  # seen in perspective, as a plane going off to the horizon
        squeeze = rng.uniform(0.1, 0.4) * width
        quad = (squeeze, 0, width - squeeze, 0, width, height, 0, height)
        image = image.transform((width, height), Image.Transform.QUAD, quad, Image.Resampling.BILINEAR)
    return image


def _escape_counts(
    centre: complex, scale: float, julia: complex | None, width: int, height: int
) -> np.ndarray:
    """Iterations before escape of z -> z^2 + c over the view (c = z for the Mandelbrot set)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    z = centre + ((x - width / 2) + 1j * (y - height / 2)) * scale / width
    c = z.copy() if julia is None else np.full_like(z, julia)
    count = np.zeros(z.shape, np.float32)
    for _ in range(80):
        inside = np.abs(z) <= 4
        z[inside] = z[inside] ** 2 + c[inside]
        count += inside
    return count


def fractal(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    import matplotlib

    julia = None if rng.random() < 0.6 else complex(rng.uniform(-0.8, 0.4), rng.uniform(-0.8, 0.8))
    # A random view often falls wholly inside or outside the set (one flat colour): look again, at a
    # small size first, until the counts vary.
    for _ in range(20):
        scale = 3.0 / 2 ** rng.uniform(0, 6)
        centre = complex(rng.uniform(-1.5, 0.4), rng.uniform(-0.8, 0.8))
        if float(np.std(_escape_counts(centre, scale, julia, 48, 36))) > 4:
            break
    count = _escape_counts(centre, scale, julia, width, height)
    colormap = matplotlib.colormaps[str(rng.choice(["magma", "viridis", "twilight", "hsv", "ocean"]))]
    return Image.fromarray(
        (colormap(count / max(float(count.max()), 1.0))[..., :3] * 255).round().astype(np.uint8)
    )


def _value_noise(rng: np.random.Generator, width: int, height: int, octaves: int) -> np.ndarray:
    total = np.zeros((height, width), np.float32)
    for octave in range(octaves):
        cells = 2 ** (octave + 2)
        grid = rng.random((cells + 1, cells + 1)).astype(np.float32)
        layer = np.asarray(Image.fromarray(grid).resize((width, height), Image.Resampling.BICUBIC))
        total += layer / 2**octave
    return (total - total.min()) / max(float(np.ptp(total)), 1e-6)


def noise(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    import matplotlib

    turbulence = _value_noise(rng, width, height, int(rng.integers(3, 7)))
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    kind = rng.choice(["marble", "wood", "clouds", "cells"])
    if kind == "marble":
        t = 0.5 + 0.5 * np.sin(x / width * rng.uniform(4, 16) + turbulence * rng.uniform(4, 12))
    elif kind == "wood":
        r = np.hypot(x - rng.uniform(-1, 2) * width, y - rng.uniform(-1, 2) * height) / width
        t = (r * rng.uniform(8, 30) + turbulence * 2) % 1.0
    elif kind == "clouds":
        t = turbulence
    else:
        points = rng.uniform(0, 1, (int(rng.integers(8, 40)), 2)) * (width, height)
        distance = np.min([np.hypot(x - px, y - py) for px, py in points], axis=0)
        t = distance / max(float(distance.max()), 1e-6)
    colormap = matplotlib.colormaps[
        str(rng.choice(["copper", "bone", "pink", "YlOrBr", "BuPu", "gist_earth"]))
    ]
    return Image.fromarray((colormap(t)[..., :3] * 255).round().astype(np.uint8))


def shapes(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    big = _background(rng, 2 * width, 2 * height)
    draw = ImageDraw.Draw(big)
    for _ in range(int(rng.integers(3, 15))):
        box = sorted(rng.uniform(0, 2 * width, 2)), sorted(rng.uniform(0, 2 * height, 2))
        corners = [box[0][0], box[1][0], box[0][1], box[1][1]]
        fill, outline = (_colour(rng), None) if rng.random() < 0.7 else (None, _colour(rng))
        kind = rng.choice(["ellipse", "rectangle", "polygon", "line"])
        if kind == "ellipse":
            draw.ellipse(corners, fill=fill, outline=outline, width=4)
        elif kind == "rectangle":
            draw.rectangle(corners, fill=fill, outline=outline, width=4)
        elif kind == "polygon":
            points = [
                tuple(p) for p in rng.uniform(0, 1, (int(rng.integers(3, 7)), 2)) * (2 * width, 2 * height)
            ]
            draw.polygon(points, fill=fill, outline=outline)
        else:
            draw.line(corners, fill=_colour(rng), width=int(rng.integers(2, 12)))
    return big.resize((width, height), Image.Resampling.LANCZOS)


def spheres(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    if rng.random() < 0.5:
        backdrop = np.zeros((height, width, 3), np.float32) + np.array(
            _colour(rng), np.float32
        ) * rng.uniform(0, 0.5)
    else:
        backdrop = _checker(width, height, int(rng.integers(16, 64)), _colour(rng), _colour(rng)).astype(
            np.float32
        )
    pixels = backdrop
    light = rng.normal(size=3)
    light[2] = abs(light[2]) + 0.5
    light /= np.linalg.norm(light)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    for _ in range(int(rng.integers(1, 5))):
        cx, cy = rng.uniform(0.15, 0.85) * width, rng.uniform(0.15, 0.85) * height
        radius = rng.uniform(0.08, 0.3) * min(width, height)
        dx, dy = (x - cx) / radius, (y - cy) / radius
        inside = dx**2 + dy**2 <= 1
        dz = np.sqrt(np.clip(1 - dx**2 - dy**2, 0, None))
        lambert = np.clip(dx * light[0] + dy * light[1] + dz * light[2], 0, None)
        reflected = 2 * lambert * dz - light[2]  # the view is along z
        specular = np.clip(reflected, 0, None) ** rng.uniform(10, 80)
        colour = np.array(_colour(rng), np.float32)
        shaded = (
            colour * (0.15 + 0.85 * lambert[..., None]) + 255 * rng.uniform(0.2, 0.8) * specular[..., None]
        )
        pixels = np.where(inside[..., None], shaded, pixels)
    return Image.fromarray(pixels.clip(0, 255).round().astype(np.uint8))


DRAW: dict[str, Callable[[np.random.Generator, int, int], Image.Image]] = {
    "text": text,
    "plot": plot,
    "gradient": gradient,
    "pattern": pattern,
    "fractal": fractal,
    "noise": noise,
    "shapes": shapes,
    "spheres": spheres,
}


def make_image(index: int, seed: int) -> tuple[str, Image.Image]:
    """Image ``index`` of the source made with ``seed``: its kind and the RGB image (made from its own
    generator, so any range of indices gives the same images as the whole run)."""
    rng = np.random.default_rng([seed, index])
    kind = KINDS[index % len(KINDS)]
    width, height = SIZES[int(rng.integers(0, len(SIZES)))]
    image = DRAW[kind](rng, width, height).convert("RGB")
    if image.size != (width, height):
        raise AssertionError(f"{kind} drew {image.size}, expected {(width, height)}")
    return kind, image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="the source folder (.../synthetic/NAME)")
    parser.add_argument("--count", type=int, default=120)
    parser.add_argument("--first", type=int, default=0, help="index of the first image")
    parser.add_argument("--seed", type=int, default=131)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    written = 0
    manifest = []
    for index in range(args.first, args.first + args.count):
        rng_kind = KINDS[index % len(KINDS)]
        path = args.out / f"{index:04d}-{rng_kind}.png"
        manifest.append({"index": index, "kind": rng_kind, "file": path.name})
        if path.is_file():
            continue
        _, image = make_image(index, args.seed)
        partial = path.with_suffix(".partial")
        image.save(partial, format="PNG")
        partial.rename(path)
        written += 1
    # Beside the folder, not in it: a source folder holds only its images.
    (args.out.parent / f"{args.out.name}-images.json").write_text(
        json.dumps({"seed": args.seed, "images": manifest}, indent=1) + "\n"
    )
    print(f"{args.out}: {args.count} images ({written} written now)")


if __name__ == "__main__":
    main()
