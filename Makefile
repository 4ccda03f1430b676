# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
MELTANO_VENV := .meltano-venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MELTANO_STAMP := $(MELTANO_VENV)/.installed
MELTANO_VERSION := 4.4.1

.PHONY: setup demo test lint typecheck pytest bench clean system-deps

setup: $(STAMP) $(MELTANO_STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed" if sys.version_info < (3, 11) else 0)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"
	$(BIN)/python -m pip install --quiet -e . --group dev
	touch $@

# Meltano lives in its own environment: its pins are not the tap's business.
$(MELTANO_STAMP):
	$(PYTHON) -m venv $(MELTANO_VENV)
	$(MELTANO_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(MELTANO_VENV)/bin/python -m pip install --quiet "meltano==$(MELTANO_VERSION)"
	touch $@

demo: setup
	$(BIN)/python -m scripts.demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# Tests run in parallel, one worker per CPU (PYTEST_WORKERS=0: one at a time). Each worker
# has its own emulators and ports. A file's tests stay on one worker, so a module's shared
# fixture (the Meltano project and its installs) is built once; files go out in collection
# order, the slow Meltano file first (tests/conftest.py), so the workers end together.
PYTEST_WORKERS ?= auto

# PostgreSQL and Chromium for their tests, installed with apt when missing (as root).
system-deps:
	bash .ci/system-deps

pytest: setup system-deps
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder

test: lint typecheck pytest

bench: setup
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) $(MELTANO_VENV) .meltano .demo output
