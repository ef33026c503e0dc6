#!/usr/bin/env bash
# Stage 13's rule (docs/training-logs/stage13-rule.md), the steps after the GPU call: each candidate's
# thresholds on val, the choice between them on val, then the chosen one and the shipped fresunet-wide
# on the fresh seed-37 sets (and, deciding nothing, the other candidate).
set -euo pipefail
cd "$(dirname "$0")/../../.."
PY=.venv/bin/python
OUT=runs/stage13
mkdir -p $OUT
VAL=(--data data/change/texture-v2 --data data/change/illumination-v2 --data data/change/transparency-v2
     --data data/change/reflection-v2 --data data/change/all-v2
     --none-data data/change/none-v2 --none-data data/change/none-seed7 --split val)
for tag in a b; do
    M=runs/fresunet-stage13$tag-gpu/best.pt
    [ -f $OUT/val-$tag.json ] || $PY scripts/change_visibility.py --model $M --budget 0.00025 --tau 0 "${VAL[@]}" \
        -o $OUT/val-$tag.json > $OUT/val-$tag.log 2>&1
    $PY - $OUT/val-$tag.log > $OUT/thresholds-$tag.json <<'PY'
import json, re, sys
line = [l for l in open(sys.argv[1]) if l.startswith("chosen:")][-1]
print(json.dumps(eval(re.search(r"thresholds (\{[^}]*\})", line).group(1))))
PY
    cp $M $OUT/stage13$tag-budget.pt
    $PY -c "import json; from synthdiff.change import set_views; set_views('$OUT/stage13$tag-budget.pt', 'none', {'none': json.load(open('$OUT/thresholds-$tag.json'))})"
    [ -f $OUT/val-$tag-stored.json ] || $PY scripts/change_visibility.py --stored --model $OUT/stage13$tag-budget.pt \
        "${VAL[@]}" -o $OUT/val-$tag-stored.json > $OUT/val-$tag-stored.log 2>&1
done
# The choice on val: the higher weakest single-feature own-set F1 (a tie: the higher mean of the four).
$PY docs/training-logs/targets/criterion.py $OUT/val-a-stored.json $OUT/val-b-stored.json > $OUT/val-choice.txt
cat $OUT/val-choice.txt
FRESH=(--data data/change/fresh37-texture --data data/change/fresh37-illumination
       --data data/change/fresh37-transparency --data data/change/fresh37-reflection-v2
       --data data/change/fresh37-all-v2 --none-data data/change/fresh37-none --split val)
for name in shipped:fresunet-wide s13a:$OUT/stage13a-budget.pt s13b:$OUT/stage13b-budget.pt; do
    tag=${name%%:*}; model=${name#*:}
    [ -f $OUT/fresh37-$tag.json ] || $PY scripts/change_visibility.py --stored --model "$model" "${FRESH[@]}" \
        -o $OUT/fresh37-$tag.json > $OUT/fresh37-$tag.log 2>&1
done
$PY docs/training-logs/targets/criterion.py $OUT/fresh37-shipped.json $OUT/fresh37-s13a.json \
    $OUT/fresh37-s13b.json > $OUT/fresh37-decision.txt
cat $OUT/fresh37-decision.txt
