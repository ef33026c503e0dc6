#!/usr/bin/env bash
# stage21-rule.md: the shipped fresunet-wide continued with unchanged pairs drawn about as often as in stage 16,
# most of them from 100 new scenes rendered at 4 samples (configs/change-fresunet-stage21-cpu.yaml);
# thresholds under the false-alarm budget on the seed-0 val split; against the shipped model on the fresh sets
# of seeds 151 and 157 pooled (rendered here after the rule was committed), under the false-alarm rule
# (RULE=noise), then where each model's errors on the seeds' `all` pairs are.
# Needs the seed-0 version-2 sets, none-v2 and none-seed7 (make change-sets). Resumable: every step is
# skipped when its output exists; training resumes from last.pt. About 3 hours on 2 CPU cores.
set -euo pipefail
cd "$(dirname "$0")/../../.."
SD=.venv/bin/synthdiff
$SD generate --feature none --scenes 100 --size 256 --seed 163 --workers 2 --variants 3 --samples 4 \
    --split 1,0,0 --out data/change/noise163-none-s4
[ -f runs/fresunet-stage21-cpu/done ] || {
    $SD train change --config configs/change-fresunet-stage21-cpu.yaml --out runs/fresunet-stage21-cpu
    touch runs/fresunet-stage21-cpu/done
}
for seed in 151 157; do SEED=$seed bash scripts/make_fresh_val_data.sh; done
mkdir -p runs/stage21
RULE=noise MIXED=1 scripts/change_round_decision.sh runs/stage21 151,157 stage21=runs/fresunet-stage21-cpu/best.pt
