#!/usr/bin/env bash
# The LuxCore round (rule: docs/training-logs/realness/luxcore-round-rule.md), step by step:
#   bash decide.sh            the round folder, the sixteen-source leave-one-source-out (resumes from the
#                             embedding cache, which runs/lite2-round's may seed: cp -al) and conditions 1-5
#   PHOTOS=1 bash decide.sh   condition 6 (the final checkpoint on the 38 test-only photos), only if 1-5 hold
set -euo pipefail
cd "$(dirname "$0")/../../../.."
PY=.venv/bin/python
LOG=docs/training-logs/realness/luxcore-round
ROUND=data/realness-luxcore-round
if [ "${PHOTOS:-0}" = 1 ]; then
    MODEL=realness-effnet-lite2 bash scripts/train_realness_round.sh $ROUND runs/luxcore-train --config $LOG/train-config.yaml
    cp runs/luxcore-train/config.yaml $LOG/final-config.yaml; cp runs/luxcore-train/cv.json $LOG/final-cv.json
    T=data/realness-test/real
    .venv/bin/synthdiff realness-bench $T/opencv-scenes $T/package-photos $T/wallpaper-photos --label real \
        --model runs/luxcore-train/best.pt -o runs/luxcore-round/photos
    cp runs/luxcore-round/photos/scores.csv $LOG/test-only-photos-candidate-scores.csv
    exit 0
fi
if [ ! -d $ROUND ]; then
    mkdir -p data/realness-luxcore/synthetic/luxcore $ROUND/real $ROUND/synthetic
    cp -l data/realness-gate/synthetic/luxcore-fresh/*.png data/realness-gate/synthetic/luxcore-fresh2/*.png \
        data/realness-luxcore/synthetic/luxcore/
    cp -P data/realness-variety-round/real/* $ROUND/real/; cp -P data/realness-variety-round/synthetic/* $ROUND/synthetic/
    ln -s "$PWD/data/realness-luxcore/synthetic/luxcore" $ROUND/synthetic/luxcore
fi
$PY scripts/realness_scales.py --data $ROUND --out runs/luxcore-round --crop 128 --backbone lite2 | tee $LOG/candidate.txt
cp runs/luxcore-round/scales-128-lite2.md $LOG/candidate-loso.md
$PY scripts/realness_luxcore_round.py runs/lite2-round/scales-128-lite2.json runs/luxcore-round/scales-128-lite2.json \
    --out $LOG/decision
