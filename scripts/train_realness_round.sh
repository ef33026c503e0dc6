#!/usr/bin/env bash
# Fit realness-effnet (head `images`) on every source of a linked round folder (link_realness_round.sh):
# one --real or --synthetic NAME=DIR per subfolder of ROUND/real and ROUND/synthetic. Extra arguments go
# to `synthdiff train realness` (for example --config FILE with an embedding_cache shared with
# realness_scales.py, so that nothing is embedded twice). Resumable, as train realness is. MODEL picks
# another registered model with the same recipe (for example MODEL=realness-effnet-lite2).
#   bash scripts/train_realness_round.sh data/realness-styles-round runs/default-round-train
set -euo pipefail
cd "$(dirname "$0")/.."
round=${1:?usage: train_realness_round.sh ROUND OUT [train realness options]}
out=${2:?usage: train_realness_round.sh ROUND OUT [train realness options]}
SYNTHDIFF=${SYNTHDIFF:-.venv/bin/synthdiff}
MODEL=${MODEL:-realness-effnet}
sources=()
for label in real synthetic; do
    for folder in "$round/$label"/*; do
        [ -d "$folder" ] || { echo "Expected source folders in $round/$label, found none." >&2; exit 1; }
        sources+=("--$label" "$(basename "$folder")=$folder")
    done
done
"$SYNTHDIFF" train realness --model "$MODEL" --head images "${sources[@]}" --out "$out" "${@:3}"
