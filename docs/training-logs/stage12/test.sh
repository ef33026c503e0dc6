#!/usr/bin/env bash
# Stage 12 shipped: the test splits of stage 8's rule, scored once, for it and the model it replaces.
set -euo pipefail
cd "$(dirname "$0")/../../.."
for model in fresunet-wide fresunet-attention; do
    .venv/bin/synthdiff eval change --model $model --data data/change/illumination-v2x6 \
        --data data/change/reflection-v2x6 --data data/change/texture-v2x6 --data data/change/transparency-v2 \
        --data data/change/all-v2 --data data/change/mixed --data data/change/none-seed7 --data data/change/none-v2 \
        --split test -o runs/stage12/test-$model > runs/stage12/test-$model.log 2>&1
done
echo done
