#!/usr/bin/env bash
# Stage 12's rule (docs/training-logs/stage12-rule.md), the steps after training: thresholds on val,
# then the shipped model, stage 12 and (deciding nothing) stage 11 on the fresh seed-31 sets.
set -euo pipefail
cd "$(dirname "$0")/../../.."
PY=.venv/bin/python
OUT=runs/stage12
M=runs/fresunet-stage12-cpu/best.pt
mkdir -p $OUT
$PY scripts/change_visibility.py --model $M --budget 0.00025 --tau 0 \
    --data data/change/texture-v2 --data data/change/illumination-v2 \
    --data data/change/transparency-v2 --data data/change/reflection-v2 --data data/change/all-v2 \
    --none-data data/change/none-v2 --none-data data/change/none-seed7 --split val -o $OUT/val.json \
    > $OUT/val.log 2>&1
$PY - <<'PY' > $OUT/thresholds.json
import json, re
line = [l for l in open("runs/stage12/val.log") if l.startswith("chosen:")][-1]
print(json.dumps(eval(re.search(r"thresholds (\{[^}]*\})", line).group(1))))
PY
cp $M $OUT/stage12-budget.pt
$PY -c "import json; from synthdiff.change import set_views; set_views('$OUT/stage12-budget.pt', 'none', {'none': json.load(open('$OUT/thresholds.json'))})"
FRESH=(--data data/change/fresh31-texture --data data/change/fresh31-illumination
       --data data/change/fresh31-transparency --data data/change/fresh31-reflection-v2
       --data data/change/fresh31-all-v2 --none-data data/change/fresh31-none --split val)
for name in shipped:fresunet-attention s12:$OUT/stage12-budget.pt s11:runs/stage11/stage11-budget.pt; do
    tag=${name%%:*}; model=${name#*:}
    [ -f $OUT/fresh31-$tag.json ] || $PY scripts/change_visibility.py --stored --model "$model" "${FRESH[@]}" \
        -o $OUT/fresh31-$tag.json > $OUT/fresh31-$tag.log 2>&1
done
$PY docs/training-logs/targets/criterion.py $OUT/fresh31-shipped.json $OUT/fresh31-s12.json \
    $OUT/fresh31-s11.json > $OUT/fresh31-decision.txt
# Recorded beside the decision, deciding nothing: the hand-made scene's moved-light pairs.
.venv/bin/synthdiff eval change --model $OUT/stage12-budget.pt --data data/unseen/illumination \
    --split test -o $OUT/unseen-illum-stage12 > /dev/null
cat $OUT/fresh31-decision.txt
