#!/usr/bin/env bash
# After the decision, deciding nothing: the shipped fresunet-wide on the four older fresh sets, for what users can expect.
set -euo pipefail
cd "$(dirname "$0")/../../.."
for seed in 13 17 23 29; do
    .venv/bin/python scripts/change_visibility.py --stored --model fresunet-wide \
        --data data/change/fresh$seed-texture --data data/change/fresh$seed-illumination \
        --data data/change/fresh$seed-transparency --data data/change/fresh$seed-reflection-v2 \
        --data data/change/fresh$seed-all-v2 --none-data data/change/fresh$seed-none --split val \
        -o runs/stage12/fresh$seed-wide.json > runs/stage12/fresh$seed-wide.log 2>&1
done
.venv/bin/python docs/training-logs/targets/criterion.py runs/stage12/fresh{13,17,23,29}-wide.json
