#!/usr/bin/env bash
# The stage 8 sets (configs/change-fresunet-stage8-cpu.yaml): stage 6b's illumination, reflection and
# texture sets (scripts/make_stage6b_data.sh: seed 0, 100 scenes, labels version 2) grown from 3 to 6
# variants a scene, in copies, so the 3-variant folders stay as the earlier rounds used them. The
# first 3 variants of each copy are the same pairs (same seed and options); only variants 4-6 are
# rendered: 900 pairs. Resumable.
set -euo pipefail
cd "$(dirname "$0")/.."
SYNTHDIFF=${SYNTHDIFF:-.venv/bin/synthdiff}
OUT=${OUT:-data/change}
common=(--scenes 100 --size 256 --seed 0 --workers 2 --variants 6)
for feature in illumination reflection texture; do
    if [ ! -d "$OUT/$feature-v2x6" ]; then
        if [ -d "$OUT/$feature-v2" ]; then
            cp -a "$OUT/$feature-v2" "$OUT/$feature-v2x6.part" && mv "$OUT/$feature-v2x6.part" "$OUT/$feature-v2x6"
        fi
    fi
done
"$SYNTHDIFF" generate --feature reflection   "${common[@]}" --samples 16 --out "$OUT/reflection-v2x6"
"$SYNTHDIFF" generate --feature illumination "${common[@]}" --samples 8  --out "$OUT/illumination-v2x6"
"$SYNTHDIFF" generate --feature texture      "${common[@]}" --samples 8  --out "$OUT/texture-v2x6"
