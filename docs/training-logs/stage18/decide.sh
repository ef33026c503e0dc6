#!/usr/bin/env bash
# stage18-rule.md: stage 17's config with the `all` pairs drawn three times as often, thresholds chosen on
# the val pairs of the seed-0 sets and the spent fresh79 and fresh83 sets (as for stage 17), against the
# shipped fresunet-wide on the fresh sets of seeds 101 and 103 pooled (SEED=101 scripts/make_fresh_val_data.sh,
# then SEED=103, rendered after the rule was committed), under the mixed-set rule (RULE=mixed); stage 17
# scored there too, as the control (it cannot ship in this round). Then scripts/change_mixed_confusion.py
# on the two seeds' `all` pairs for the three models. Needs the seed-0 sets, none-seed7, noise71-none, the
# spent17-* and fresh79/83 sets, runs/fresunet-stage16-cpu/best.pt and runs/stage17/stage17.pt
# (docs/training-logs/stage17/decide.sh). Resumable: each step is skipped when its output exists;
# training resumes from last.pt. TUNE_ONLY=1 stops after the thresholds.
set -euo pipefail
cd "$(dirname "$0")/../../.."
[ -f runs/fresunet-stage18-cpu/done ] || {
    .venv/bin/synthdiff train change --config configs/change-fresunet-stage18-cpu.yaml --out runs/fresunet-stage18-cpu
    touch runs/fresunet-stage18-cpu/done
}
mkdir -p runs/stage18
scripts/change_tune_budget.sh runs/fresunet-stage18-cpu/best.pt runs/stage18/stage18.pt runs/stage18/tune.log 79 83
[ "${TUNE_ONLY:-0}" = 1 ] && exit 0
RULE=mixed STORED=1 scripts/change_round_decision.sh runs/stage18 101,103 stage18=runs/stage18/stage18.pt \
    stage17=runs/stage17/stage17.pt
for item in shipped=fresunet-wide stage18=runs/stage18/stage18.pt stage17=runs/stage17/stage17.pt; do
    tag=${item%%=*}
    [ -f runs/stage18/mixed-$tag.json ] || .venv/bin/python scripts/change_mixed_confusion.py --model "${item#*=}" \
        --data data/change/fresh101-all-v2 --data data/change/fresh103-all-v2 --split val \
        -o runs/stage18/mixed-$tag.json > runs/stage18/mixed-$tag.md
done
