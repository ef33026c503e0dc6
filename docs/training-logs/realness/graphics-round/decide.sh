#!/usr/bin/env bash
# The graphics round (rule: docs/training-logs/realness/graphics-round-rule.md), step by step:
#   bash decide.sh            conditions 1-4 (the sixteen-source leave-one-source-out; resumes from the
#                             embedding cache, which runs/lite2-round's may seed: cp -al)
#   GATE=A bash decide.sh     gate A (oxygen-icons), only if 1-4 hold
#   GATE=B bash decide.sh     gate B (luxcore-fresh2), only if 1-4 and gate A hold
set -euo pipefail
cd "$(dirname "$0")/../../../.."
PY=.venv/bin/python
LOG=docs/training-logs/realness/graphics-round
ROUND=data/realness-graphics-round
run=($PY scripts/realness_scales.py --data $ROUND --out runs/graphics-round --crop 128 --backbone lite2)
case "${GATE:-}" in
    A) "${run[@]}" --final-only --gate data/realness-gate/synthetic/oxygen-icons | tee $LOG/gate-a.txt
       cp runs/graphics-round/scales-128-lite2-final.json $LOG/gate-a.json; exit 0 ;;
    B) "${run[@]}" --final-only --gate data/realness-gate/synthetic/luxcore-fresh2 | tee $LOG/gate-b.txt
       cp runs/graphics-round/scales-128-lite2-final.json $LOG/gate-b.json; exit 0 ;;
esac
[ -d $ROUND ] || { mkdir -p $ROUND/real $ROUND/synthetic
    cp -P data/realness-variety-round/real/* $ROUND/real/; cp -P data/realness-variety-round/synthetic/* $ROUND/synthetic/
    ln -s "$PWD/data/realness-graphics/synthetic/graphics" $ROUND/synthetic/graphics; }
$PY scripts/make_graphics_images.py --out data/realness-graphics/synthetic/graphics --count 120 --seed 131
"${run[@]}" | tee $LOG/candidate.txt
cp runs/graphics-round/scales-128-lite2.md $LOG/candidate-loso.md
$PY scripts/realness_graphics_round.py runs/lite2-round/scales-128-lite2.json runs/graphics-round/scales-128-lite2.json \
    --out $LOG/decision
