#!/usr/bin/env bash
# stage16-rule.md: stage 15 continued with unchanged pairs drawn three times as often (the spent fresh
# sets 41-61 pooled, plus 60 new scenes of seed 71), against the shipped fresunet-wide on fresh seed 67;
# stage 15 is scored there too, as a reference that cannot ship in this round.
# Needs the seed-0 sets, none-seed7, the fresh41-61 sets, runs/fresunet-stage15-cpu/best.pt and its
# budgeted thresholds runs/stage15/stage15-budget.pt (stage 15's round), and the fresh67 sets
# (SEED=67 scripts/make_fresh_val_data.sh, rendered after the rule was committed).
set -euo pipefail
cd "$(dirname "$0")/../../.."
D=data/change
for f in texture illumination transparency reflection-v2 none all-v2; do
    [ -d $D/spent16-$f ] || .venv/bin/python scripts/pool_change_sets.py --out $D/spent16-$f --split val \
        $D/fresh41-$f $D/fresh43-$f $D/fresh47-$f $D/fresh53-$f $D/fresh59-$f $D/fresh61-$f
done
# generate resumes a folder made with the same options (pairs already rendered are kept).
.venv/bin/synthdiff generate --feature none --scenes 60 --size 256 --seed 71 --workers 2 --variants 3 \
        --samples 8 --split 1,0,0 --out $D/noise71-none
# Resumes from last.pt when interrupted.
.venv/bin/synthdiff train change --config configs/change-fresunet-stage16-cpu.yaml --out runs/fresunet-stage16-cpu
mkdir -p runs/stage16
# Stage 15's thresholds were chosen under the budget in its own round; reuse them rather than tune again.
cp -n runs/stage15/stage15-budget.pt runs/stage16/stage15-budget.pt
scripts/change_round_decision.sh runs/stage16 67 stage16=runs/fresunet-stage16-cpu/best.pt \
    stage15=runs/fresunet-stage15-cpu/best.pt
