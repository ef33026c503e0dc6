#!/usr/bin/env bash
# A decision set no choice has touched: val-only change datasets from 30 scenes of seed 11, which no
# training, threshold or earlier decision has seen (the seed-0 val split has decided many rounds;
# docs/models.md). Same sizes and samples as scripts/make_training_data.sh, 4 variants per scene (none:
# 2): 120 pairs per feature and `all`, 60 unchanged pairs; about 25 minutes on 2 cores. Resumable.
# The reflection and `all` sets carry labels version 2 (docs/labels.md), hence their names; the
# version-1 fresh11-reflection and fresh11-all decided the rounds of 2026-12-03 before stage 6.
# SEED picks other scenes for a new decision set once one is worn by use (SEED=13 writes fresh13-*;
# seeds 0, 1, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 139, 149, 151, 157, 163, 167, 173, 179, 181, 191, 193, 197, 199, 211, 223, 227, 229 and 233 are taken by the training, hand-made-scene, none-seed7, scale rounds,
# fresh and stage 9 sets; fresh23-* decided stages 10 and 11, fresh29-* the balanced rule, all on 2026-12-03;
# fresh31-* decided stage 12 on 2026-12-04, fresh37-* stage 13 and fresh41-* stage 14c the same day; fresh43-* the hysteresis round and fresh47-* its default rule, fresh53-* candidate D, fresh59-* the pooled thresholds and fresh61-* stage 15, on 2026-12-05; fresh41-59 were then pooled as training scenes for stage 15, fresh41-61 and 60 unchanged-pair scenes of seed 71 for stage 16, which fresh67-* decided; fresh73-* decided stage 16p; fresh79-* and fresh83-* pooled decided stage 16r, fresh89-* and fresh97-* pooled decided stage 17, and fresh101-* and fresh103-* pooled decided stage 18, and fresh107-* and fresh109-* pooled decide whether stage 18 is a better default; fresh113-* and fresh127-* pooled decide stage 19; fresh139-* and fresh149-* pooled decided stage 20 (not shipped) on 2026-12-06; fresh151-* and fresh157-* pooled decided stage 21 (not shipped), whose training took seed 163; fresh167-* and fresh173-* pooled decided stage 22 (not shipped), and fresh179-* and fresh181-* pooled decided stage 22r (not shipped), fresh191-* and fresh193-* pooled were to decide stage 23e, whose inputs were lost with the machine before it was scored, and fresh197-* and fresh199-* pooled decided stage 24v (not shipped), and fresh211-* and fresh223-* pooled decided stage 25m (not shipped)).
set -euo pipefail
cd "$(dirname "$0")/.."
SYNTHDIFF=${SYNTHDIFF:-.venv/bin/synthdiff}
OUT=${OUT:-data/change}
SEED=${SEED:-11}
common=(--scenes 30 --size 256 --seed "$SEED" --workers 2 --split 0,1,0)
"$SYNTHDIFF" generate --feature texture      "${common[@]}" --variants 4 --samples 8  --out "$OUT/fresh${SEED}-texture"
"$SYNTHDIFF" generate --feature illumination "${common[@]}" --variants 4 --samples 8  --out "$OUT/fresh${SEED}-illumination"
"$SYNTHDIFF" generate --feature transparency "${common[@]}" --variants 4 --samples 8  --out "$OUT/fresh${SEED}-transparency"
"$SYNTHDIFF" generate --feature reflection   "${common[@]}" --variants 4 --samples 16 --out "$OUT/fresh${SEED}-reflection-v2"
"$SYNTHDIFF" generate --feature all          "${common[@]}" --variants 4 --samples 16 --out "$OUT/fresh${SEED}-all-v2"
"$SYNTHDIFF" generate --feature none         "${common[@]}" --variants 2 --samples 8  --out "$OUT/fresh${SEED}-none"
