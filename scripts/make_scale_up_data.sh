#!/usr/bin/env bash
# Val pairs at 128x128 from procedural scenes no choice has touched (seed 239): whether the change
# detector should run pairs smaller than its training renders scaled up (docs/training-logs/scale-up/rule.md).
# 20 scenes x 2 variants per set, all val; samples as the training sets. SIZE=256 OUT=data/scale-up-256
# renders the same scenes at the training size, for context (decides nothing).
set -euo pipefail
cd "$(dirname "$0")/.."
SYNTHDIFF=${SYNTHDIFF:-.venv/bin/synthdiff}
OUT=${OUT:-data/scale-up}
SIZE=${SIZE:-128}
common=(--scenes 20 --variants 2 --size "$SIZE" --seed 239 --workers 2 --split 0,1,0)
"$SYNTHDIFF" generate --feature illumination "${common[@]}" --samples 8 --out "$OUT/illumination"
"$SYNTHDIFF" generate --feature texture "${common[@]}" --samples 8 --out "$OUT/texture"
"$SYNTHDIFF" generate --feature transparency "${common[@]}" --samples 8 --out "$OUT/transparency"
"$SYNTHDIFF" generate --feature reflection "${common[@]}" --samples 16 --out "$OUT/reflection"
"$SYNTHDIFF" generate --feature none "${common[@]}" --samples 8 --out "$OUT/none"
