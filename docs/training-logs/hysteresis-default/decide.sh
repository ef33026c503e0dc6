#!/usr/bin/env bash
# hysteresis-default-rule.md: candidate C (B's val-chosen thresholds for illumination, reflection and
# transparency; texture's stored single threshold) against the shipped fresunet-wide on fresh seed 47.
set -euo pipefail
cd "$(dirname "$0")/../../.."
[ -f runs/hysteresis/candidate-C.pt ] || {
    cp runs/hysteresis/candidate-B.pt runs/hysteresis/candidate-C.pt  # docs/training-logs/hysteresis/decide.sh
    .venv/bin/python - <<'PY'
from synthdiff.change import set_views
high = {"illumination": 0.75, "reflection": 0.93, "texture": 0.74, "transparency": 0.88}
low = {"illumination": 0.43, "reflection": 0.53, "texture": 0.74, "transparency": 0.40}
set_views("runs/hysteresis/candidate-C.pt", "none", {"none": high}, {"none": low})
PY
}
STORED=1 scripts/change_round_decision.sh runs/hysteresis-default 47 C=runs/hysteresis/candidate-C.pt
