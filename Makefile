# Linli — every target creates .venv itself. Needs Python >= 3.12 (Django 6.x).
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Find an interpreter >= 3.12: PYTHON=... wins; then python3.13/3.12/python3 on PATH;
# then pyenv's install folders (pyenv shims refuse to run without PYENV_VERSION).
PY_CANDIDATES := python3.13 python3.12 python3 $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3) $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3)
PYTHON ?= $(shell for c in $(PY_CANDIDATES); do if $$c -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then command -v $$c; break; fi; done)

VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
MANAGE := $(VPY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help demo test lint fmt bench venv migrate messages clean

help:
	@echo "make demo   - install, migrate, load the demo street, serve on http://$(HOST):$(PORT)"
	@echo "make test   - install, lint, run the whole test suite (DATABASE_URL selects PostgreSQL)"
	@echo "make lint   - ruff + mypy"
	@echo "make bench  - benchmarks under bench/ (see README)"

$(STAMP): pyproject.toml $(wildcard linli/locale/*/LC_MESSAGES/*.po) $(wildcard linli/*/locale/*/LC_MESSAGES/*.po)
	@if [ -z "$(PYTHON)" ]; then echo "Linli needs Python >= 3.12 (Django 6). Install it or run: make $(MAKECMDGOALS) PYTHON=/path/to/python3.12"; exit 1; fi
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -e ".[dev]"
	$(VPY) tools/compile_translations.py
	@touch $(STAMP)

venv: $(STAMP)

migrate: $(STAMP)
	$(MANAGE) migrate --noinput

demo: $(STAMP)
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo --host $(HOST) --port $(PORT)
	@echo "  Serving on http://$(HOST):$(PORT)/  (Ctrl-C to stop)"
	$(MANAGE) runserver $(HOST):$(PORT)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy linli config

fmt: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: $(STAMP) lint
	$(VENV)/bin/pytest -n 2 $(PYTEST_ARGS)

# Refresh the catalogue after changing strings (needs gettext's xgettext; a developer
# step, not an install step), then compile with polib.
# Apps with their own catalogue (linli/<app>/locale/) are left out of the shared one;
# `make messages APP=surveys` refreshes just that app's catalogue.
APP_LOCALES := $(patsubst linli/%/locale,%,$(wildcard linli/*/locale))
messages: $(STAMP)
ifdef APP
	cd linli/$(APP) && ../../$(VPY) ../../manage.py makemessages -l en --ignore=tests
else
	$(MANAGE) makemessages -l en --ignore=.venv --ignore=bench --ignore=tools $(foreach a,$(APP_LOCALES),--ignore=linli/$(a))
	for a in $(APP_LOCALES); do (cd linli/$$a && ../../$(VPY) ../../manage.py makemessages -l en --ignore=tests) || exit 1; done
endif
	$(VPY) tools/compile_translations.py

bench: $(STAMP)
	$(VPY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 .pytest_cache .mypy_cache .ruff_cache
