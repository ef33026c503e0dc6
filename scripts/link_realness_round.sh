#!/usr/bin/env bash
# Link the realness classifier's training sources into one folder for scripts/realness_loso.py
# (docs/models.md): the nine sources of data/realness, the four other engines and, with
# --with-lomiri, lomiri-photos, and with --with-variety, blender-variety. Links only: the images stay where
# `make realness-data`, `make povray-renders`, `make engine-renders` and `make variety-renders` wrote them.
#   bash scripts/link_realness_round.sh data/realness-engines-round
#   bash scripts/link_realness_round.sh data/realness-photos-round --with-lomiri
#   bash scripts/link_realness_round.sh data/realness-variety-round --with-lomiri --with-variety
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: link_realness_round.sh OUT [--with-lomiri] [--with-variety]}
sources=(data/realness/real/* data/realness/synthetic/* data/realness-povray/synthetic/povray-examples
    data/realness-engines/synthetic/mitsuba data/realness-engines/synthetic/vtk data/realness-engines/synthetic/eevee)
for option in "${@:2}"; do
    case $option in
        --with-lomiri) sources+=(data/realness-extra/real/lomiri-photos) ;;
        --with-variety) sources+=(data/realness-variety/synthetic/blender-variety) ;;
        *) echo "Expected --with-lomiri or --with-variety, got $option." >&2; exit 2 ;;
    esac
done
for source in "${sources[@]}"; do
    if [ ! -d "$source" ] || [ -z "$(ls -A "$source")" ]; then
        echo "Expected images in $source, found none. Fix: make the sources first (docs/models.md)." >&2
        exit 1
    fi
    label=$(basename "$(dirname "$source")")
    mkdir -p "$out/$label"
    ln -sfn "$(realpath "$source")" "$out/$label/$(basename "$source")"
done
echo "$out: $(ls "$out"/real | wc -l) real and $(ls "$out"/synthetic | wc -l) synthetic sources"
