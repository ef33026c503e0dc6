#!/usr/bin/env bash
# stage16r-rule.md: stage 16's checkpoint with thresholds chosen by `synthdiff tune change --budget
# 0.00025` on the val pairs of the seed-0 v2 sets and the spent fresh67 and fresh73 sets, against the
# shipped fresunet-wide on the fresh sets of seeds 79 and 83 pooled (rendered after the rule was
# committed: SEED=79 scripts/make_fresh_val_data.sh, then SEED=83).
# Needs runs/fresunet-stage16-cpu/best.pt (docs/training-logs/stage16/decide.sh).
# Resumable: each step is skipped when its output exists.
set -euo pipefail
cd "$(dirname "$0")/../../.."
D=data/change
mkdir -p runs/stage16r
data=()
for set in texture-v2 illumination-v2 transparency-v2 reflection-v2 all-v2; do data+=(--data $D/$set); done
for seed in 67 73; do
    for name in texture illumination transparency reflection-v2 all-v2; do data+=(--data $D/fresh$seed-$name); done
done
none=(--none-data $D/none-v2 --none-data $D/none-seed7 --none-data $D/fresh67-none --none-data $D/fresh73-none)
[ -f runs/stage16r/stage16r.pt ] || .venv/bin/synthdiff tune change --model runs/fresunet-stage16-cpu/best.pt \
    "${data[@]}" "${none[@]}" --budget 0.00025 -o runs/stage16r/stage16r.pt > runs/stage16r/tune.log 2>&1
[ "${TUNE_ONLY:-0}" = 1 ] && exit 0
STORED=1 scripts/change_round_decision.sh runs/stage16r 79,83 stage16r=runs/stage16r/stage16r.pt
