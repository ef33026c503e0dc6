"""The measurements behind gap's near-identical threshold (gap._gap.NEAR_IDENTICAL_RMS, docs/gap.md).

RMS difference, in 8-bit steps, between the 32x32 thumbnails gap keeps for each image: the larger of the
centre-square and the whole-frame thumbnails' differences, as gap compares them (each is printed too where it
tells something):
- each scikit-image photo against itself re-encoded as JPEG (quality 90, 75, 50, 30) and against a half-size
  JPEG 75 copy;
- every two distinct photos (the closest pairs are printed; scikit-image's chessboard_GRAY and chessboard_RGB
  are one picture in two files);
- the bundled example pairs (a reference render against a test render with one feature changed);
- four photos wider than high against themselves with the parts left and right of the centre square
  inverted, and against their centre square cropped (the centre thumbnails alike, the frames not);
- optionally, the pairs of an unchanged dataset made by ``synthdiff generate --feature none`` (re-renders of
  a scene with other noise), given with --unchanged.

    .venv/bin/python scripts/gap_near_identical_measure.py [--unchanged data/none]
"""

from __future__ import annotations

import argparse
import io
import itertools
from pathlib import Path

import numpy as np
from PIL import Image

from synthdiff.gap._records import THUMBNAIL, prepare_square, whole_frame
from synthdiff.io import load_image

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def thumbnail(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """gap's two thumbnails of an HxWx3 float32 sRGB image (centre square, whole frame), in [0, 1]."""
    return prepare_square(pixels, THUMBNAIL).numpy(), whole_frame(pixels, THUMBNAIL).numpy()


def of_pil(image: Image.Image) -> np.ndarray:
    return thumbnail(np.asarray(image.convert("RGB"), np.float32) / 255.0)


def rms_of(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(((a - b) ** 2).mean())) * 255.0


def rms(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> float:
    """gap's distance: the larger of the two thumbnails' RMS differences."""
    return max(rms_of(a[0], b[0]), rms_of(a[1], b[1]))


def jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return Image.open(buffer)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--unchanged", type=Path, help="A dataset from `synthdiff generate --feature none`.")
    args = parser.parse_args()
    import skimage.data

    folder = Path(skimage.data.__file__).parent
    thumbs: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    copies = []
    for path in sorted([*folder.glob("*.png"), *folder.glob("*.jpg")]):
        with Image.open(path) as opened:
            opened.load()
            image = opened.convert("RGB")
        if min(image.size) < 64:
            continue
        original = thumbs[path.name] = of_pil(image)
        half = image.resize((image.width // 2, image.height // 2), Image.Resampling.LANCZOS)
        values = [rms(original, of_pil(jpeg(image, q))) for q in (90, 75, 50, 30)]
        values.append(rms(original, of_pil(jpeg(half, 75))))
        copies += values
        print(
            f"{path.name:24s} JPEG 90/75/50/30 "
            + " ".join(f"{v:.2f}" for v in values[:4])
            + f"  half JPEG 75 {values[4]:.2f}"
        )
    print(f"copies: {min(copies):.2f} to {max(copies):.2f}")
    distances = sorted(
        (rms(thumbs[a], thumbs[b]), a, b) for a, b in itertools.combinations(sorted(thumbs), 2)
    )
    print("closest pairs of files:", ", ".join(f"{a} / {b} {d:.1f}" for d, a, b in distances[:4]))
    for name in ("chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png"):  # wider than high
        with Image.open(folder / name) as opened:
            pixels = np.asarray(opened.convert("RGB"), np.float32) / 255.0
        height, width = pixels.shape[:2]
        side = (width - height) // 2  # the columns left and right of the centre square
        edged = pixels.copy()
        edged[:, :side] = 1.0 - edged[:, :side]
        edged[:, -side:] = 1.0 - edged[:, -side:]
        cropped = pixels[:, side:-side]  # the centre square alone
        original, changed, crop = thumbnail(pixels), thumbnail(edged), thumbnail(cropped)
        print(
            f"{name:24s} outside the centre square inverted: centre {rms_of(original[0], changed[0]):.2f}, "
            f"frame {rms_of(original[1], changed[1]):.2f}; cropped to the centre square: centre "
            f"{rms_of(original[0], crop[0]):.2f}, frame {rms_of(original[1], crop[1]):.2f}"
        )
    for pair in sorted(p for p in EXAMPLES.iterdir() if (p / "reference.png").is_file()):
        reference, test = (load_image(pair / f"{role}.png").pixels for role in ("reference", "test"))
        print(f"example {pair.name}: {rms(thumbnail(reference), thumbnail(test)):.2f}")
    if args.unchanged is not None:
        from synthdiff.change import ChangePairs

        values = []
        for split in ("train", "val", "test"):
            for pair in ChangePairs([args.unchanged], split, ["texture"]).pairs:
                reference = load_image(pair.root / pair.record["reference"]).pixels
                test = load_image(pair.root / pair.record["test"]).pixels
                values.append(rms(thumbnail(reference), thumbnail(test)))
        print(f"unchanged re-renders ({len(values)} pairs): {min(values):.2f} to {max(values):.2f}")


if __name__ == "__main__":
    main()
