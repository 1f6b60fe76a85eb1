# govshare: `make demo` runs the portal on SQLite and a serverless broker; `make test` runs the suite.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
UV := $(VENV)/bin/uv
# Hashed pins compiled from pyproject.toml's ranges by `make lock`: runtime only (production) and
# runtime + the test extra (this venv).
LOCK_BASE := requirements/base.txt
LOCK_TEST := requirements/test.txt
LOCK_FLAGS := --quiet --generate-hashes --python-version 3.11 --python-platform linux \
	--custom-compile-command "make lock"
LOCK_ARGS ?=
# Development and test runs only; production sets DEBUG=false with SECRET_KEY and ALLOWED_HOSTS.
DEV_ENV := DEBUG=true
PYTEST_ARGS ?=
# The demo world's language (seed_demo --lang): `make demo DEMO_LANG=zh-hans` builds it in Chinese.
# `make demo LANG=zh-hans` does too, but only when LANG is given on make's command line: from the
# environment LANG is the shell's locale (C.UTF-8, en_US.UTF-8 ...), never a demo language, and
# the command line's value is kept from the recipes, where it would be taken for the locale.
DEMO_LANG ?= en
# The demo portal's port on 127.0.0.1: `make demo PORT=8001`.
PORT ?= 8000
ifeq ($(origin LANG),command line)
DEMO_LANG := $(LANG)
unexport LANG
endif

# Translations (README "Translations"): each locale/<lang>/LC_MESSAGES/*.po is the source, kept in
# git; its .mo is built from it by msgfmt (what `manage.py compilemessages` runs) for venv, demo
# and test. I18N_IGNORE is what makemessages skips (tests/test_translations.py reads this line).
I18N_IGNORE := .venv var tests bench tools test-artifacts
I18N_LOCALES := zh_Hans
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/*.po))

.PHONY: demo test lint format bench venv lock clean messages compilemessages

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Exactly the locked versions, each checked against its hash; then the project itself, editable,
# without resolving anything (its dependencies are all in the lock).
$(VENV)/.installed-test: $(LOCK_TEST) pyproject.toml | $(VENV)/bin/python
	$(PIP) install --quiet --require-hashes -r $(LOCK_TEST)
	$(PIP) install --quiet --no-deps -e .
	touch $@

venv: $(VENV)/.installed-test $(MO_FILES)

# Same flags as Django's compilemessages; only a .po newer than its .mo is compiled again.
$(MO_FILES): %.mo: %.po
	msgfmt --check-format -o $@ $<

compilemessages: $(MO_FILES)

# After adding or changing a marked string: extract every string of the project into the .po
# files (new ones arrive empty, or fuzzy when gettext guesses from a similar one), then check.
# Translate what the check lists (terms: docs/glossary-zh.md), and run it again until it passes.
messages: $(VENV)/.installed-test
	$(DEV_ENV) $(PY) manage.py makemessages $(addprefix -l ,$(I18N_LOCALES)) \
		$(addprefix --ignore=,$(I18N_IGNORE)) --add-location=file --no-obsolete
	@for po in locale/*/LC_MESSAGES/*.po; do printf '%s: ' $$po; \
		msgfmt --check --statistics -o /dev/null $$po; done
	$(MAKE) compilemessages
	$(DEV_ENV) $(VENV)/bin/pytest -q tests/test_translations.py

demo: $(VENV)/.installed-test $(MO_FILES)
	$(DEV_ENV) $(PY) manage.py migrate --noinput
	$(DEV_ENV) $(PY) manage.py seed_demo --lang $(DEMO_LANG)
	$(DEV_ENV) PORT=$(PORT) bash scripts/demo.sh

test: $(VENV)/.installed-test $(MO_FILES)
	$(DEV_ENV) $(VENV)/bin/pytest $(PYTEST_ARGS)

# Style, the import layers (import-linter contracts in pyproject.toml) and types (mypy; the
# Django plugin loads the settings, hence DEBUG=true).
lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(DEV_ENV) $(VENV)/bin/mypy

format: $(VENV)/.installed-test
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(VENV)/.installed-test
	$(DEV_ENV) $(PY) bench/catalog_bench.py
	$(DEV_ENV) $(PY) bench/catalog_bench.py --lang zh-hans
	$(DEV_ENV) $(PY) bench/ledger_bench.py
	$(DEV_ENV) $(PY) bench/sharing_bench.py
	$(DEV_ENV) $(PY) bench/dcat_bench.py

# Recompile both locks after editing the dependencies in pyproject.toml, then commit them. Pins
# still inside the ranges are kept; `make lock LOCK_ARGS=--upgrade` moves every pin to the newest
# release the ranges allow (`LOCK_ARGS="--upgrade-package django"` just one).
lock: | $(VENV)/bin/python
	$(PIP) install --quiet uv
	$(UV) pip compile pyproject.toml $(LOCK_FLAGS) $(LOCK_ARGS) -o $(LOCK_BASE)
	$(UV) pip compile pyproject.toml --extra test $(LOCK_FLAGS) $(LOCK_ARGS) -o $(LOCK_TEST)

clean:
	rm -rf $(VENV) var .pytest_cache
