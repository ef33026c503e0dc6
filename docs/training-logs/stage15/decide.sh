#!/usr/bin/env bash
# stage15-rule.md: the shipped fresunet-wide continued on the seed-0 sets and the pooled spent fresh
# sets 41-59 (150 more scenes), against the shipped model on fresh seed 61.
# Needs the seed-0 sets (scripts/make_stage6b_data.sh), none-seed7, the fresh41/43/47/53/59 sets and
# the fresh61 sets (SEED=61 scripts/make_fresh_val_data.sh, rendered after the rule was committed).
set -euo pipefail
cd "$(dirname "$0")/../../.."
D=data/change
for f in texture illumination transparency reflection-v2 none all-v2; do
    [ -d $D/spent-$f ] || .venv/bin/python scripts/pool_change_sets.py --out $D/spent-$f --split val \
        $D/fresh41-$f $D/fresh43-$f $D/fresh47-$f $D/fresh53-$f $D/fresh59-$f
done
# Resumes from last.pt when interrupted (15 epochs; 432-952 s an epoch on 2 CPU cores beside renders).
.venv/bin/synthdiff train change --config configs/change-fresunet-stage15-cpu.yaml --out runs/fresunet-stage15-cpu
scripts/change_round_decision.sh runs/stage15 61 stage15=runs/fresunet-stage15-cpu/best.pt
