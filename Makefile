# synthdiff set-up and checks. `make demo` and `make test` are the two commands in the README.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
# The CPU build of PyTorch; a plain `torch` requirement would pull a multi-GB CUDA build.
TORCH ?= torch==2.13.0

.PHONY: demo test setup setup-dev system-deps lint typecheck pytest benchmark realness-data realness-sources realness-test-renders povray-renders engine-renders luxcore-renders variety-renders variety-renders-more styled-renders change-sets gap-example clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet "$(TORCH)"
	$(BIN)/pip install --quiet -e .
	touch $@

# The tests run Blender and the study web app for real, so the development set-up includes the
# `blender` (bpy) and `study` extras.
$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[dev,blender,study,backbones]"
	touch $@

setup: $(VENV)/.installed

setup-dev: $(VENV)/.installed-dev system-deps

# Debian packages the tests need: Chromium, to check that reports open in a browser.
system-deps:
	@bash scripts/install-system-deps.sh

demo: setup
	$(BIN)/synthdiff demo

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

pytest: setup-dev
	$(BIN)/python -m pytest

test: setup-dev lint typecheck pytest

# Speed and load measurements (minutes; not part of the tests). Results: docs/performance.md.
benchmark: setup-dev
	$(BIN)/python benchmarks/bench_compare.py
	$(BIN)/python benchmarks/bench_generate.py
	$(BIN)/python benchmarks/bench_change.py
	$(BIN)/python benchmarks/bench_realness.py --model realness-effnet
	$(BIN)/python benchmarks/bench_gap.py
	$(BIN)/python benchmarks/bench_study.py

# The realness classifier's image sources (docs/realness.md): photos from scikit-image, matplotlib and
# Debian's opencv-doc, and renders from generated datasets (render those first).
realness-data: setup-dev
	@bash scripts/install-system-deps.sh opencv-doc
	$(BIN)/python scripts/make_realness_data.py

# Renders from another engine: Debian's POV-Ray example scenes, a training and a test-only source.
povray-renders: setup-dev
	@bash scripts/install-system-deps.sh povray povray-examples
	$(BIN)/python scripts/make_povray_renders.py

# Renders from three more engines (Mitsuba 3, VTK, Blender EEVEE), training and test-only sources. Mitsuba
# and VTK are not synthdiff dependencies: they get their own environment, .venv-engines.
ENGINES := .venv-engines
SKIMAGE_DATA = $(shell $(BIN)/python -c "import skimage, os; print(os.path.dirname(skimage.__file__))")/data
HDRIS = $(shell $(BIN)/python -c "import bpy; print(bpy.utils.system_resource('DATAFILES'))" 2>/dev/null | tail -1)/studiolights/world
$(ENGINES)/.installed:
	$(PYTHON) -m venv $(ENGINES)
	$(ENGINES)/bin/pip install --quiet mitsuba==3.9.1 vtk==9.7.2 "numpy<2" pillow
	# LuxCore's CPU renderer only: --no-deps leaves out the CUDA compiler its wheel asks for
	$(ENGINES)/bin/pip install --quiet --no-deps pyluxcore==2.11.2
	touch $@

engine-renders: setup-dev $(ENGINES)/.installed
	@set -e; textures="$(addprefix $(SKIMAGE_DATA)/,astronaut.png brick.png chelsea.png coffee.png grass.png gravel.png)"; \
	for engine in mitsuba vtk; do \
		$(ENGINES)/bin/python scripts/make_engine_renders.py --engine $$engine --count 80 --out data/realness-engines \
			--textures $$textures --hdris $(HDRIS); \
		$(ENGINES)/bin/python scripts/make_engine_renders.py --engine $$engine --first 1000 --count 30 \
			--name $$engine-showcase --out data/realness-test --textures $$textures --hdris $(HDRIS); \
	done; \
	$(ENGINES)/bin/python scripts/make_engine_renders.py --engine luxcore --first 1000 --count 30 \
		--name luxcore-showcase --out data/realness-test --textures $$textures --hdris $(HDRIS)
	$(BIN)/python scripts/make_engine_renders.py --engine eevee --count 50 --out data/realness-engines
	$(BIN)/python scripts/make_engine_renders.py --engine eevee --first 1000 --count 20 --name eevee-showcase \
		--out data/realness-test

