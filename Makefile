# The two set-up commands: `make demo` and `make test`. Both create .venv when it is missing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME := $(CURDIR)/.dagster_home
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: demo test test-fast lint install dev validate bench replay train clean

$(STAMP): pyproject.toml setup.py
	@echo "==> creating $(VENV) and installing wholesaler-leads (about 1-2 minutes the first time)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	@$(BIN)/wholesaler demo

test: $(STAMP) lint
	@$(BIN)/python -m pytest

# The quick loop: no end-to-end, serving or PostgreSQL tests.
test-fast: $(STAMP)
	@$(BIN)/python -m pytest -m "not slow and not serving and not postgres"

lint: $(STAMP)
	@$(BIN)/ruff check .
	@$(BIN)/mypy

# The market day by day through Dagster (docs/operations.md), e.g. make replay ARGS="--days 30 --shift base_rate"
replay: $(STAMP)
	@$(BIN)/wholesaler replay $(ARGS)

# Your own lead file (docs/bring-your-own-data.md), e.g. make train ARGS="--dataset-spec my.yaml"
train: $(STAMP)
	@$(BIN)/wholesaler train $(ARGS)

dev: $(STAMP)
	@$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

validate: $(STAMP)
	@$(BIN)/dagster definitions validate -m wholesaler_assets.definitions

bench: $(STAMP)
	@$(BIN)/python benchmarks/bench_ingest.py

clean:
	rm -rf data data-replay data-leads .dagster_home/storage .dagster_home/history .dagster_home/schedules .dagster_home/logs
