#!/usr/bin/env bash
# Stage 14c's rule (docs/training-logs/stage14c-rule.md), the steps after training: the candidate's
# thresholds on val under the false-alarm budget, then it and the shipped fresunet-wide on the fresh
# seed-41 sets (the five target conditions, object-only texture F1, what the missed pixels were called).
set -euo pipefail
cd "$(dirname "$0")/../../.."
scripts/change_round_decision.sh runs/stage14c 41 s14c=runs/fresunet-stage14c-cpu/best.pt
