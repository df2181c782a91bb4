# `make demo` and `make test` work on a fresh machine: each creates .venv when missing and installs
# torch 2.14.1 + torchaudio 2.11.0 (from the local wheel cache) and this package in editable mode.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.centaurus-installed

.PHONY: demo test lint docs bench install

install: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.14.1 torchaudio==2.11.0
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The demo trains a fixed number of steps per network, so a busy machine makes it slower, never different.
demo: $(STAMP)
	$(VENV)/bin/centaurus-nas search studies/kws-quick.yaml
	$(VENV)/bin/centaurus-nas status runs/kws-quick
	$(VENV)/bin/centaurus-nas report runs/kws-quick
	@echo "demo report: $(CURDIR)/runs/kws-quick/report/report.html"

# The storage tests start a throw-away PostgreSQL server; ensure-postgres installs Debian's package when missing.
test: $(STAMP)
	scripts/ensure-postgres
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# The documentation site (mkdocs.yml, docs/): the CLI page is regenerated from the parser and the config
# reference from the field declarations (fieldspec), then --strict
# turns every warning (a broken link, a missing page, an API reference that no longer resolves) into a
# failure. The site is written to site/.
docs: $(STAMP)
	$(PY) -m nas.cli_reference docs/cli.md
	$(PY) -m nas.config_reference docs/config-reference.md
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

bench: $(STAMP)
	$(PY) benchmarks/contraction_plans.py
