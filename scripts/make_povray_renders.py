"""Render the POV-Ray example scenes: synthetic sources from a ray tracer other than Blender.

The realness classifier's weak spot was renders from other engines (docs/models.md). Debian's
``povray-examples`` ships about 400 scene files; this script renders them with ``povray`` (both
packages are installed by ``make povray-renders``) and splits them **by folder**, a rule fixed
before any of them was scored:

- ``OUT/synthetic/povray-examples``: scenes from every folder except the three below; a training
  source (and one fold of leave-one-source-out, where it stands for "an engine never seen").
- ``TEST_OUT/synthetic/povray-showcase``: scenes from ``advanced/``, ``interior/`` and ``camera/``
  (the demonstration scenes: media, glass, depth of field, fish-eye lenses); test only, never
  trained, tuned or chosen on.

The scenes rendered are those named in ``scripts/povray_scenes.txt`` (358 of 395): the ones that
rendered within 30 seconds on the first run, so the sources are the same files on every machine,
fast or busy (``--all-scenes`` tries every scene instead). Every scene renders at one size (default
384x288, anti-aliased), on one thread, within a time limit, in an order that takes one scene from
each folder in turn. Scenes that fail (animation-only, missing includes), run too long or render an
almost uniform picture (standard deviation of the grey values under 0.02: empty demonstration files)
are skipped and listed in ``OUT/povray-renders.json`` with the reason; with the scene list, the run
ends with an error if a listed scene was skipped. Resumable: images already written are kept. OUT
is not ``data/realness``, so the shipped recipe's sources stay as they were; to train with POV-Ray,
link the folder into ``data/realness/synthetic`` (docs/models.md).

    .venv/bin/python scripts/make_povray_renders.py \\
        [--out data/realness-povray] [--test-out data/realness-test]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

EXAMPLES = Path("/usr/share/doc/povray/examples")
INCLUDE = Path("/usr/share/povray-3.7/include")
TEST_FOLDERS = ("advanced", "interior", "camera")
MIN_GREY_STD = 0.02
SCENE_LIST = Path(__file__).with_name("povray_scenes.txt")


def _scenes() -> list[Path]:
    """All scene files, interleaved across folders so that a partial run is still varied."""
    if not EXAMPLES.is_dir():
        sys.exit(f"{EXAMPLES} is missing. Fix: apt-get install povray povray-examples")
    by_folder: dict[Path, list[Path]] = {}
    for scene in sorted(EXAMPLES.rglob("*.pov")):
        if not scene.name.startswith("__"):
            by_folder.setdefault(scene.parent, []).append(scene)
    columns = list(by_folder.values())
    return [c[i] for i in range(max(map(len, columns))) for c in columns if i < len(c)]


def _name(scene: Path) -> str:
    return "_".join(scene.relative_to(EXAMPLES).with_suffix("").parts)


def _render(scene: Path, target: Path, width: int, height: int, limit: float) -> str:
    """Render one scene to target (PNG); return "ok" or why it was skipped."""
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "out.png"
        command = [
            "povray", f"+I{scene}", f"+O{out}", f"+W{width}", f"+H{height}", "+A0.3", "+FN", "-D",
            "+WT1", "-GA", f"+L{scene.parent}", f"+L{INCLUDE}",
        ]  # fmt: skip
        try:
            # Scenes may write helper files next to the output: run inside the temporary folder.
            result = subprocess.run(command, cwd=work, capture_output=True, timeout=limit, check=False)
        except subprocess.TimeoutExpired:
            return f"over {limit:.0f} s"
        if result.returncode != 0 or not out.exists():
            return f"povray exit {result.returncode}"
        with Image.open(out) as image:
            rgb = image.convert("RGB")
        grey = np.asarray(rgb.convert("L"), dtype=np.float32) / 255.0
        if grey.std() < MIN_GREY_STD:
            return f"almost uniform (grey std {grey.std():.3f})"
        target.parent.mkdir(parents=True, exist_ok=True)
        rgb.save(target)
    return "ok"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("data/realness-povray"))
    parser.add_argument("--test-out", type=Path, default=Path("data/realness-test"))
    parser.add_argument("--size", default="384x288", help="WIDTHxHEIGHT")
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds per scene")
    parser.add_argument("--all-scenes", action="store_true", help=f"ignore {SCENE_LIST.name}")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    train_dir = args.out / "synthetic" / "povray-examples"
    test_dir = args.test_out / "synthetic" / "povray-showcase"
    log_path = args.out / "povray-renders.json"
    log = json.loads(log_path.read_text()) if log_path.exists() else {}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    scenes = _scenes()
    listed: set[str] | None = None
    if not args.all_scenes:
        lines = SCENE_LIST.read_text().splitlines()
        listed = {line.strip() for line in lines if line.strip() and not line.startswith("#")}
        scenes = [scene for scene in scenes if _name(scene) in listed]
    for i, scene in enumerate(scenes, 1):
        name = _name(scene)
        folder = scene.relative_to(EXAMPLES).parts[0]
        target = (test_dir if folder in TEST_FOLDERS else train_dir) / f"{name}.png"
        if target.exists() or name in log:
            continue
        start = time.perf_counter()
        status = _render(scene, target, width, height, args.time_limit)
        log[name] = {"status": status, "seconds": round(time.perf_counter() - start, 1)}
        print(f"[{i}/{len(scenes)}] {name}: {status}", flush=True)
        log_path.write_text(json.dumps(log, indent=1, sort_keys=True))
    rendered = {_name(scene) for scene in scenes if log.get(_name(scene), {}).get("status", "ok") == "ok"}
    print(f"{len(rendered)} of {len(scenes)} scenes rendered: {train_dir}, {test_dir}")
    if listed is not None and rendered != listed:
        missing = sorted(listed - rendered)
        sys.exit(
            f"Expected all {len(listed)} scenes of {SCENE_LIST.name}, but {len(missing)} did not render "
            f"(first: {', '.join(missing[:5])}; reasons in {log_path}). Fix: raise --time-limit, or "
            "delete their entries in the log and run again."
        )


if __name__ == "__main__":
    main()
