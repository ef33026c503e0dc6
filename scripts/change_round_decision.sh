#!/usr/bin/env bash
# The steps after a change-detection training round, as the rules since stage 12 set them
# (docs/training-logs/stage*-rule.md):
#   1. each candidate's thresholds on the seed-0 val split under the false-alarm budget (0.025 % per
#      feature on the unchanged val pairs of none-v2 and none-seed7), stored in OUT/TAG-budget.pt with
#      the record of the choice in OUT/TAG-budget-tune.json (synthdiff tune change; before 2026-12-05,
#      scripts/change_visibility.py --budget, which chose the same thresholds for fresunet-wide);
#   2. the shipped model (SHIPPED, default fresunet-wide) at its stored thresholds and each candidate at
#      its budgeted ones on the fresh sets of SEED (scripts/make_fresh_val_data.sh), with the figures of
#      docs/training-logs/targets/criterion.py in OUT/freshSEED-decision.txt;
#   3. on the same sets, texture split by where the changes were (eval change, by_place) and what the
#      missed pixels were called (scripts/change_label_visibility.py);
#   4. each candidate's six shipping conditions against the shipped model (scripts/change_round_conditions.py;
#      RULE picks whose six);
#   5. with MIXED=1, where each model's errors on the seeds' `all` pairs are (scripts/change_mixed_confusion.py),
#      in OUT/mixed-TAG.md and .json.
# Usage: scripts/change_round_decision.sh OUT SEED[,SEED...] [TAG=CHECKPOINT ...]  (no candidate: the shipped
# model only). Several seeds, comma-separated, are pooled: every figure is over all their pairs together,
# written as OUT/freshS1+S2-*.
# RULE=mixed checks the conditions of stage 18's rule (aimed at the mixed set) in step 4 instead, RULE=default
# those of the better-default round (default18-rule.md: no worse anywhere), RULE=noise those of stage 21's
# (stage21-rule.md: a cut in the false alarms, little loss elsewhere).
# STORED=1 skips step 1: the candidates are scored at the thresholds stored in them (chosen on val
# beforehand, e.g. by synthdiff tune change --hysteresis, whose low thresholds step 1 would not keep).
# Each step is skipped when its output exists, so an interrupted run resumes.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 2 ]; then
    echo "Usage: $0 OUT SEED[,SEED...] [TAG=CHECKPOINT ...]" >&2
    exit 2
fi
OUT=$1; SEEDS=(${2//,/ }); SEED=${2//,/+}; shift 2
PY=${PY:-.venv/bin/python}
SD=${SD:-.venv/bin/synthdiff}
SHIPPED=${SHIPPED:-fresunet-wide}
D=data/change
mkdir -p "$OUT"
FRESH=(); NONE=(); TEXTURE=(); VISIBLE=(); MIXED_SETS=()
for seed in "${SEEDS[@]}"; do
    for name in texture illumination transparency reflection-v2 all-v2 none; do
        [ -f "$D/fresh$seed-$name/dataset.json" ] || {
            echo "Missing fresh set $D/fresh$seed-$name: run SEED=$seed scripts/make_fresh_val_data.sh" >&2; exit 2; }
        [ $name = none ] && NONE+=(--none-data $D/fresh$seed-none) || FRESH+=(--data $D/fresh$seed-$name)
    done
    TEXTURE+=(--data $D/fresh$seed-texture)
    MIXED_SETS+=(--data $D/fresh$seed-all-v2)
    VISIBLE+=(--data $D/fresh$seed-texture --data $D/fresh$seed-reflection-v2 --data $D/fresh$seed-illumination
              --data $D/fresh$seed-transparency)
done
FRESH+=("${NONE[@]}" --split val)
models=("shipped=$SHIPPED")
for item in "$@"; do
    tag=${item%%=*}; checkpoint=${item#*=}
    [ -f "$checkpoint" ] || { echo "Missing checkpoint $checkpoint" >&2; exit 2; }
    if [ "${STORED:-0}" = 1 ]; then
        models+=("$tag=$checkpoint")
        continue
    fi
    SD=$SD scripts/change_tune_budget.sh "$checkpoint" "$OUT/$tag-budget.pt" "$OUT/val-$tag.log"
    models+=("$tag=$OUT/$tag-budget.pt")
done
reports=()
for item in "${models[@]}"; do
    tag=${item%%=*}; model=${item#*=}
    [ -f "$OUT/fresh$SEED-$tag.json" ] || $PY scripts/change_visibility.py --stored --model "$model" "${FRESH[@]}" \
        -o "$OUT/fresh$SEED-$tag.json" > "$OUT/fresh$SEED-$tag.log" 2>&1
    [ -f "$OUT/eval-texture-$tag/eval.json" ] || $SD eval change --model "$model" "${TEXTURE[@]}" \
        --split val -o "$OUT/eval-texture-$tag" > "$OUT/eval-texture-$tag.log" 2>&1
    [ -f "$OUT/visibility-$tag.json" ] || $PY scripts/change_label_visibility.py --model "$model" \
        "${VISIBLE[@]}" --split val -o "$OUT/visibility-$tag.json" > "$OUT/visibility-$tag.log" 2>&1
    reports+=("$OUT/fresh$SEED-$tag.json")
done
{
    $PY docs/training-logs/targets/criterion.py "${reports[@]}"
    for item in "${models[@]}"; do
        tag=${item%%=*}
        $PY - "$OUT/eval-texture-$tag/eval.json" "$tag" <<'PY'
import json, sys
places = json.load(open(sys.argv[1]))["by_place"]
cells = [
    f"{key} ({entry['pairs']} pairs): P {entry['change']['precision'] or 0:.3f} R {entry['change']['recall'] or 0:.3f} "
    f"F1 {entry['change']['f1'] or 0:.3f}"
    for key, entry in places.items()
    if key.startswith("texture/")
]
print(f"{sys.argv[2]}: texture change by place: " + "; ".join(cells))
PY
    done
    # The six shipping conditions for each candidate against the shipped model (stage 15's rule onwards).
    for item in "${models[@]:1}"; do
        tag=${item%%=*}
        echo
        $PY scripts/change_round_conditions.py "$OUT/fresh$SEED-shipped.json" "$OUT/eval-texture-shipped/eval.json" \
            "$OUT/fresh$SEED-$tag.json" "$OUT/eval-texture-$tag/eval.json" --tag "$tag" --rule "${RULE:-six}"
    done
} > "$OUT/fresh$SEED-decision.txt"
cat "$OUT/fresh$SEED-decision.txt"
if [ "${MIXED:-0}" = 1 ]; then
    for item in "${models[@]}"; do
        tag=${item%%=*}
        [ -f "$OUT/mixed-$tag.json" ] || $PY scripts/change_mixed_confusion.py --model "${item#*=}" "${MIXED_SETS[@]}" \
            --split val -o "$OUT/mixed-$tag.json" > "$OUT/mixed-$tag.md"
    done
fi
