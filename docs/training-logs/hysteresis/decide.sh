#!/usr/bin/env bash
# The hysteresis round (docs/training-logs/hysteresis-rule.md), from a clone with the seed-0 sets
# (scripts/make_stage6b_data.sh), none-seed7 and the fresh seed-43 sets (SEED=43 scripts/make_fresh_val_data.sh).
set -euo pipefail
cd "$(dirname "$0")/../../.."
D=data/change
mkdir -p runs/hysteresis
# 1. Both thresholds per feature on the seed-0 val split, under the budget (candidate B of the amendment,
#    chosen over A on val: choice-on-val.md); a copy of the model keeps them.
[ -f runs/hysteresis/candidate-B.pt ] || .venv/bin/python scripts/tune_hysteresis.py --model fresunet-wide --objective own-set \
    --data $D/texture-v2 --data $D/illumination-v2 --data $D/transparency-v2 --data $D/reflection-v2 \
    --data $D/all-v2 --none-data $D/none-v2 --none-data $D/none-seed7 --budget 0.00025 \
    -o runs/hysteresis/val-B.json --store runs/hysteresis/candidate-B.pt | tee runs/hysteresis/val-B.log
# 2. The shipped model at its stored thresholds and the candidate at its stored two, on the fresh seed-43 sets.
STORED=1 scripts/change_round_decision.sh runs/hysteresis 43 hysteresis=runs/hysteresis/candidate-B.pt
