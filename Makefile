# Triangulate — every target creates .venv from the pinned requirements when it is missing.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
DATA_DIR ?= ./data
export HOST PORT DATA_DIR

.PHONY: run test lint typecheck check-fixtures bench bench-batch clean db-upgrade test-postgres fuzz audit soak

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
	$(BIN)/python -m service.deploy.serve

# Run the whole test suite (lint, types, tests, fixtures).
test: $(BIN)/activate lint typecheck
	$(BIN)/python -m pytest
	$(BIN)/triangulate check fixtures/

# Lint with ruff, and the Dockerfile with hadolint.
lint: $(BIN)/activate
	$(BIN)/ruff check models service tests bench
	$(BIN)/hadolint Dockerfile

# Type-check the library and the service with mypy --strict.
typecheck: $(BIN)/activate
	$(BIN)/mypy

# Apply pending database migrations to DATABASE_URL, else DATA_DIR (the server also does on start).
db-upgrade: $(BIN)/activate
	$(BIN)/triangulate db upgrade

# Run the persistence tests on SQLite and on a throw-away local PostgreSQL (.ci/with-postgres).
test-postgres: $(BIN)/activate
	bash .ci/with-postgres $(BIN)/python -m pytest tests/persistence

# Fuzz /openapi.json with schemathesis: FUZZ_EXAMPLES per operation, FUZZ_SCENARIOS linked sequences (CI: 300, 300).
FUZZ_EXAMPLES ?= 3000
FUZZ_SCENARIOS ?= 3000
fuzz: $(BIN)/activate
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_SCENARIOS=$(FUZZ_SCENARIOS) $(BIN)/python -m pytest -q -s \
		tests/contract/test_fuzz_openapi.py tests/contract/test_fuzz_stateful.py

# 60 s mixed load (reconciles, reads, writes) on gunicorn: 0 errors, worker memory growth < 10 %.
soak: $(BIN)/activate
	$(BIN)/python bench/bench_soak.py --duration 60

# Security audit: bandit over models/ and service/, pip-audit over the pinned requirements.
audit: $(BIN)/activate
	bash scripts/audit.sh

# Run every golden fixture through the CLI.
check-fixtures: $(BIN)/activate
	$(BIN)/triangulate check fixtures/

# Print in-process reconcile and plot-rendering timings.
bench: $(BIN)/activate
	$(BIN)/python bench/bench_reconcile.py
	$(BIN)/python bench/bench_plot.py

# Batch truth discovery: 1M simulated claims through the CLI (+ crowd-kit RASA), and real data.
bench-batch: $(BIN)/activate
	$(BIN)/python bench/batch_synthetic.py
	$(BIN)/python bench/batch_population.py

# Remove the virtual environment and caches.
clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
