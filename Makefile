# rasa-dvc-cml template: `make help` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash

VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# Real binaries first: pyenv shims fail inside a baked bot, whose .python-version says 3.10.
TOOLS_PATH := $(BIN):$(PATH)
export UV_PYTHON_DOWNLOADS ?= never
export DVC_NO_ANALYTICS ?= 1
export RASA_TELEMETRY_ENABLED ?= false
export ITERATIVE_DO_NOT_TRACK ?= true

DEMO := demo
PYTEST_ARGS ?=
# Two pytest-xdist workers: Rasa trains on about one core, so two tests at a time use both of a
# 2-core machine. tests/conftest.py keeps the tests that share a trained bot on one worker. Each
# worker installs its own bot environments: more workers cost more disk than they save here.
TEST_WORKERS ?= 2
XDIST := -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder
# The template's own Python; ruff.toml excludes the template folder (it lints itself once baked).
LINT_PATHS := hooks tests benchmarks

.PHONY: help install demo test test-fast lint bench bench-experiments clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-z_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

install: $(VENV)/.synced ## Install the template's tooling into .venv

$(VENV)/.synced: requirements-dev.txt
	@test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	@test -x $(VENV)/bin/uv || $(VENV)/bin/pip install --quiet --disable-pip-version-check "$$(grep '^uv==' requirements-dev.txt)"
	$(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(VENV)/bin/python -r requirements-dev.txt
	@touch $@

demo: install ## Bake the default bot into ./demo, install it, run its pipeline and push to the local remote
	rm -rf $(DEMO)
	PATH="$(TOOLS_PATH)" cookiecutter --no-input --output-dir $(DEMO) .
	cd $(DEMO)/rasa-assistant && PATH="$(TOOLS_PATH)" $(MAKE) --no-print-directory install repro push
	@echo "The demo bot is in $(DEMO)/rasa-assistant: cd there and run 'make help'."

test: install ## Run the whole suite, end-to-end included
	PATH="$(TOOLS_PATH)" $(VENV)/bin/python -m pytest $(XDIST) $(PYTEST_ARGS)

# CI= : leaving the e2e tests out is this target's purpose, so the CI guard (tests/conftest.py)
# must not fail it, e.g. on the template's own pull-request runs.
test-fast: install ## Run the suite without the slow end-to-end tests
	CI= PATH="$(TOOLS_PATH)" $(VENV)/bin/python -m pytest $(XDIST) -m "not e2e" $(PYTEST_ARGS)

lint: install ## Lint the template's own Python (hooks, tests, benchmarks): ruff check, ruff format --check
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)

bench: install ## Time bake, install and the pipeline against rasa train/test by hand, then experiments
	PATH="$(TOOLS_PATH)" $(VENV)/bin/python benchmarks/run.py --breakdown
	PATH="$(TOOLS_PATH)" $(VENV)/bin/python benchmarks/experiments.py

bench-experiments: install ## Time a TED-only sweep against one full dvc repro, and dvc queue -j 2 against -j 1
	PATH="$(TOOLS_PATH)" $(VENV)/bin/python benchmarks/experiments.py

clean: ## Remove the demo and caches
	rm -rf $(DEMO) .pytest_cache
