#!/usr/bin/env bash
# Link the realness classifier's training sources into one folder for scripts/realness_loso.py
# (docs/models.md): the nine sources of data/realness, the four other engines and, with
# --with-lomiri, lomiri-photos, and with --with-variety, blender-variety (--with-variety-more: the same
# source with the 140 further scenes of `make variety-renders-more`, as a folder of links to all 280 files),
# and with --with-styles, blender-styles (`make styled-renders`), and with --with-luxcore, the 60 LuxCoreRender
# renders of `make luxcore-renders`.
# Links only: the images stay where `make realness-data`, `make povray-renders`, `make engine-renders` and
# `make variety-renders` wrote them.
#   bash scripts/link_realness_round.sh data/realness-engines-round
#   bash scripts/link_realness_round.sh data/realness-photos-round --with-lomiri
#   bash scripts/link_realness_round.sh data/realness-variety-round --with-lomiri --with-variety
#   bash scripts/link_realness_round.sh data/realness-variety-more-round --with-lomiri --with-variety-more
#   bash scripts/link_realness_round.sh data/realness-styles-round --with-lomiri --with-variety --with-styles
#   bash scripts/link_realness_round.sh data/realness-luxcore-round --with-lomiri --with-variety --with-luxcore
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: link_realness_round.sh OUT [--with-lomiri] [--with-variety | --with-variety-more] [--with-styles] [--with-luxcore]}
variety_more=()
sources=(data/realness/real/* data/realness/synthetic/* data/realness-povray/synthetic/povray-examples
    data/realness-engines/synthetic/mitsuba data/realness-engines/synthetic/vtk data/realness-engines/synthetic/eevee)
for option in "${@:2}"; do
    case $option in
        --with-lomiri) sources+=(data/realness-extra/real/lomiri-photos) ;;
        --with-variety) sources+=(data/realness-variety/synthetic/blender-variety) ;;
        --with-styles) sources+=(data/realness-styles/synthetic/blender-styles) ;;
        --with-luxcore) sources+=(data/realness-luxcore/synthetic/luxcore) ;;
        --with-variety-more) variety_more=(data/realness-variety/synthetic/blender-variety
            data/realness-variety-more/synthetic/blender-variety) ;;
        *) echo "Expected --with-lomiri, --with-variety, --with-variety-more, --with-styles or --with-luxcore," \
            "got $option." >&2
            exit 2 ;;
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
if [ ${#variety_more[@]} -gt 0 ]; then  # one source from two folders: a folder of links to their files
    mkdir -p "$out/synthetic/blender-variety"
    for folder in "${variety_more[@]}"; do
        if [ -z "$(ls -A "$folder" 2>/dev/null)" ]; then
            echo "Expected images in $folder, found none. Fix: make variety-renders variety-renders-more." >&2
            exit 1
        fi
        for file in "$folder"/*.png; do
            case $file in *.partial.png) continue ;; esac  # a render still being written
            ln -sfn "$(realpath "$file")" "$out/synthetic/blender-variety/"
        done
    done
fi
echo "$out: $(ls "$out"/real | wc -l) real and $(ls "$out"/synthetic | wc -l) synthetic sources"
