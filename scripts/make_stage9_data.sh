#!/usr/bin/env bash
# The stage 9 sets (configs/change-fresunet-stage9-cpu.yaml): 80 more training scenes, distinct from the
# 80 training scenes of seed 0 that every shipped model was trained on. Seed 19 (seeds 0, 1, 7, 11, 13
# and 17 are taken by the training, hand-made-scene, none-seed7 and fresh decision sets), every scene in
# the train split, 2 variants a scene: 160 pairs per set, 960 in all (about 40 minutes on 2 cores).
# Same sizes and samples as scripts/make_stage6b_data.sh (labels version 2). Resumable.
set -euo pipefail
cd "$(dirname "$0")/.."
SYNTHDIFF=${SYNTHDIFF:-.venv/bin/synthdiff}
OUT=${OUT:-data/change}
common=(--scenes 80 --size 256 --seed 19 --workers 2 --split 1,0,0 --variants 2)
"$SYNTHDIFF" generate --feature texture      "${common[@]}" --samples 8  --out "$OUT/scenes19-texture"
"$SYNTHDIFF" generate --feature illumination "${common[@]}" --samples 8  --out "$OUT/scenes19-illumination"
"$SYNTHDIFF" generate --feature transparency "${common[@]}" --samples 8  --out "$OUT/scenes19-transparency"
"$SYNTHDIFF" generate --feature reflection   "${common[@]}" --samples 16 --out "$OUT/scenes19-reflection-v2"
"$SYNTHDIFF" generate --feature none         "${common[@]}" --samples 8  --out "$OUT/scenes19-none"
"$SYNTHDIFF" generate --feature all          "${common[@]}" --samples 16 --out "$OUT/scenes19-all-v2"
