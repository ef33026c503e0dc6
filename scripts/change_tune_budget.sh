#!/usr/bin/env bash
# A change model's thresholds under the false-alarm budget of every round since stage 12 (`synthdiff tune
# change --budget 0.00025`) on the val pairs of the seed-0 version-2 sets, none-v2 and none-seed7, and of
# the spent fresh sets of each SEED given (their five sets and their unchanged pairs).
# Usage: scripts/change_tune_budget.sh MODEL OUT LOG [SEED ...]   (skipped when OUT exists)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 3 ]; then
    echo "Usage: $0 MODEL OUT LOG [SEED ...]" >&2
    exit 2
fi
MODEL=$1; OUT=$2; LOG=$3; shift 3
[ -f "$OUT" ] && exit 0
SD=${SD:-.venv/bin/synthdiff}
D=data/change
data=(); none=(--none-data $D/none-v2 --none-data $D/none-seed7)
for set in texture-v2 illumination-v2 transparency-v2 reflection-v2 all-v2; do data+=(--data $D/$set); done
for seed in "$@"; do
    for name in texture illumination transparency reflection-v2 all-v2; do data+=(--data $D/fresh$seed-$name); done
    none+=(--none-data $D/fresh$seed-none)
done
$SD tune change --model "$MODEL" "${data[@]}" "${none[@]}" --budget 0.00025 -o "$OUT" > "$LOG" 2>&1
