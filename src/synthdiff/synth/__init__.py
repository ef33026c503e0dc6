"""Labelled reference/test render pairs made with the real Blender (``synthdiff generate``).

Importing this package does not import Blender: bpy is loaded only inside the generator's worker
processes (module ``_blender``), so the rest of synthdiff works without it.
"""

from synthdiff.synth._generate import GenerateResult, check_blender, generate
from synthdiff.synth._labels import Passes, SceneState
from synthdiff.synth._options import FEATURES, LABEL_FEATURES, VIEW_TRANSFORMS, GenerateOptions, parse_size
from synthdiff.synth._scene import describe_scene, texture_images

__all__ = [
    "FEATURES",
    "LABEL_FEATURES",
    "VIEW_TRANSFORMS",
    "GenerateOptions",
    "GenerateResult",
    "Passes",
    "SceneState",
    "check_blender",
    "describe_scene",
    "generate",
    "parse_size",
    "texture_images",
]
