#!/usr/bin/env bash
# stage20-rule.md: the shipped fresunet-wide continued with `combined` pairs (configs/change-fresunet-stage20-cpu.yaml),
# thresholds under the false-alarm budget on the seed-0 val split, against the shipped model on the fresh sets
# of seeds 139 and 149 pooled (rendered here after the rule was committed), under the mixed-set rule
# (RULE=mixed: stage 18's six conditions), then where each model's errors on the seeds' `all` pairs are.
# Needs the seed-0 version-2 sets, none-v2 and none-seed7 (make change-sets). Resumable: every step is
# skipped when its output exists; training resumes from last.pt. About 3.5 hours on 2 CPU cores.
set -euo pipefail
cd "$(dirname "$0")/../../.."
SD=.venv/bin/synthdiff
$SD generate --feature combined --scenes 100 --size 256 --seed 0 --workers 2 --variants 3 --samples 16 \
    --out data/change/combined
[ -f runs/fresunet-stage20-cpu/done ] || {
    $SD train change --config configs/change-fresunet-stage20-cpu.yaml --out runs/fresunet-stage20-cpu
    touch runs/fresunet-stage20-cpu/done
}
for seed in 139 149; do SEED=$seed bash scripts/make_fresh_val_data.sh; done
mkdir -p runs/stage20
RULE=mixed MIXED=1 scripts/change_round_decision.sh runs/stage20 139,149 stage20=runs/fresunet-stage20-cpu/best.pt
