#!/usr/bin/env bash
# hysteresis-d-rule.md: candidate D (two thresholds for illumination and transparency, B's, chosen on val;
# reflection and texture as shipped) against the shipped fresunet-wide on fresh seed 53.
set -euo pipefail
cd "$(dirname "$0")/../../.."
[ -f runs/hysteresis/candidate-D.pt ] || {
    mkdir -p runs/hysteresis
    cp src/synthdiff/change/weights/fresunet-wide.pt runs/hysteresis/candidate-D.pt
    .venv/bin/python - <<'PY'
from synthdiff.change import set_views
high = {"illumination": 0.75, "reflection": 0.61, "texture": 0.74, "transparency": 0.88}
low = {"illumination": 0.43, "reflection": 0.61, "texture": 0.74, "transparency": 0.40}
set_views("runs/hysteresis/candidate-D.pt", "none", {"none": high}, {"none": low})
PY
}
STORED=1 scripts/change_round_decision.sh runs/hysteresis-d 53 D=runs/hysteresis/candidate-D.pt
