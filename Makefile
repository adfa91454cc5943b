# DICOM Workbook: set-up and tests in two commands.
#   make lab    build .venv and data/, then open the lessons in JupyterLab
#   make test   build .venv and data/, then run every test (unit, data, notebooks, browser)
# Both are idempotent: a second run reinstalls nothing and rebuilds no data that
# still matches data/MANIFEST.sha256.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
LAB_STAMP  := $(VENV)/.installed-lab
TEST_STAMP := $(VENV)/.installed-test
JUPYTER_PORT ?= 8888
# pytest-xdist: one worker per core; tests that share a session's work (one lesson's run,
# the browser, one module's server) share a worker (tests/conftest.py, xdist_scope)
PYTEST_WORKERS ?= auto
PARALLEL := -n $(PYTEST_WORKERS) --dist loadscope

.PHONY: lab test data data-strict venv notebooks lint unit lessons browser benchmarks manifest clean

lab: data
	$(BIN)/jupyter lab --notebook-dir=notebooks --port=$(JUPYTER_PORT) $(if $(filter 0,$(shell id -u)),--allow-root,)

# the test packages go in before data/ is built: the build records the generators'
# fingerprint (installed packages included), which lets the portability test skip
# regenerating at the default dispatch what this build just generated
test: $(TEST_STAMP) data-strict
	$(BIN)/ruff check .
	$(BIN)/pytest $(PARALLEL) tests

# pieces of `make test`, for working on one part. Each lesson runs once per pytest
# session (tests/lesson_runs.py): its outputs compared with the committed ones as nbval
# does, its solutions checked, data/ read-only, its written files searched for PHI.
unit: $(TEST_STAMP) data-strict
	$(BIN)/pytest $(PARALLEL) tests -m "not browser and not lessons"
lessons: $(TEST_STAMP) data-strict
	$(BIN)/pytest $(PARALLEL) tests -m lessons
browser: $(TEST_STAMP) data-strict
	$(BIN)/pytest tests/browser
lint: $(TEST_STAMP)
	$(BIN)/ruff check .

# `make lab` warns and goes on if this machine's generators write other Pixel Data
# values than the manifest (see data/README.md); the tests accept no difference.
data: $(LAB_STAMP)
	$(BIN)/python -m helpers.data build
data-strict: $(LAB_STAMP)
	$(BIN)/python -m helpers.data build --strict

venv: $(LAB_STAMP)

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "The workbook needs Python 3.11 or newer: run make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)

# pip byte-compiles the packages one file at a time (about 40 s here); compileall does it
# on every core after the install (about 20 s). It cannot be left to Python at import:
# where PYTHONDONTWRITEBYTECODE is set (as on CI machines), nothing would ever be cached
# and every kernel and test process would compile each module it imports again.
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check --no-compile
COMPILE := $(BIN)/python -m compileall -q -j 0 $(VENV)/lib

$(LAB_STAMP): requirements.txt pyproject.toml | $(VENV)/bin/python
	$(PIP) -r requirements.txt
	$(PIP) --no-deps -e .
	$(COMPILE)
	@# JupyterLab saves widget state with the notebook, so a viewer reopened after a save
	@# shows its picture instead of "Error displaying widget: model not found"
	mkdir -p $(VENV)/share/jupyter/lab/settings
	printf '%s\n' '{"@jupyter-widgets/jupyterlab-manager:plugin": {"saveState": true}}' \
		> $(VENV)/share/jupyter/lab/settings/overrides.json
	touch $@

$(TEST_STAMP): requirements-dev.txt $(LAB_STAMP)
	$(PIP) -r requirements-dev.txt
	$(COMPILE)
	touch $@

# Re-execute every lesson and save its outputs (run after changing a lesson or a
# helper it calls; `make lessons` fails on a stale notebook).
notebooks: data
	$(BIN)/python -m helpers.lessons.notebooks execute notebooks/*.ipynb

# Regenerate the synthetic data and rewrite the committed manifest (after a
# deliberate change to a generator).
manifest: $(LAB_STAMP)
	$(BIN)/python -m helpers.data build --update-manifest

# Benchmark-only peers (python-gdcm) go into their own folder, not into .venv, so the
# lessons' environment (and lesson 0's decoder table) stays exactly as pinned.
BENCH_SITE := $(VENV)/bench-site
$(BENCH_SITE)/.installed: benchmarks/requirements.txt $(TEST_STAMP)
	$(PIP) --target $(BENCH_SITE) --no-deps -r benchmarks/requirements.txt
	touch $@

benchmarks: data $(BENCH_SITE)/.installed
	PYTHONPATH=$(BENCH_SITE) $(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) output
