# Two commands do everything on a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q

.PHONY: run test test-pg lint migrate demo pwa chromium migration clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# Stamps re-run the install when pyproject.toml changes.
$(VENV)/.runtime: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -e .
	@touch $@

$(VENV)/.test: pyproject.toml $(VENV)/.runtime
	$(PIP) install -e ".[test]"
	@touch $@

# The PWA (pwa/): npm dependencies from the lock file, type-checked and built into pwa/dist, which the server serves.
pwa/node_modules/.stamp: pwa/package.json pwa/package-lock.json
	cd pwa && npm ci --no-audit --no-fund
	@touch $@

pwa: pwa/node_modules/.stamp
	cd pwa && npm run build

# The end-to-end tests drive Debian's Chromium (never a browser downloaded by a test tool), with a CJK font so the
# Chinese screenshots show text.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BROWSER_PACKAGES := chromium fonts-wqy-microhei
chromium:
	@if ! test -x /usr/bin/chromium || ! dpkg -s fonts-wqy-microhei >/dev/null 2>&1; then \
		$(SUDO) apt-get install -y --no-install-recommends $(BROWSER_PACKAGES) \
		|| ($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends $(BROWSER_PACKAGES)); \
	fi

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

test: $(VENV)/.test lint pwa chromium
	cd pwa && npm test
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
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis pwa/node_modules pwa/dist test-artifacts
