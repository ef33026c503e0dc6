#!/usr/bin/env bash
# Test-only datasets from a scene the change detectors never saw in training: examples/exam.blend, a
# hand-made scene (not made by the generator), varied by `generate --scene` (docs/models.md).
# 6 scenes (the file and 5 perturbed copies) x 4 variants per feature, all in the test split; 256x256
# unless SIZE says otherwise (SIZE=640x480 OUT=data/unseen-640x480: docs/training-logs/scale-handmade).
set -euo pipefail
cd "$(dirname "$0")/.."
SYNTHDIFF=${SYNTHDIFF:-.venv/bin/synthdiff}
OUT=${OUT:-data/unseen}
SIZE=${SIZE:-256}
common=(--scene examples/exam.blend --scenes 6 --size "$SIZE" --seed 1 --workers 2 --split 0,0,1)
for feature in texture illumination transparency; do
    "$SYNTHDIFF" generate --feature "$feature" "${common[@]}" --variants 4 --samples 8 --out "$OUT/$feature"
done
"$SYNTHDIFF" generate --feature reflection "${common[@]}" --variants 4 --samples 16 --out "$OUT/reflection"
"$SYNTHDIFF" generate --feature none "${common[@]}" --variants 2 --samples 8 --out "$OUT/none"
"$SYNTHDIFF" generate --feature all "${common[@]}" --variants 4 --samples 16 --out "$OUT/all"
