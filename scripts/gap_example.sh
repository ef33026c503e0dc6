#!/usr/bin/env bash
# `synthdiff gap` on renders made by the generator against the real photos that ship in installed
# packages (scikit-image's photographs and matplotlib's sample photo). Needs the `blender` extra
# (make setup-dev). About 3 minutes on 2 cores. Report: gap-example/index.html.
set -euo pipefail
cd "$(dirname "$0")/.."
SYNTHDIFF=${SYNTHDIFF:-.venv/bin/synthdiff}
PYTHON=${PYTHON:-.venv/bin/python}
OUT=${OUT:-data/gap-example}
"$SYNTHDIFF" generate --feature none --scenes 30 --variants 1 --size 256 --samples 16 --seed 7 \
    --workers 2 --out "$OUT/generated"
"$PYTHON" - "$OUT" <<'PY'
import shutil, sys
from pathlib import Path

import matplotlib
import skimage.data

sys.path.insert(0, "scripts")
from make_realness_data import SKIMAGE_PHOTOS  # the photographs among scikit-image's images

out = Path(sys.argv[1])
photos, renders = out / "photos", out / "renders"
photos.mkdir(parents=True, exist_ok=True)
renders.mkdir(parents=True, exist_ok=True)
for name in SKIMAGE_PHOTOS:
    shutil.copyfile(Path(skimage.data.__file__).parent / name, photos / name)
shutil.copyfile(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg", photos / "grace_hopper.jpg")
for reference in sorted((out / "generated" / "scenes").glob("*/reference.png")):
    shutil.copyfile(reference, renders / f"{reference.parent.name}.png")
print(f"{len(list(photos.iterdir()))} photos, {len(list(renders.iterdir()))} renders")
PY
"$SYNTHDIFF" gap "$OUT/photos" "$OUT/renders" --names photos,renders -o gap-example
