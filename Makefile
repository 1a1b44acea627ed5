# jaki: `make run` starts the API on the embedded default with demo data; `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := wsgi.py

.PHONY: run test test-services lint format worker bench migrate seed clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

# Two stamps: running jaki needs requirements.txt only; tests, lint and benchmarks add requirements-dev.txt.
$(BIN)/.installed-runtime: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(BIN)/.installed: $(BIN)/.installed-runtime requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(BIN)/.installed-runtime  ## create the venv (runtime only), migrate, load demo data, serve on HOST:PORT (default 127.0.0.1:5000)
	$(BIN)/flask db upgrade heads
	$(BIN)/flask demo seed
	$(BIN)/flask run --host $(HOST) --port $(PORT)

test: $(BIN)/.installed  ## run the test suite on the embedded default (SQLite, jobs in-process)
	$(BIN)/python -m pytest

test-services: $(BIN)/.installed  ## run the suite against PostgreSQL and Redis (TEST_DATABASE_URL, TEST_REDIS_URL)
	@test -n "$$TEST_DATABASE_URL" || (echo "set TEST_DATABASE_URL" && exit 2)
	@test -n "$$TEST_REDIS_URL" || (echo "set TEST_REDIS_URL" && exit 2)
	$(BIN)/python -m pytest --require-services

lint: $(BIN)/.installed  ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check jaki config tests bench wsgi.py gunicorn.conf.py

format: $(BIN)/.installed  ## ruff autoformat
	$(BIN)/ruff format jaki config tests bench wsgi.py gunicorn.conf.py

migrate: $(BIN)/.installed-runtime  ## apply migrations to DATABASE_URL (or the embedded SQLite file)
	$(BIN)/flask db upgrade heads

seed: $(BIN)/.installed-runtime  ## load demo data (idempotent; refused with JAKI_ENV=production)
	$(BIN)/flask demo seed

worker: $(BIN)/.installed-runtime  ## start an rq worker with the scheduler on every queue (needs REDIS_URL)
	$(BIN)/flask jobs worker

bench: $(BIN)/.installed  ## run the benchmarks; JSON results in bench/results/
	$(BIN)/python -m bench

clean:  ## remove the venv and the embedded database
	rm -rf $(VENV) instance
