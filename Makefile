# govshare: `make demo` runs the portal on SQLite and a serverless broker; `make test` runs the suite.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# Development and test runs only; production sets DEBUG=false with SECRET_KEY and ALLOWED_HOSTS.
DEV_ENV := DEBUG=true
PYTEST_ARGS ?=

.PHONY: demo test lint format bench venv clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(PIP) install --quiet -e ".[test]"
	touch $@

venv: $(VENV)/.installed-test

demo: $(VENV)/.installed-test
	$(DEV_ENV) $(PY) manage.py migrate --noinput
	$(DEV_ENV) $(PY) manage.py seed_demo
	$(DEV_ENV) bash scripts/demo.sh

test: $(VENV)/.installed-test
	$(DEV_ENV) $(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed-test
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(VENV)/.installed-test
	$(DEV_ENV) $(PY) bench/catalog_bench.py
	$(DEV_ENV) $(PY) bench/ledger_bench.py
	$(DEV_ENV) $(PY) bench/sharing_bench.py

clean:
	rm -rf $(VENV) var .pytest_cache
