# evalplatform — `make run` and `make test` are the whole set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
BENCH_INSTALLED := $(VENV)/.installed-bench
ASSETS := node_modules/.package-lock.json
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test bench lint messages clean deps

$(INSTALLED): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

$(BENCH_INSTALLED): $(INSTALLED)
	$(PY) -m pip install --quiet -e '.[test,bench]'
	touch $@

$(ASSETS): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

deps: $(INSTALLED) $(ASSETS)

run: deps
	$(VENV)/bin/evalplatform migrate
	$(VENV)/bin/evalplatform demo --if-empty
	$(VENV)/bin/evalplatform serve --host $(HOST) --port $(PORT)

# pytest exits 5 when it collected no test: make fails on it like on any failure.
test: deps
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(BENCH_INSTALLED) $(ASSETS)
	$(PY) bench/run.py

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .

messages: $(INSTALLED)
	$(PY) -m evalplatform.i18n_catalog

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache
