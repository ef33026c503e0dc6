"""One reference scene and its variants, rendered in a worker process (imports bpy through _blender)."""

from __future__ import annotations

import ctypes
import json
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from synthdiff import __version__
from synthdiff.errors import SceneError
from synthdiff.synth import _labels as labels
from synthdiff.synth._options import (
    CHANGED_LABELS,
    FEATURES,
    LABEL_FEATURES,
    MIXED_VIEW_TRANSFORMS,
    GenerateOptions,
)
from synthdiff.synth._scene import describe_scene, scene_rng

__all__ = ["LABELS_VERSION", "SceneTask", "run_scene", "worker_entry"]

#: Bumped whenever a label definition in _labels changes; recorded in every manifest line.
LABELS_VERSION = "2"  # 2: reflection changes also where all of a changed surface's light changed
MAX_ATTEMPTS = 4
# A thing counts as visible in the reference when it covers at least this fraction of the pixels.
VISIBLE_FRACTION = 0.002


@dataclass(frozen=True)
class SceneTask:
    """What a worker renders: one reference scene and the listed variants of it."""

    out: str
    options: dict[str, Any]
    scene_index: int
    split: str
    variants: tuple[int, ...]
    threads: int
    images: tuple[str, ...]


def scene_id(index: int) -> str:
    return f"s{index:05d}"


def pair_id(scene_index: int, variant: int) -> str:
    return f"{scene_id(scene_index)}_v{variant:03d}"


def _save_mask(mask: np.ndarray, path: Path) -> None:
    temporary = path.with_name(path.stem + ".partial.png")
    Image.fromarray(mask.astype(np.uint8) * 255).save(temporary, optimize=True)
    os.replace(temporary, path)


def _write_json(data: Any, path: Path) -> None:
    temporary = path.with_name(path.name + ".partial")
    temporary.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(temporary, path)


def _segmentations(passes: labels.Passes, state: labels.SceneState) -> dict[str, np.ndarray]:
    return {
        "illumination": labels.seg_illumination(passes),
        "reflection": labels.seg_reflection(passes),
        "texture": labels.seg_texture(passes, state),
        "transparency": labels.seg_transparency(passes, state),
        "objects": labels.seg_objects(passes, state),
    }


def _changes_for(
    names: tuple[str, ...],
    reference: labels.Passes,
    test: labels.Passes,
    changed_materials: dict[str, set[int]],
    changed_objects: dict[int, str],
) -> dict[str, np.ndarray]:
    empty = np.zeros(reference.shape, dtype=bool)
    change = {name: empty for name in LABEL_FEATURES}
    for name in names:
        if name == "illumination":
            change[name] = labels.change_illumination(reference, test)
        elif name == "reflection":
            change[name] = labels.change_reflection(reference, test, changed_materials["reflection"])
        elif name == "texture":
            change[name] = labels.change_texture(reference, test, changed_materials["texture"])
        elif name == "transparency":
            change[name] = labels.change_transparency(reference, test, changed_materials["transparency"])
        else:
            change[name] = labels.change_objects(reference, test, changed_objects)
    return change


def _changed_labels(feature: str, changes: list[Any]) -> tuple[str, ...]:
    """The label features a pair changed: the dataset's own, or for ``combined`` those its changes touched."""
    if feature != "combined":
        return CHANGED_LABELS[feature]
    touched = {change.feature for change in changes}
    return tuple(name for name in CHANGED_LABELS[feature] if name in touched)


def _counts(index_pass: np.ndarray, minimum: int) -> dict[int, int]:
    counts = np.bincount(np.clip(np.rint(index_pass).astype(np.int64), 0, None).ravel())
    return {int(i): int(c) for i, c in enumerate(counts) if i > 0 and c >= minimum}


def run_scene(task: SceneTask, emit: Callable[[dict[str, Any]], None]) -> None:
    """Render the task's reference scene and pending variants, writing images and labels.

    Calls ``emit`` with the manifest record of each finished pair (its files are complete by then).
    """
    from synthdiff.synth import _blender as blender

    options = GenerateOptions(**{**task.options, "split": tuple(task.options["split"])})
    out = Path(task.out)
    sid = scene_id(task.scene_index)
    scene_dir = out / "scenes" / sid
    scene_dir.mkdir(parents=True, exist_ok=True)
    work_dir = out / ".work"
    work_dir.mkdir(exist_ok=True)
    feature_code = FEATURES.index(options.feature)

    if options.scene_file is None:
        description: dict[str, Any] = describe_scene(options.seed, task.scene_index, list(task.images))
        blender.build_scene(description)
        handle = blender.SceneHandle.discover(procedural=True)
    else:
        blender.open_scene(options.scene_file)
        handle = blender.SceneHandle.discover(procedural=False)
        description = {"kind": "file", "path": options.scene_file, "scene_index": task.scene_index}
        if task.scene_index > 0:
            # Other references from the same file: its settings perturbed once, then kept.
            rng = scene_rng(options.seed, 6, task.scene_index)
            everything = {i: 1 for i in range(1, 1 + max([*handle.materials, *handle.objects], default=0))}
            base: list[dict[str, Any]] = []
            for name in ("illumination", "reflection", "texture", "transparency"):
                try:
                    made, _ = blender.apply_variation(name, handle, rng, everything, everything)
                except SceneError:
                    continue
                base += [c.to_dict() for c in made]
            description["base_changes"] = base
    if options.view_transform is not None:
        chosen = options.view_transform
        if chosen == "mixed":
            draw = scene_rng(options.seed, 7, task.scene_index)
            chosen = MIXED_VIEW_TRANSFORMS[int(draw.integers(len(MIXED_VIEW_TRANSFORMS)))]
        blender.set_view_transform(chosen)
    description["view_transform"] = blender.view_transform()
    blender.configure(options.width, options.height, options.samples, options.denoise, task.threads)
    if options.save_scenes:
        blender.save_blend(scene_dir / "scene.blend")
    description["renderer"] = f"Blender {blender.blender_version()} Cycles"
    _write_json(description, scene_dir / "scene.json")

    reference_seed = int(scene_rng(options.seed, 2, task.scene_index).integers(2**31 - 1))
    reference = blender.render(reference_seed, scene_dir / "reference.png", work_dir)
    reference_state = handle.state()
    reference_coverage = {}
    for name, mask in _segmentations(reference, reference_state).items():
        _save_mask(mask, scene_dir / f"seg_{name}.png")
        reference_coverage[name] = round(float(mask.mean()), 6)
    minimum = max(4, int(VISIBLE_FRACTION * options.width * options.height))
    material_counts = _counts(reference.material_index, minimum)
    object_counts = _counts(reference.object_index, minimum)
    index_of_material = {m.name: i for i, m in handle.materials.items()}

    for variant in task.variants:
        pid = pair_id(task.scene_index, variant)
        pair_dir = out / "pairs" / pid
        pair_dir.mkdir(parents=True, exist_ok=True)
        test_seed = int(scene_rng(options.seed, 3, task.scene_index, variant).integers(2**31 - 1))
        for attempt in range(MAX_ATTEMPTS):
            rng = scene_rng(options.seed, 4, feature_code, task.scene_index, variant, attempt)
            changes, object_kinds = blender.apply_variation(
                options.feature, handle, rng, material_counts, object_counts
            )
            test_state = handle.state()
            test = blender.render(test_seed, pair_dir / "test.png", work_dir)
            blender.undo(changes)
            changed_materials: dict[str, set[int]] = {
                "reflection": set(),
                "texture": set(),
                "transparency": set(),
            }
            for change in changes:
                kind, _, name = change.target.partition(":")
                if kind == "material" and change.feature in changed_materials:
                    changed_materials[change.feature].add(index_of_material[name])
            changed_labels = _changed_labels(options.feature, changes)
            change_maps = _changes_for(changed_labels, reference, test, changed_materials, object_kinds)
            visible = all(change_maps[name].any() for name in changed_labels)
            if visible:
                break

        test_coverage = {}
        for name, mask in _segmentations(test, test_state).items():
            _save_mask(mask, pair_dir / f"seg_{name}.png")
            test_coverage[name] = round(float(mask.mean()), 6)
        for name, mask in change_maps.items():
            _save_mask(mask, pair_dir / f"change_{name}.png")
        record: dict[str, Any] = {
            "pair_id": pid,
            "scene_id": sid,
            "variant": variant,
            "feature": options.feature,
            "split": task.split,
            "reference": f"scenes/{sid}/reference.png",
            "test": f"pairs/{pid}/test.png",
            "labels": {
                "seg_ref": {n: f"scenes/{sid}/seg_{n}.png" for n in LABEL_FEATURES},
                "seg_test": {n: f"pairs/{pid}/seg_{n}.png" for n in LABEL_FEATURES},
                "change": {n: f"pairs/{pid}/change_{n}.png" for n in LABEL_FEATURES},
            },
            "changed_labels": list(changed_labels),
            "changes": [c.to_dict() for c in changes],
            "change_fraction": {n: round(float(change_maps[n].mean()), 6) for n in LABEL_FEATURES},
            "seg_fraction": {"reference": reference_coverage, "test": test_coverage},
            "visible_change": bool(visible) if options.feature != "none" else False,
            "attempts": attempt + 1,
            "seeds": {
                "dataset": options.seed,
                "render_reference": reference_seed,
                "render_test": test_seed,
                "variation": [options.seed, 4, feature_code, task.scene_index, variant, attempt],
            },
            "render": {
                "engine": description["renderer"],
                "width": options.width,
                "height": options.height,
                "samples": options.samples,
                "denoise": options.denoise,
            },
            "labels_version": LABELS_VERSION,
            "generator": f"synthdiff {__version__}",
        }
        if options.feature == "objects":
            boxes = labels.object_boxes(reference, test, object_kinds, handle.names)
            _write_json(boxes, pair_dir / "boxes.json")
            record["boxes"] = f"pairs/{pid}/boxes.json"
        if options.feature == "none":
            # How much the illumination rule would mark on a pair where nothing changed: label noise.
            record["label_noise"] = {
                "illumination": round(float(labels.change_illumination(reference, test).mean()), 6)
            }
        emit(record)


_queue: Any = None


def _die_with_parent() -> None:
    """Ask Linux to kill this worker when the generate process dies (killed, not just Ctrl-C), so no
    orphaned Blender keeps rendering. Elsewhere a no-op."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


def _initialise(queue: Any, log_dir: str) -> None:
    """Worker start-up: keep the queue, and send Blender's console output to a log file."""
    global _queue
    _queue = queue
    _die_with_parent()
    # A parent that imported bpy hands its sys.path to spawned children, with bpy's own script
    # folders in it; there "import bpy" would find bpy's inner scripts package instead of the module.
    inner = f"{os.sep}bpy{os.sep}"
    sys.path[:] = [p for p in sys.path if not (inner in p and f"{os.sep}scripts" in p)]
    # Blender prints render progress on the C-level stdout/stderr; keep it out of the user's terminal.
    log = os.open(
        os.path.join(log_dir, f"worker-{os.getpid()}.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644
    )
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)


def worker_entry(task: SceneTask) -> int:
    """Entry point in a worker process: run one scene, sending each record through the queue."""
    run_scene(task, _queue.put)
    return len(task.variants)


def worker_pool_context() -> Any:
    # "spawn": Blender must start in a clean process, never a fork of one that already imported it.
    return multiprocessing.get_context("spawn")
