#!/usr/bin/env bash
# stage16r-rule.md: stage 16's checkpoint with thresholds chosen by `synthdiff tune change --budget
# 0.00025` on the val pairs of the seed-0 v2 sets and the spent fresh67 and fresh73 sets, against the
# shipped fresunet-wide on the fresh sets of seeds 79 and 83 pooled (rendered after the rule was
# committed: SEED=79 scripts/make_fresh_val_data.sh, then SEED=83).
# Needs runs/fresunet-stage16-cpu/best.pt (docs/training-logs/stage16/decide.sh).
# Resumable: each step is skipped when its output exists.
set -euo pipefail
cd "$(dirname "$0")/../../.."
mkdir -p runs/stage16r
# The thresholds: synthdiff tune change --budget 0.00025 on the seed-0 and the spent fresh67/73 val pairs.
scripts/change_tune_budget.sh runs/fresunet-stage16-cpu/best.pt runs/stage16r/stage16r.pt runs/stage16r/tune.log 67 73
[ "${TUNE_ONLY:-0}" = 1 ] && exit 0
STORED=1 scripts/change_round_decision.sh runs/stage16r 79,83 stage16r=runs/stage16r/stage16r.pt
