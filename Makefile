# Two commands do everything on a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q

.PHONY: run test test-pg lint migrate demo pwa migration clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# Stamps re-run the install when pyproject.toml changes.
$(VENV)/.runtime: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -e .
	@touch $@

$(VENV)/.test: pyproject.toml $(VENV)/.runtime
	$(PIP) install -e ".[test]"
	@touch $@

# The PWA is built when it exists (pwa/package.json); the server serves pwa/dist.
pwa:
	@if [ -f pwa/package.json ]; then cd pwa && npm install --no-audit --no-fund && npm run build; fi

migrate: $(VENV)/.runtime
	$(VENV)/bin/fieldbook migrate

demo: migrate
	$(VENV)/bin/fieldbook demo --if-empty

run: $(VENV)/.runtime pwa demo
	$(VENV)/bin/fieldbook serve

lint: $(VENV)/.test
	$(VENV)/bin/ruff check backend sync tests bench
	$(VENV)/bin/ruff format --check backend sync tests bench
	$(VENV)/bin/mypy

test: $(VENV)/.test lint
	$(PY) -m pytest

# The integration tests again on a throwaway PostgreSQL cluster (what CI does after `make test`).
test-pg: $(VENV)/.test
	@eval "$$(scripts/pg-throwaway start)"; \
	trap 'scripts/pg-throwaway stop "$$PG_THROWAWAY_DIR"' EXIT; \
	$(PY) -m pytest -m integration

# Developers: a new auto migration after changing tables, e.g. make migration DESC="add visit notes"
migration: $(VENV)/.runtime
	PICCOLO_CONF=backend.piccolo_conf $(VENV)/bin/piccolo migrations new fieldbook --auto --desc "$(DESC)"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
