#!/usr/bin/env bash
# stage25m-rule.md: the shipped fresunet-wide with changed components under 64 pixels removed, against itself
# as shipped, on the fresh sets of seeds 211 and 223 pooled (rendered after the rule was committed), under the
# noise rule, with (7) the time the removal takes per pair. Resumable: the rendering resumes, and the scoring is
# skipped when its output exists. About 60 minutes on 2 cores (50 of them rendering).
set -euo pipefail
cd "$(dirname "$0")/../../.."
PY=${PY:-.venv/bin/python}
for seed in 211 223; do SEED=$seed bash scripts/make_fresh_val_data.sh; done
[ -f runs/stage25m/fresh211+223-min-area-64-decision.md ] || $PY scripts/change_min_area_round.py \
    --seeds 211,223 --min-area 64 --rule noise --out runs/stage25m
cat runs/stage25m/fresh211+223-min-area-64-decision.md
