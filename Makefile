# The two commands of the README:
#   make run    set up and start the whole system on the embedded default, with demo data
#   make test   set up and run ruff, lint-imports and the tests (SQLite by default; PostgreSQL when DATABASE_URL is set)

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test setup lint migrate-check bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi seed-demo
	@echo "共治已启动：门户 http://$(HOST):$(PORT)/  接口文档 http://$(HOST):$(PORT)/mp/v1/docs"
	@mkdir -p instance
	@# the periodic jobs (overdue marks, reminders, rollups…) run in the background, every minute, and stop with the server
	$(BIN)/flask --app wsgi run-periodic --every 60 > instance/periodic.log 2>&1 & periodic=$$!; \
	trap 'kill $$periodic 2>/dev/null' EXIT INT TERM; \
	$(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT)

test: $(STAMP)
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
	rm -rf $(VENV) instance test-artifacts .pytest_cache
