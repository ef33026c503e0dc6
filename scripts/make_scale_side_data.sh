#!/usr/bin/env bash
# Val pairs at 640x480 (4:3) from procedural scenes no choice has touched (seed 233): which side of a
# non-square pair to scale to the model's training size (docs/training-logs/scale-side/rule.md).
# 12 scenes x 2 variants per set, all val; samples as the training sets. About 30 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
SYNTHDIFF=${SYNTHDIFF:-.venv/bin/synthdiff}
OUT=${OUT:-data/scale-side}
common=(--scenes 12 --variants 2 --size 640x480 --seed 233 --workers 2 --split 0,1,0)
"$SYNTHDIFF" generate --feature illumination "${common[@]}" --samples 8 --out "$OUT/illumination"
"$SYNTHDIFF" generate --feature texture "${common[@]}" --samples 8 --out "$OUT/texture"
"$SYNTHDIFF" generate --feature transparency "${common[@]}" --samples 8 --out "$OUT/transparency"
"$SYNTHDIFF" generate --feature reflection "${common[@]}" --samples 16 --out "$OUT/reflection"
"$SYNTHDIFF" generate --feature none "${common[@]}" --samples 8 --out "$OUT/none"
