#!/usr/bin/env bash
# The Lite2 round (rule: docs/training-logs/realness/lite2-round-rule.md): conditions 1-5.
# Needs the fifteen sources of the variety round (make realness-sources; the showcases, blender-styles
# and the test-only renders are not read). Every step resumes: the embeddings are cached per image.
# The gate (condition 6) runs only if 1-5 hold: GATE=1 bash .../decide.sh, after rendering luxcore-fresh.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
PY=.venv/bin/python
LOG=docs/training-logs/realness/lite2-round
DATA=data/realness-variety-round
if [ "${GATE:-0}" = 1 ]; then
    $PY scripts/realness_scales.py --data $DATA --out runs/lite2-round --crop 128 --backbone lite2 \
        --final-only --gate data/realness-gate/synthetic/luxcore-fresh | tee $LOG/gate.txt
    exit 0
fi
bash scripts/link_realness_round.sh $DATA --with-lomiri --with-variety
$PY scripts/realness_scales.py --data $DATA --out runs/lite2-round-ref --crop 128 | tee $LOG/reference.txt
$PY scripts/realness_scales.py --data $DATA --out runs/lite2-round --crop 128 --backbone lite2 | tee $LOG/candidate.txt
cp runs/lite2-round-ref/scales-128.md $LOG/reference-loso.md
cp runs/lite2-round/scales-128-lite2.md $LOG/candidate-loso.md
$PY scripts/realness_lite2_round.py runs/lite2-round-ref/scales-128.json runs/lite2-round/scales-128-lite2.json \
    --out $LOG/decision
# Condition 5: nothing else may run during these two (the rule).
$PY benchmarks/bench_realness.py --model realness-effnet | tee $LOG/bench-shipped.json
$PY benchmarks/bench_realness.py --untrained realness-effnet-lite2 | tee $LOG/bench-candidate.json