# A synthetic training source whose content is not the generator's: material close-ups, swatch grids,
# product shots, 3D text, terrains, mirror spheres on checkers, clutter (Cycles; 70 minutes here on 2
# cores shared with other jobs).
# The default realness model's sixteenth training source (docs/models.md, "The LuxCore round"): LuxCoreRender
# on the engine-neutral scenes 1030 to 1089 (seed 301; the scenes of the spent gates luxcore-fresh and
# luxcore-fresh2). About 35 minutes on 2 cores; resumable.
luxcore-renders: setup-dev $(ENGINES)/.installed
	@set -e; textures="$(addprefix $(SKIMAGE_DATA)/,astronaut.png brick.png chelsea.png coffee.png grass.png gravel.png)"; \
	$(ENGINES)/bin/python scripts/make_engine_renders.py --engine luxcore --first 1030 --count 60 --name luxcore \
		--out data/realness-luxcore --textures $$textures --hdris $(HDRIS)

variety-renders: setup-dev
	$(BIN)/python scripts/make_variety_renders.py --out data/realness-variety/synthetic/blender-variety --count 140

# The same source's next 140 scenes (indices 140 to 279, same seed), kept in a folder of their own so that
# the 140 above stay as they were.
variety-renders-more: setup-dev
	$(BIN)/python scripts/make_variety_renders.py --out data/realness-variety-more/synthetic/blender-variety \
		--first 140 --count 140

# The same kinds of scene (indices 280 to 419, same seed) rendered in other styles, in turns: Blender's
# Workbench, EEVEE, and Cycles made to look like a classic ray tracer (hard shadows, no diffuse bounces,
# no noise).
styled-renders: setup-dev
	$(BIN)/python scripts/make_variety_renders.py --out data/realness-styles/synthetic/blender-styles \
		--first 280 --count 140 --styled

# A synthetic source for testing only (never trained on): Blender scenes unlike the generator's.
realness-test-renders: setup-dev
	$(BIN)/python scripts/make_realness_test_renders.py

# Every image source of the realness rounds, from scratch, with fixed seeds (docs/models.md): the first
# variant of the generator renders that `realness-data` copies (the same images the full datasets of
# scripts/make_training_data.sh and make_unseen_scene_data.sh start with), the photos, POV-Ray, the
# other engines, the varied and styled Blender renders and the test-only renders, then the folders of links that
# scripts/realness_loso.py and realness_scales.py read. Several hours on 2 cores (on 2026-12-07, on a machine
# shared with other work, the steps before the varied renders took 2 h 23 min; those alone take about 70
# minutes); every step resumes where it stopped.
# The two generator sets are read for their reference renders only; where a folder already holds the
# full dataset (more variants, same seed and scenes), it is resumed at its own variant count, since
# `generate` refuses to shrink a dataset.
variants_in = $$($(BIN)/python -c "import json, pathlib; p = pathlib.Path('$(1)/dataset.json'); \
	print(json.loads(p.read_text())['options']['variants'] if p.is_file() else 1)")
realness-sources: setup-dev
	$(BIN)/synthdiff generate --feature texture --scenes 100 --size 256 --seed 0 --workers 2 \
		--variants $(call variants_in,data/change/texture) --samples 8 --out data/change/texture
	bash scripts/make_realness_renders.sh
	$(BIN)/synthdiff generate --feature texture --scene examples/exam.blend --scenes 6 --size 256 --seed 1 \
		--workers 2 --split 0,0,1 --variants $(call variants_in,data/unseen/texture) --samples 8 --out data/unseen/texture
	$(MAKE) realness-data povray-renders engine-renders luxcore-renders variety-renders styled-renders \
		realness-test-renders
	bash scripts/link_realness_round.sh data/realness-photos-round --with-lomiri
	bash scripts/link_realness_round.sh data/realness-variety-round --with-lomiri --with-variety
	bash scripts/link_realness_round.sh data/realness-styles-round --with-lomiri --with-variety --with-styles
	bash scripts/link_realness_round.sh data/realness-luxcore-round --with-lomiri --with-variety --with-luxcore

# The change detectors' sets that the default's training and test table read (docs/models.md, stage
# 12): stage 6b's version-2 sets, the unchanged pairs of seed 7, the mixed set, the 6-variant folders.
# About two hours on 2 cores; every step resumes. The generated data are not in the repository, so a
# fresh machine needs this before any change-detection round.
change-sets: setup-dev
	bash scripts/make_stage6b_data.sh
	$(BIN)/synthdiff generate --feature none --scenes 60 --size 256 --seed 7 --workers 2 --variants 4 --samples 8 \
		--split 0,0.5,0.5 --out data/change/none-seed7
	$(BIN)/synthdiff generate --feature mixed --scenes 100 --size 256 --seed 0 --workers 2 --variants 4 --samples 8 \
		--out data/change/mixed
	bash scripts/make_stage8_data.sh

# `synthdiff gap` on generated renders against the photos bundled in installed packages (docs/gap.md).
gap-example: setup-dev
	@bash scripts/gap_example.sh

clean:
	rm -rf $(VENV) $(ENGINES) .pytest_cache .mypy_cache .ruff_cache synthdiff-demo gap-example
