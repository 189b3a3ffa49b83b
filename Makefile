# The two commands of the README:
#   make run    set up and start the whole system on the embedded default, with demo data
#   make test   set up and run ruff, lint-imports and the tests (SQLite by default; PostgreSQL when DATABASE_URL is set)

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# axe-core for the browser tests' accessibility check (tests/browser/package.json), installed once with npm ci
AXE_STAMP := tests/browser/node_modules/.installed
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test setup axe lint migrate-check bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

$(AXE_STAMP): tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error
	touch $(AXE_STAMP)

# Without npm the accessibility test skips (outside CI; .ci/run installs npm).
axe:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(AXE_STAMP); \
	else echo "npm not found: tests/browser/test_accessibility.py will skip (apt-get install npm)"; fi

setup: $(STAMP) axe

run: $(STAMP)
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi seed-demo
	@echo "共治已启动：门户 http://$(HOST):$(PORT)/  接口文档 http://$(HOST):$(PORT)/mp/v1/docs"
	@mkdir -p instance
	@# the periodic jobs (overdue marks, reminders, rollups…) run in the background, every minute, and stop with the server
	$(BIN)/flask --app wsgi run-periodic --every 60 > instance/periodic.log 2>&1 & periodic=$$!; \
	trap 'kill $$periodic 2>/dev/null' EXIT INT TERM; \
	$(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT)

test: $(STAMP) axe
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

migrate-check: $(STAMP)
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi db check

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) instance test-artifacts .pytest_cache tests/browser/node_modules
