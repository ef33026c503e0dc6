"""Options of ``synthdiff generate`` and their validation (no bpy needed)."""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthdiff.errors import InvalidArgumentError, SceneError

__all__ = ["FEATURES", "LABEL_FEATURES", "VIEW_TRANSFORMS", "GenerateOptions", "parse_size"]

#: What ``--feature`` can vary. ``mixed`` changes illumination and texture together, ``all`` the four
#: rendering features together, ``combined`` two or three of the four drawn anew for each pair; ``none``
#: renders the same scene again with another sampling seed. (New names go last: a feature's position
#: seeds its variations, so the datasets of the others stay the same.)
FEATURES = (
    "illumination", "reflection", "texture", "transparency", "mixed", "all", "objects", "none", "combined",
)  # fmt: skip

#: The features that get label maps (seg_ref, seg_test, change) in every pair.
LABEL_FEATURES = ("illumination", "reflection", "texture", "transparency", "objects")

#: Which label features each dataset feature changes (``combined``: may change; each pair records the
#: ones it changed).
CHANGED_LABELS: dict[str, tuple[str, ...]] = {
    "illumination": ("illumination",),
    "reflection": ("reflection",),
    "texture": ("texture",),
    "transparency": ("transparency",),
    "mixed": ("illumination", "texture"),
    "all": ("illumination", "reflection", "texture", "transparency"),
    "objects": ("objects",),
    "none": (),
    "combined": ("illumination", "reflection", "texture", "transparency"),
}

#: Blender view transforms ``--view-transform`` can apply (how the renderer maps light to display values),
#: and ``mixed``: one of the first three drawn for each reference scene.
VIEW_TRANSFORMS = ("AgX", "Standard", "Filmic", "Khronos PBR Neutral", "mixed")
#: What ``mixed`` draws from.
MIXED_VIEW_TRANSFORMS = ("AgX", "Standard", "Filmic")

#: How many of the four rendering features a ``combined`` pair changes: two or three.
COMBINED_SIZES = (2, 3)

MAX_SIZE = 4096


def parse_size(text: str | int) -> tuple[int, int]:
    """Parse ``256`` or ``320x240`` into (width, height).

    Raises:
        InvalidArgumentError: not a positive size up to 4096 pixels a side.
    """
    match = re.fullmatch(r"\s*(\d+)\s*(?:[xX]\s*(\d+))?\s*", str(text))
    if not match:
        raise InvalidArgumentError(f"Expected --size as N or WxH (for example 256 or 320x240), got {text!r}.")
    width = int(match.group(1))
    height = int(match.group(2)) if match.group(2) else width
    if not (8 <= width <= MAX_SIZE and 8 <= height <= MAX_SIZE):
        raise InvalidArgumentError(
            f"Expected --size between 8 and {MAX_SIZE} pixels a side, got {width}x{height}. "
            "Fix: pass for example --size 256."
        )
    return width, height


@dataclass(frozen=True)
class GenerateOptions:
    """Everything that decides what ``generate`` renders. Two runs with equal options are identical.

    Args:
        feature: one of :data:`FEATURES`.
        scenes: number of reference scenes.
        variants: test renders per reference scene (the original study used 19).
        width, height: render size in pixels.
        samples: Cycles samples per pixel.
        seed: base seed; scene ``i`` is the same scene for every feature with the same seed.
        scene_file: a user's .blend file to vary instead of procedural scenes.
        denoise: run OpenImageDenoise on the final image (labels come from the raw passes).
        split: fractions of scenes for train, val and test.
        save_scenes: also save each reference scene as a .blend file.
        view_transform: one of :data:`VIEW_TRANSFORMS`, or None for the default: AgX for procedural
            scenes (Blender's default), the file's own for ``scene_file``.
    """

    feature: str
    scenes: int = 10
    variants: int = 19
    width: int = 256
    height: int = 256
    samples: int = 8
    seed: int = 0
    scene_file: str | None = None
    denoise: bool = True
    split: tuple[float, float, float] = (0.8, 0.1, 0.1)
    save_scenes: bool = False
    view_transform: str | None = None

    def __post_init__(self) -> None:
        if self.feature not in FEATURES:
            raise InvalidArgumentError(
                f"Expected --feature to be one of {', '.join(FEATURES)}, got {self.feature!r}."
            )
        for name, value, upper in (
            ("scenes", self.scenes, 1_000_000),
            ("variants", self.variants, 10_000),
            ("samples", self.samples, 65_536),
        ):
            if not isinstance(value, int) or not 1 <= value <= upper:
                raise InvalidArgumentError(f"Expected --{name} between 1 and {upper}, got {value!r}.")
        parse_size(f"{self.width}x{self.height}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise InvalidArgumentError(f"Expected --seed to be a whole number >= 0, got {self.seed!r}.")
        if len(self.split) != 3 or any(f < 0 for f in self.split) or abs(sum(self.split) - 1.0) > 1e-6:
            raise InvalidArgumentError(
                "Expected --split as three fractions train,val,test, each 0 or more, summing to 1, "
                f"got {self.split!r}."
            )
        if self.view_transform is not None and self.view_transform not in VIEW_TRANSFORMS:
            raise InvalidArgumentError(
                f"Expected --view-transform to be one of {', '.join(VIEW_TRANSFORMS)}, got "
                f"{self.view_transform!r}."
            )
        if self.scene_file is not None:
            path = Path(self.scene_file)
            if not path.is_file():
                raise SceneError(f"Expected a Blender scene file, but {str(path)!r} does not exist.")
            with open(path, "rb") as handle:
                head = handle.read(12)
            # .blend files start with "BLENDER"; Blender 5 may zstd-compress them (magic 28 b5 2f fd).
            if not (head.startswith(b"BLENDER") or head.startswith(b"\x28\xb5\x2f\xfd")):
                raise SceneError(
                    f"Expected a .blend file saved by Blender, but {str(path)!r} is not one "
                    f"(it starts with {head[:8]!r})."
                )
            object.__setattr__(self, "scene_file", os.path.abspath(path))

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["split"] = list(self.split)
        if self.view_transform is None:
            del data["view_transform"]  # as before the option existed: those datasets resume unchanged
        return data
