#!/usr/bin/env bash
# Renders for the realness classifier's synthetic sources (docs/models.md), each from its own seed so
# that no source shares scenes with another: 384x384, 32 samples, denoised and not. Resumable.
set -euo pipefail
cd "$(dirname "$0")/.."
SYNTHDIFF=${SYNTHDIFF:-.venv/bin/synthdiff}
OUT=${OUT:-data/realness-renders}
common=(--feature none --scenes 40 --variants 1 --size 384 --samples 32 --workers 2)
"$SYNTHDIFF" generate "${common[@]}" --seed 101 --out "$OUT/cycles-32spp-384px"
"$SYNTHDIFF" generate "${common[@]}" --seed 102 --no-denoise --out "$OUT/cycles-undenoised"
