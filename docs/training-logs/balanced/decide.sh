#!/usr/bin/env bash
# The balanced rule's steps (docs/training-logs/balanced-rule.md): both models scored once on the seed-29 sets.
set -euo pipefail
cd "$(dirname "$0")/../../.."
PY=.venv/bin/python
FRESH=(--data data/change/fresh29-texture --data data/change/fresh29-illumination
       --data data/change/fresh29-transparency --data data/change/fresh29-reflection-v2
       --data data/change/fresh29-all-v2 --none-data data/change/fresh29-none --split val)
$PY scripts/change_visibility.py --stored --model fresunet-attention "${FRESH[@]}" \
    -o runs/balanced/fresh29-shipped.json > runs/balanced/fresh29-shipped.log 2>&1
$PY scripts/change_visibility.py --stored --model runs/stage8/stage7c-budget.pt "${FRESH[@]}" \
    -o runs/balanced/fresh29-7c.json > runs/balanced/fresh29-7c.log 2>&1
$PY docs/training-logs/targets/criterion.py runs/balanced/fresh29-shipped.json runs/balanced/fresh29-7c.json \
    > runs/balanced/fresh29-decision.txt
echo done
