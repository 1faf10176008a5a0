# Triangulate. Targets create .venv from the pinned requirements when it is missing, in two
# levels: `make run` (and the other serving targets) installs only what serving needs
# (requirements.txt); `make test`, lint, typecheck and the other development targets add the
# development tools (requirements-dev.txt) into the same .venv. A stamp file per level records
# what is installed, so `make run` after `make test` installs nothing and `make test` after
# `make run` adds only the development tools.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
DATA_DIR ?= ./data
export HOST PORT DATA_DIR

RUNTIME := $(VENV)/.installed-runtime
DEV     := $(VENV)/.installed-dev

# The quick set of tests: everything but the slow groups (browser, fuzzing, soak, PostgreSQL
# outages, fault injection); see the markers in pyproject.toml.
QUICK_MARKERS := not (browser or fuzz or soak or postgres_outage or faults)

.PHONY: run test test-quick lint typecheck check-fixtures bench bench-batch clean db-upgrade \
	test-postgres fuzz audit soak

# Serving: the pinned runtime requirements and the project itself (re-run when they change).
$(RUNTIME): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

# Development: the test, lint and type-checking tools on top of the runtime.
$(DEV): $(RUNTIME) requirements-dev.txt requirements-dask.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# Start the service on $(HOST):$(PORT) with data under $(DATA_DIR).
run: $(RUNTIME)
	mkdir -p "$(DATA_DIR)"
	$(BIN)/python -m service.deploy.serve

# Run the whole test suite (lint, types, tests, fixtures): every test but the `serial` ones on
# TEST_WORKERS pytest-xdist workers (one a core; each on a PostgreSQL database of its own), then
# the serial ones alone (they stop the shared PostgreSQL server or time a server's answers).
TEST_WORKERS ?= auto
test: $(DEV) lint typecheck
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal -m "not serial"
	$(BIN)/python -m pytest -m serial
	$(BIN)/triangulate check fixtures/

# The quick set (a few minutes): lint, types and every test outside the slow groups.
test-quick: $(DEV) lint typecheck
	$(BIN)/python -m pytest -m "$(QUICK_MARKERS)"

# Lint with ruff, and the Dockerfile with hadolint.
lint: $(DEV)
	$(BIN)/ruff check models service tests bench
	$(BIN)/hadolint Dockerfile

# Type-check the library and the service with mypy --strict.
typecheck: $(DEV)
	$(BIN)/mypy

# Apply pending database migrations to DATABASE_URL, else DATA_DIR (the server also does on start).
db-upgrade: $(RUNTIME)
	$(BIN)/triangulate db upgrade

# Run the persistence tests on SQLite and on a throw-away local PostgreSQL (.ci/with-postgres).
test-postgres: $(DEV)
	bash .ci/with-postgres $(BIN)/python -m pytest tests/store

# Fuzz /openapi.json with schemathesis: FUZZ_EXAMPLES per operation, FUZZ_SCENARIOS linked sequences (CI: 300, 300).
FUZZ_EXAMPLES ?= 3000
FUZZ_SCENARIOS ?= 3000
fuzz: $(DEV)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_SCENARIOS=$(FUZZ_SCENARIOS) $(BIN)/python -m pytest -q -s \
		tests/contract/test_fuzz_openapi.py tests/contract/test_fuzz_stateful.py

# 60 s mixed load (reconciles, reads, writes) on gunicorn: 0 errors, worker memory growth < 10 %.
soak: $(RUNTIME)
	$(BIN)/python bench/bench_soak.py --duration 60

# Security audit: bandit over models/ and service/, pip-audit over the pinned requirements.
audit: $(DEV)
	bash scripts/audit.sh

# Run every golden fixture through the CLI.
check-fixtures: $(RUNTIME)
	$(BIN)/triangulate check fixtures/

# Print in-process reconcile and plot-rendering timings.
bench: $(RUNTIME)
	$(BIN)/python bench/bench_reconcile.py
	$(BIN)/python bench/bench_plot.py

# Batch truth discovery: 1M simulated claims through the CLI (+ crowd-kit RASA), and real data.
bench-batch: $(RUNTIME)
	$(BIN)/python bench/batch_synthetic.py
	$(BIN)/python bench/batch_population.py

# Remove the virtual environment and caches.
clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
