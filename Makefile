# Packline — `make run` to try it, `make test` to test it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
PORT ?= 5000
PYTEST_ARGS ?= -n 2

.PHONY: run test install install-dev assets migrate bench lint clean

$(VENV)/.installed: requirements.txt
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --upgrade pip
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

# Tests and tools on top of the runtime (make test, lint, bench).
$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

app/static/vendor/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js (apt-get install nodejs npm)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p app/static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js app/static/vendor/htmx.min.js
	@touch $@

install: $(VENV)/.installed app/static/vendor/.installed

install-dev: install $(VENV)/.installed-dev

assets: app/static/vendor/.installed

migrate: install
	$(FLASK) db upgrade

## Install everything, migrate, seed the demo brand once, start web + worker + scheduler.
run: install
	$(PY) -m app.devserver --port $(PORT)

## The whole test suite (TEST_DATABASE_URL=postgresql://... selects PostgreSQL).
test: install-dev
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install-dev
	$(PY) -m bench

lint: install-dev
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) node_modules app/static/vendor
