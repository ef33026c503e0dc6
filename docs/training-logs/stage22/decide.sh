#!/usr/bin/env bash
# stage22-rule.md: the shipped fresunet-wide continued on the spent fresh sets of seeds 139, 149, 151 and 157
# pooled (120 more training scenes) with unchanged pairs about 14 % of the draws
# (configs/change-fresunet-stage22-cpu.yaml); thresholds under the false-alarm budget on the seed-0 val split;
# against the shipped model on the fresh sets of seeds 167 and 173 pooled (rendered after the rule was
# committed), under the better-default rule (RULE=default: no worse on any of the six figures), then where
# each model's errors on the seeds' `all` pairs are.
# Needs the seed-0 version-2 sets, none-v2, none-seed7 (make change-sets), the fresh139/149/151/157 sets and
# noise163-none-s4 (stage 21's round). Resumable: every step is skipped when its output exists; training
# resumes from last.pt. About 2.5 hours on 2 CPU cores.
set -euo pipefail
cd "$(dirname "$0")/../../.."
D=data/change
for f in texture illumination transparency reflection-v2 none all-v2; do
    [ -d $D/spent22-$f ] || .venv/bin/python scripts/pool_change_sets.py --out $D/spent22-$f --split val \
        $D/fresh139-$f $D/fresh149-$f $D/fresh151-$f $D/fresh157-$f
done
[ -f runs/fresunet-stage22-cpu/done ] || {
    .venv/bin/synthdiff train change --config configs/change-fresunet-stage22-cpu.yaml --out runs/fresunet-stage22-cpu
    touch runs/fresunet-stage22-cpu/done
}
for seed in 167 173; do SEED=$seed bash scripts/make_fresh_val_data.sh; done
mkdir -p runs/stage22
RULE=default MIXED=1 scripts/change_round_decision.sh runs/stage22 167,173 stage22=runs/fresunet-stage22-cpu/best.pt
