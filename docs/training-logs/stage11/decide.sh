#!/usr/bin/env bash
# Stage 11's rule (docs/training-logs/stage11-rule.md), steps after training.
set -euo pipefail
cd /work/main
PY=.venv/bin/python
M=runs/fresunet-stage11-cpu/best.pt
$PY scripts/change_visibility.py --model $M --budget 0.00025 --tau 0 \
    --data data/change/texture-v2 --data data/change/illumination-v2 \
    --data data/change/transparency-v2 --data data/change/reflection-v2 --data data/change/all-v2 \
    --none-data data/change/none-v2 --none-data data/change/none-seed7 --split val -o runs/stage11/val.json \
    > runs/stage11/val.log 2>&1
$PY - <<'PY' > runs/stage11/thresholds.json
import json, re
line = [l for l in open("runs/stage11/val.log") if l.startswith("chosen:")][-1]
m = re.search(r"thresholds (\{[^}]*\})", line)
print(json.dumps(eval(m.group(1))))
PY
cp $M runs/stage11/stage11-budget.pt
$PY -c "import json; from synthdiff.change import set_views; set_views('runs/stage11/stage11-budget.pt', 'none', {'none': json.load(open('runs/stage11/thresholds.json'))})"
FRESH=(--data data/change/fresh23-texture --data data/change/fresh23-illumination
       --data data/change/fresh23-transparency --data data/change/fresh23-reflection-v2
       --data data/change/fresh23-all-v2 --none-data data/change/fresh23-none --split val)
$PY scripts/change_visibility.py --stored --model runs/stage11/stage11-budget.pt "${FRESH[@]}" \
    -o runs/stage11/fresh23-s11.json > runs/stage11/fresh23-s11.log 2>&1
$PY docs/training-logs/targets/criterion.py runs/stage10/fresh23-shipped.json \
    runs/stage11/fresh23-s11.json > runs/stage11/fresh23-decision.txt
# Recorded beside the decision, deciding nothing (stage 7c on these sets: runs/stage10/fresh23-7c.json).
.venv/bin/synthdiff eval change --model runs/stage11/stage11-budget.pt --data data/unseen/illumination \
    --split test -o runs/stage11/unseen-illum-stage11 > /dev/null
echo done
