#!/usr/bin/env bash
# Val pairs at 256x256 from procedural scenes no choice has touched (seed 241), rendered twice: with the
# generator's default view transform (AgX, as every training set) and with Standard (OUT and VIEW set the
# second): how much the shipped change detector loses on renders mapped to display another way
# (docs/training-logs/view-transform/plan.md). 12 scenes x 2 variants per set, all val; samples as the
# training sets.
set -euo pipefail
cd "$(dirname "$0")/.."
SYNTHDIFF=${SYNTHDIFF:-.venv/bin/synthdiff}
OUT=${OUT:-data/view-agx}
VIEW=${VIEW:-AgX}
common=(--scenes 12 --variants 2 --size 256 --seed 241 --workers 2 --split 0,1,0 --view-transform "$VIEW")
"$SYNTHDIFF" generate --feature illumination "${common[@]}" --samples 8 --out "$OUT/illumination"
"$SYNTHDIFF" generate --feature texture "${common[@]}" --samples 8 --out "$OUT/texture"
"$SYNTHDIFF" generate --feature transparency "${common[@]}" --samples 8 --out "$OUT/transparency"
"$SYNTHDIFF" generate --feature reflection "${common[@]}" --samples 16 --out "$OUT/reflection"
"$SYNTHDIFF" generate --feature none "${common[@]}" --samples 8 --out "$OUT/none"
