"""The bundled exam scene (examples/exam.blend) rendered with the AgX and the Standard view transform, as it
is and with one change to its key light each (2.5 times the energy; a warmer colour; moved to the other
side), and what the shipped change detector marks on each pair (docs/models.md, "Renders mapped to display
another way"). The renders are made as the bundled examples were (Cycles, 64 samples, 320x240, no
denoising), in a child process (bpy).

    python scripts/change_view_transform_exam.py --model fresunet-wide \\
        --out docs/training-logs/view-transform/exam.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

EXAM = Path(__file__).resolve().parents[1] / "examples" / "exam.blend"
VIEWS = ("AgX", "Standard")
#: Each change of the key light: what is set on it.
CHANGES: dict[str, dict[str, Any]] = {
    "brighter key light (energy x 2.5)": {"energy_factor": 2.5},
    "warmer key light (1.0, 0.75, 0.55)": {"color": (1.0, 0.75, 0.55)},
    "key light moved to x -3": {"x": -3.0},
}


def _render(folder: str) -> None:
    """In the child: every view transform, the scene as it is (VIEW-none.png) and with each change."""
    import bpy

    for view in VIEWS:
        for index, change in enumerate([None, *CHANGES.values()]):
            bpy.ops.wm.open_mainfile(filepath=str(EXAM))
            scene = bpy.context.scene
            scene.render.engine = "CYCLES"
            scene.cycles.device = "CPU"
            scene.cycles.samples = 64
            scene.cycles.use_denoising = False
            scene.view_settings.view_transform = view
            scene.render.resolution_x, scene.render.resolution_y = 320, 240
            scene.render.resolution_percentage = 100
            key = bpy.data.objects["key"]
            if change is not None:
                key.data.energy *= change.get("energy_factor", 1.0)
                if "color" in change:
                    key.data.color = change["color"]
                if "x" in change:
                    key.location.x = change["x"]
            scene.render.filepath = str(Path(folder) / f"{view}-{'none' if change is None else index}.png")
            scene.render.image_settings.file_format = "PNG"
            bpy.ops.render.render(write_still=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="fresunet-wide")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--render", help=argparse.SUPPRESS)  # the child process that renders
    args = parser.parse_args()
    if args.render:
        _render(args.render)
        return
    from synthdiff.change import detect

    report: dict[str, Any] = {"model": args.model, "pairs": {}}
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            [sys.executable, __file__, "--render", folder, "--out", "-"], check=True, capture_output=True
        )
        for view in VIEWS:
            for index, change in enumerate(CHANGES, start=1):
                reference, test = Path(folder) / f"{view}-none.png", Path(folder) / f"{view}-{index}.png"
                found = detect(reference, test, args.model)
                marked = found.maps.changed_fractions()
                report["pairs"].setdefault(change, {})[view] = {
                    name: round(100 * value, 2) for name, value in marked.items()
                }
                print(view, change, report["pairs"][change][view], flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
