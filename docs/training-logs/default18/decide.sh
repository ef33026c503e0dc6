#!/usr/bin/env bash
# default18-rule.md: is stage 18 (runs/stage18/stage18.pt, as its round left it) a better default than the
# shipped fresunet-wide? Both scored once on the fresh sets of seeds 107 and 109 pooled (SEED=107
# scripts/make_fresh_val_data.sh, then SEED=109, rendered after the rule was committed) under the
# no-worse-anywhere rule (RULE=default); then scripts/change_mixed_confusion.py on the two seeds' `all` pairs
# for both models. Needs runs/stage18/stage18.pt (docs/training-logs/stage18/decide.sh). Resumable: each step
# is skipped when its output exists.
set -euo pipefail
cd "$(dirname "$0")/../../.."
RULE=default STORED=1 scripts/change_round_decision.sh runs/default18 107,109 stage18=runs/stage18/stage18.pt
for item in shipped=fresunet-wide stage18=runs/stage18/stage18.pt; do
    tag=${item%%=*}
    [ -f runs/default18/mixed-$tag.json ] || .venv/bin/python scripts/change_mixed_confusion.py --model "${item#*=}" \
        --data data/change/fresh107-all-v2 --data data/change/fresh109-all-v2 --split val \
        -o runs/default18/mixed-$tag.json > runs/default18/mixed-$tag.md
done
