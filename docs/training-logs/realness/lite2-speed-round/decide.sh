#!/usr/bin/env bash
# The Lite2 speed round (rule: docs/training-logs/realness/lite2-speed-round-rule.md).
# Condition 2, speed, measured once: nothing else may run meanwhile. With GATE=1 (only if it holds and
# data/realness-gate/synthetic/luxcore-fresh is rendered): condition 3, the gate, scored once.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
PY=.venv/bin/python
LOG=docs/training-logs/realness/lite2-speed-round
if [ "${GATE:-0}" = 1 ]; then
    GATE=1 bash docs/training-logs/realness/lite2-round/decide.sh
    cp docs/training-logs/realness/lite2-round/gate.txt $LOG/gate.txt
    exit 0
fi
$PY benchmarks/bench_realness.py --model realness-effnet | tee $LOG/bench-shipped.json
$PY benchmarks/bench_realness.py --untrained realness-effnet-lite2 | tee $LOG/bench-candidate.json
$PY - "$LOG" <<'PY'
import json, sys
from pathlib import Path
log = Path(sys.argv[1])
shipped = json.loads((log / "bench-shipped.json").read_text())
candidate = json.loads((log / "bench-candidate.json").read_text())
holds = candidate["score_ms"] <= 150
text = (
    f"Speed (1920x1080, 2 threads, medians of 11): candidate {candidate['score_ms']} ms, shipped "
    f"{shipped['score_ms']} ms (ratio {candidate['score_ms'] / shipped['score_ms']:.2f}); reference "
    f"convolution {candidate['reference_conv_ms']} / {shipped['reference_conv_ms']} ms. "
    f"Condition 2 (at most 150 ms): {'holds' if holds else 'fails'}.\n"
)
(log / "speed.md").write_text(text)
print(text, end="")
PY
