#!/usr/bin/env bash
# The graphics default round (rule: docs/training-logs/realness/graphics-default-round-rule.md), once
# runs/graphics-train/best.pt is trained and data/realness-gate/synthetic/luxcore-fresh2 holds its 30
# renders. Each model scores each image once (realness-bench resumes; it does not score again).
set -euo pipefail
cd "$(dirname "$0")/../../../.."
S=.venv/bin/synthdiff
LOG=docs/training-logs/realness/graphics-default-round
OUT=runs/graphics-default-round
CANDIDATE=runs/graphics-train/best.pt
n=$(ls data/realness-gate/synthetic/luxcore-fresh2/*.png | wc -l)
[ "$n" = 30 ] || { echo "Expected 30 luxcore-fresh2 renders, found $n: render them first (the rule)." >&2; exit 1; }
T=data/realness-test
$S realness-bench $T/real/opencv-scenes $T/real/package-photos $T/real/wallpaper-photos \
    $T/synthetic/povray-showcase $T/synthetic/wallpaper-renders \
    --label real --label real --label real --label synthetic --label synthetic \
    --model $CANDIDATE -o $OUT/candidate-test-only
for model in shipped candidate; do
    m=realness-effnet; [ $model = candidate ] && m=$CANDIDATE
    $S realness-bench data/realness-gate/synthetic/luxcore-fresh2 --label synthetic --model $m -o $OUT/$model-gate
done
cp $OUT/candidate-test-only/scores.csv $LOG/candidate-test-only-scores.csv
cp $OUT/shipped-gate/scores.csv $LOG/shipped-gate-scores.csv
cp $OUT/candidate-gate/scores.csv $LOG/candidate-gate-scores.csv
.venv/bin/python scripts/realness_bench_round.py \
    --shipped docs/training-logs/realness/lite2-speed-round/test-only-shipped-now-scores.csv \
    --shipped $LOG/shipped-gate-scores.csv \
    --candidate $LOG/candidate-test-only-scores.csv --candidate $LOG/candidate-gate-scores.csv \
    --out $LOG/decision
