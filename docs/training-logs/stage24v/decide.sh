#!/usr/bin/env bash
# stage24v-rule.md: the shipped fresunet-wide with its stored `flip` view set and thresholds as the checkpoint's
# default (runs/stage24v/flip.pt, a copy of the shipped file), against the shipped model with one view on the
# fresh sets of seeds 197 and 199 pooled (rendered after the rule was committed), under the better-default rule
# (RULE=default), then the inference time of both (condition 7: <= 100 ms per 256x256 pair with `flip`).
# Needs nothing but the installed package. Resumable: each step is skipped when its output exists. About 90
# minutes on 2 cores (50 of them rendering).
set -euo pipefail
cd "$(dirname "$0")/../../.."
PY=${PY:-.venv/bin/python}
mkdir -p runs/stage24v
[ -f runs/stage24v/flip.pt ] || $PY -c "
import shutil
from synthdiff.change import load_checkpoint, resolve_checkpoint, set_views
shipped = resolve_checkpoint('fresunet-wide')
_, flip = load_checkpoint(shipped, views='flip')
shutil.copyfile(shipped, 'runs/stage24v/flip.tmp')
set_views('runs/stage24v/flip.tmp', 'flip', {'flip': flip['thresholds']})
shutil.move('runs/stage24v/flip.tmp', 'runs/stage24v/flip.pt')
_, stored = load_checkpoint('runs/stage24v/flip.pt')
print('stage 24v:', stored['views'], stored['thresholds'])"
for seed in 197 199; do SEED=$seed bash scripts/make_fresh_val_data.sh; done
STORED=1 RULE=default MIXED=1 scripts/change_round_decision.sh runs/stage24v 197,199 stage24v=runs/stage24v/flip.pt
[ -f runs/stage24v/bench.txt ] || $PY benchmarks/bench_change.py --models fresunet-wide --tta flip \
    > runs/stage24v/bench.txt 2>&1
cat runs/stage24v/bench.txt
