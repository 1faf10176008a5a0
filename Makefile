# Triangulate — every target creates .venv from the pinned requirements when it is missing.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
DATA_DIR ?= ./data
export HOST PORT DATA_DIR

.PHONY: run test lint typecheck check-fixtures bench clean

# Create the virtual environment from the pinned dependency files (re-run when they change).
$(BIN)/activate: requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(BIN)/activate

# Start the service on $(HOST):$(PORT) with data under $(DATA_DIR).
run: $(BIN)/activate
	mkdir -p "$(DATA_DIR)"
	$(BIN)/gunicorn --config service/gunicorn_conf.py service.wsgi:app

# Run the whole test suite (lint, types, tests, fixtures).
test: $(BIN)/activate lint typecheck
	$(BIN)/python -m pytest
	$(BIN)/triangulate check fixtures/

# Lint with ruff.
lint: $(BIN)/activate
	$(BIN)/ruff check models service tests bench

# Type-check the library and the service with mypy --strict.
typecheck: $(BIN)/activate
	$(BIN)/mypy

# Run every golden fixture through the CLI.
check-fixtures: $(BIN)/activate
	$(BIN)/triangulate check fixtures/

# Print in-process reconcile timings.
bench: $(BIN)/activate
	$(BIN)/python bench/bench_reconcile.py

# Remove the virtual environment and caches.
clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
