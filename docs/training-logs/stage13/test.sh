#!/usr/bin/env bash
# Stage 13, after the decision: the test splits of stage 12's table, scored once, for the candidate
# and fresunet-wide. The 6-variant folders and mixed were re-rendered only as far as their val and
# test scenes (generate renders those first), hence --in-progress.
set -euo pipefail
cd "$(dirname "$0")/../../.."
CANDIDATE=${1:?"the candidate's budgeted checkpoint"}
mkdir -p runs/stage13
for name in candidate:$CANDIDATE fresunet-wide:fresunet-wide; do
    tag=${name%%:*}; model=${name#*:}
    .venv/bin/synthdiff eval change --model "$model" --data data/change/illumination-v2x6 \
        --data data/change/reflection-v2x6 --data data/change/texture-v2x6 --data data/change/transparency-v2 \
        --data data/change/all-v2 --data data/change/mixed --data data/change/none-seed7 --data data/change/none-v2 \
        --split test --in-progress --device cpu -o runs/stage13/test-$tag > runs/stage13/test-$tag.log 2>&1
done
echo done
