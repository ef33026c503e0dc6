#!/usr/bin/env bash
# stage16p-rule.md: stage 16 with its texture threshold chosen for the mean F1 over the places texture
# changed (spent val pairs), against the shipped fresunet-wide on fresh seed 73; stage 16 at its own
# thresholds scored there too, as a reference that cannot ship in this round.
# Needs stage 16's round (docs/training-logs/stage16/decide.sh: runs/stage16/stage16-budget.pt), the
# seed-0 sets, none-seed7, the fresh67 sets and the fresh73 sets (SEED=73 scripts/make_fresh_val_data.sh,
# rendered after the rule was committed).
# The rule said the three unchanged sets' val pairs were 260; they are 200 (140 of none-v2 and
# none-seed7, as in every budget since stage 12, and 60 of fresh67-none). Nothing else differs.
set -euo pipefail
cd "$(dirname "$0")/../../.."
D=data/change
mkdir -p runs/stage16p
[ -f runs/stage16p/stage16p.pt ] || .venv/bin/python scripts/tune_place_balanced.py \
    --model runs/stage16/stage16-budget.pt --feature texture \
    --data $D/texture-v2 --data $D/fresh67-texture \
    --none-data $D/none-v2 --none-data $D/none-seed7 --none-data $D/fresh67-none \
    -o runs/stage16p/texture-places.json --store runs/stage16p/stage16p.pt
STORED=1 scripts/change_round_decision.sh runs/stage16p 73 stage16p=runs/stage16p/stage16p.pt \
    stage16=runs/stage16/stage16-budget.pt
