# wardsafe: `make run` serves the API with demo data; `make test` runs the suite.
# Needs only python3 (3.11+) and make; everything else is installed into .venv.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
UV_VERSION := 0.13.9
HOST   ?= 127.0.0.1
PORT   ?= 8000
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_LINK_MODE := copy

.PHONY: run test install install-dev lint format typecheck check migrate bench clean help

help:
	@echo "make run    - install, migrate SQLite under var/, import units, seed demo data, serve on $(HOST):$(PORT) (development mode)"
	@echo "make test   - install test tools and run the whole suite (WARDSAFE_TEST_DATABASE_URL for PostgreSQL)"
	@echo "make check  - ruff, ruff format --check, mypy"
	@echo "make bench  - the benchmark (BENCH_SCALE=small for the quick set)"

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# --inexact keeps uv itself (and pip) in the environment it manages.
install: $(BIN)/uv
	$(BIN)/uv sync --frozen --inexact --no-dev

install-dev: $(BIN)/uv
	$(BIN)/uv sync --frozen --inexact

# wardsafe defaults to production; a local run with demo data asks for development.
run migrate: export WARDSAFE_ENV = development

run: install
	$(BIN)/wardsafe migrate
	$(BIN)/wardsafe import-units
	$(BIN)/wardsafe seed-demo
	$(BIN)/wardsafe serve --host $(HOST) --port $(PORT)

test: install-dev
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: install-dev
	$(BIN)/mypy

check: lint typecheck

migrate: install
	$(BIN)/wardsafe migrate

bench: install-dev
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
