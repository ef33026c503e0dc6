#!/usr/bin/env bash
# The smaller sets FresUNet stage 6b trains on (configs/change-fresunet-stage6b-v2-cpu.yaml): the first
# variants of scripts/make_training_data.sh's datasets (seed 0, the same 100 scenes and split), rendered
# with labels version 2 (docs/labels.md). Three variants a scene for the four single-feature sets, two
# for `none` and `all`: 1,600 pairs, about an hour on 2 cores. Resumable.
set -euo pipefail
cd "$(dirname "$0")/.."
SYNTHDIFF=${SYNTHDIFF:-.venv/bin/synthdiff}
OUT=${OUT:-data/change}
common=(--scenes 100 --size 256 --seed 0 --workers 2)
"$SYNTHDIFF" generate --feature texture      "${common[@]}" --variants 3 --samples 8  --out "$OUT/texture-v2"
"$SYNTHDIFF" generate --feature illumination "${common[@]}" --variants 3 --samples 8  --out "$OUT/illumination-v2"
"$SYNTHDIFF" generate --feature transparency "${common[@]}" --variants 3 --samples 8  --out "$OUT/transparency-v2"
"$SYNTHDIFF" generate --feature reflection   "${common[@]}" --variants 3 --samples 16 --out "$OUT/reflection-v2"
"$SYNTHDIFF" generate --feature none         "${common[@]}" --variants 2 --samples 8  --out "$OUT/none-v2"
"$SYNTHDIFF" generate --feature all          "${common[@]}" --variants 2 --samples 16 --out "$OUT/all-v2"
