#!/usr/bin/env bash
# Stage 10's rule (docs/training-logs/stage10-rule.md), steps after training.
set -euo pipefail
cd /work/main
PY=.venv/bin/python
M=runs/fresunet-stage10-cpu/best.pt
$PY scripts/change_visibility.py --model $M --budget 0.00025 --tau 0 \
    --data data/change/texture-v2 --data data/change/illumination-v2 \
    --data data/change/transparency-v2 --data data/change/reflection-v2 --data data/change/all-v2 \
    --none-data data/change/none-v2 --none-data data/change/none-seed7 --split val -o runs/stage10/val.json \
    > runs/stage10/val.log 2>&1
$PY - <<'PY' > runs/stage10/thresholds.json
import json, re
line = [l for l in open("runs/stage10/val.log") if l.startswith("chosen:")][-1]
m = re.search(r"thresholds (\{[^}]*\})", line)
print(json.dumps(eval(m.group(1))))
PY
cp $M runs/stage10/stage10-budget.pt
$PY -c "import json; from synthdiff.change import set_views; set_views('runs/stage10/stage10-budget.pt', 'none', {'none': json.load(open('runs/stage10/thresholds.json'))})"
FRESH=(--data data/change/fresh23-texture --data data/change/fresh23-illumination
       --data data/change/fresh23-transparency --data data/change/fresh23-reflection-v2
       --data data/change/fresh23-all-v2 --none-data data/change/fresh23-none --split val)
$PY scripts/change_visibility.py --stored --model fresunet-attention "${FRESH[@]}" \
    -o runs/stage10/fresh23-shipped.json > runs/stage10/fresh23-shipped.log 2>&1
$PY scripts/change_visibility.py --stored --model runs/stage10/stage10-budget.pt "${FRESH[@]}" \
    -o runs/stage10/fresh23-s10.json > runs/stage10/fresh23-s10.log 2>&1
$PY docs/training-logs/targets/criterion.py runs/stage10/fresh23-shipped.json \
    runs/stage10/fresh23-s10.json > runs/stage10/fresh23-decision.txt
# Recorded beside the decision, deciding nothing.
$PY scripts/change_visibility.py --stored --model runs/stage8/stage7c-budget.pt "${FRESH[@]}" \
    -o runs/stage10/fresh23-7c.json > runs/stage10/fresh23-7c.log 2>&1
$PY docs/training-logs/targets/criterion.py runs/stage10/fresh23-7c.json >> runs/stage10/fresh23-decision.txt
.venv/bin/synthdiff eval change --model runs/stage10/stage10-budget.pt --data data/unseen/illumination \
    --split test -o runs/stage10/unseen-illum-stage10 > /dev/null
echo done
