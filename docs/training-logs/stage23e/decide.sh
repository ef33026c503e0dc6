#!/usr/bin/env bash
# stage23e-rule.md: the shipped fresunet-wide and stage 22's network (runs/fresunet-stage22-cpu/best.pt), their
# probabilities averaged (registered model fresunet-wide-pair), with thresholds chosen by `synthdiff tune change
# --budget 0.00025` on the val pairs of the seed-0 v2 sets and the spent fresh179 and fresh181 sets, against the
# shipped fresunet-wide on the fresh sets of seeds 191 and 193 pooled (rendered after the rule was committed),
# under the better-default rule (RULE=default), then its inference time (condition 7: <= 100 ms per 256x256 pair).
# Needs stage 22's checkpoint (docs/training-logs/stage22/decide.sh) and the fresh179/181 sets.
# Resumable: each step is skipped when its output exists. About 75 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../../.."
PY=${PY:-.venv/bin/python}
mkdir -p runs/stage23e
[ -f runs/stage23e/pair.pt ] || $PY -c "
from synthdiff.change import combine_checkpoints
combine_checkpoints(['fresunet-wide', 'runs/fresunet-stage22-cpu/best.pt'], 'runs/stage23e/pair.pt', 'fresunet-wide-pair')"
scripts/change_tune_budget.sh runs/stage23e/pair.pt runs/stage23e/stage23e.pt runs/stage23e/tune.log 179 181
[ "${TUNE_ONLY:-0}" = 1 ] && exit 0
for seed in 191 193; do SEED=$seed bash scripts/make_fresh_val_data.sh; done
STORED=1 RULE=default MIXED=1 scripts/change_round_decision.sh runs/stage23e 191,193 stage23e=runs/stage23e/stage23e.pt
[ -f runs/stage23e/bench.txt ] || $PY benchmarks/bench_change.py --models fresunet-wide,fresunet-wide-pair \
    > runs/stage23e/bench.txt 2>&1
cat runs/stage23e/bench.txt
