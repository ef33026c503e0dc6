#!/usr/bin/env bash
# thresholds-pooled-rule.md: candidate E (fresunet-wide's weights, single thresholds chosen by
# synthdiff tune change under the 0.025 % budget on the val pairs of the seed-0 version-2 sets and of
# the spent fresh sets 41, 43, 47 and 53) against the shipped fresunet-wide on fresh seed 59.
# Needs the seed-0 sets (scripts/make_stage6b_data.sh), none-seed7, the fresh41/43/47/53 sets and
# the fresh59 sets (SEED=59 scripts/make_fresh_val_data.sh, rendered after the rule was committed).
set -euo pipefail
cd "$(dirname "$0")/../../.."
D=data/change
OUT=runs/thresholds-pooled
mkdir -p $OUT
sets=(--data $D/texture-v2 --data $D/illumination-v2 --data $D/transparency-v2 --data $D/reflection-v2
      --data $D/all-v2 --none-data $D/none-v2 --none-data $D/none-seed7)
for seed in 41 43 47 53; do
    for name in texture illumination transparency reflection-v2 all-v2; do sets+=(--data $D/fresh$seed-$name); done
    sets+=(--none-data $D/fresh$seed-none)
done
[ -f $OUT/candidate-E.pt ] || .venv/bin/synthdiff tune change --model fresunet-wide "${sets[@]}" --budget 0.00025 \
    -o $OUT/candidate-E.pt | tee $OUT/tune-E.log
STORED=1 scripts/change_round_decision.sh $OUT 59 E=$OUT/candidate-E.pt
