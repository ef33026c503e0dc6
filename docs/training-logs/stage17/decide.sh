#!/usr/bin/env bash
# stage17-rule.md: stage 16 continued on the spent fresh sets of seeds 41-73 pooled, thresholds chosen on
# the val pairs of the seed-0 sets and the spent fresh79 and fresh83 sets, against the shipped
# fresunet-wide on the fresh sets of seeds 89 and 97 pooled (SEED=89 scripts/make_fresh_val_data.sh, then
# SEED=97, rendered after the rule was committed); stage 16r scored there too, as a reference that
# cannot ship. Needs the seed-0 sets, none-seed7, noise71-none, the fresh41-83 sets and
# runs/fresunet-stage16-cpu/best.pt and runs/stage16r/stage16r.pt (docs/training-logs/stage16r/decide.sh).
# Resumable: each step is skipped when its output exists; training resumes from last.pt.
set -euo pipefail
cd "$(dirname "$0")/../../.."
D=data/change
for f in texture illumination transparency reflection-v2 none all-v2; do
    [ -d $D/spent17-$f ] || .venv/bin/python scripts/pool_change_sets.py --out $D/spent17-$f --split val \
        $D/fresh41-$f $D/fresh43-$f $D/fresh47-$f $D/fresh53-$f $D/fresh59-$f $D/fresh61-$f $D/fresh67-$f \
        $D/fresh73-$f
done
[ -f runs/fresunet-stage17-cpu/done ] || {
    .venv/bin/synthdiff train change --config configs/change-fresunet-stage17-cpu.yaml --out runs/fresunet-stage17-cpu
    touch runs/fresunet-stage17-cpu/done
}
mkdir -p runs/stage17
# The thresholds: synthdiff tune change --budget 0.00025 on the seed-0 and the spent fresh79/83 val pairs.
scripts/change_tune_budget.sh runs/fresunet-stage17-cpu/best.pt runs/stage17/stage17.pt runs/stage17/tune.log 79 83
[ "${TUNE_ONLY:-0}" = 1 ] && exit 0
STORED=1 scripts/change_round_decision.sh runs/stage17 89,97 stage17=runs/stage17/stage17.pt \
    stage16r=runs/stage16r/stage16r.pt
