#!/usr/bin/env bash
# Stage 9's rule (docs/training-logs/stage9-rule.md), steps after training.
set -euo pipefail
cd /work/main
PY=.venv/bin/python
M=runs/fresunet-stage9-cpu/best.pt
$PY scripts/change_visibility.py --model $M --budget 0.00025 --tau 0 \
    --data data/change/texture-v2 --data data/change/illumination-v2 \
    --data data/change/transparency-v2 --data data/change/reflection-v2 --data data/change/all-v2 \
    --none-data data/change/none-v2 --none-data data/change/none-seed7 --split val -o runs/stage9/val.json \
    > runs/stage9/val.log 2>&1
$PY - <<'PY' > runs/stage9/thresholds.json
import json, re
line = [l for l in open("runs/stage9/val.log") if l.startswith("chosen:")][-1]
m = re.search(r"thresholds (\{[^}]*\})", line)
print(json.dumps(eval(m.group(1))))
PY
cp $M runs/stage9/stage9-budget.pt
$PY -c "import json; from synthdiff.change import set_views; set_views('runs/stage9/stage9-budget.pt', 'none', {'none': json.load(open('runs/stage9/thresholds.json'))})"
FRESH=(--data data/change/fresh17-texture --data data/change/fresh17-illumination
       --data data/change/fresh17-transparency --data data/change/fresh17-reflection-v2
       --data data/change/fresh17-all-v2 --none-data data/change/fresh17-none --split val)
$PY scripts/change_visibility.py --stored --model runs/stage9/stage9-budget.pt "${FRESH[@]}" \
    -o runs/stage9/fresh17-s9.json > runs/stage9/fresh17-s9.log 2>&1
$PY docs/training-logs/targets/criterion.py docs/training-logs/targets/fresh17-shipped.json \
    runs/stage9/fresh17-s9.json > runs/stage9/fresh17-decision.txt
# Recorded beside the decision, deciding nothing.
$PY scripts/change_visibility.py --stored --model runs/stage8/stage7c-budget.pt "${FRESH[@]}" \
    -o runs/stage9/fresh17-7c.json > runs/stage9/fresh17-7c.log 2>&1
$PY docs/training-logs/targets/criterion.py runs/stage9/fresh17-7c.json >> runs/stage9/fresh17-decision.txt
.venv/bin/synthdiff eval change --model runs/stage9/stage9-budget.pt --data data/unseen/illumination \
    --split test -o runs/stage9/unseen-illum-stage9 > /dev/null
echo done
