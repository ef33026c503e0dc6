#!/usr/bin/env bash
# stage22r-rule.md: stage 22's checkpoint with thresholds chosen by `synthdiff tune change --budget 0.00025`
# on the val pairs of the seed-0 v2 sets and the spent fresh167 and fresh173 sets, against the shipped
# fresunet-wide on the fresh sets of seeds 179 and 181 pooled (rendered after the rule was committed), under
# the better-default rule (RULE=default: no worse on any of the six figures), then where each model's
# errors on the seeds' `all` pairs are.
# Needs runs/fresunet-stage22-cpu/best.pt (docs/training-logs/stage22/decide.sh) and the fresh167/173 sets.
# Resumable: each step is skipped when its output exists. About 75 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../../.."
mkdir -p runs/stage22r
scripts/change_tune_budget.sh runs/fresunet-stage22-cpu/best.pt runs/stage22r/stage22r.pt runs/stage22r/tune.log 167 173
[ "${TUNE_ONLY:-0}" = 1 ] && exit 0
for seed in 179 181; do SEED=$seed bash scripts/make_fresh_val_data.sh; done
STORED=1 RULE=default MIXED=1 scripts/change_round_decision.sh runs/stage22r 179,181 stage22r=runs/stage22r/stage22r.pt
