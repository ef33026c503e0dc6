#!/usr/bin/env bash
# stage19-rule.md: stage 18's config with attribution_weight 3 (the change loss counted three times where
# another feature's change is labelled), thresholds chosen on the val pairs of the seed-0 sets and the spent
# fresh79 and fresh83 sets (as for stages 17 and 18), against the shipped fresunet-wide on the fresh sets of
# seeds 113 and 127 pooled (SEED=113 scripts/make_fresh_val_data.sh, then SEED=127, rendered after the rule
# was committed), under the mixed-set rule (RULE=mixed); stage 18 scored there too, as the control; and
# (MIXED=1) scripts/change_mixed_confusion.py on the two seeds' `all` pairs for the three models. Needs the seed-0
# sets, none-seed7, noise71-none, the spent17-* and fresh79/83 sets, runs/fresunet-stage16-cpu/best.pt and
# runs/stage18/stage18.pt (docs/training-logs/stage18/decide.sh). Resumable: each step is skipped when its
# output exists; training resumes from last.pt. TUNE_ONLY=1 stops after the thresholds.
set -euo pipefail
cd "$(dirname "$0")/../../.."
[ -f runs/fresunet-stage19-cpu/done ] || {
    .venv/bin/synthdiff train change --config configs/change-fresunet-stage19-cpu.yaml --out runs/fresunet-stage19-cpu
    touch runs/fresunet-stage19-cpu/done
}
mkdir -p runs/stage19
scripts/change_tune_budget.sh runs/fresunet-stage19-cpu/best.pt runs/stage19/stage19.pt runs/stage19/tune.log 79 83
[ "${TUNE_ONLY:-0}" = 1 ] && exit 0
MIXED=1 RULE=mixed STORED=1 scripts/change_round_decision.sh runs/stage19 113,127 stage19=runs/stage19/stage19.pt \
    stage18=runs/stage18/stage18.pt
