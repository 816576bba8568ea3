# osce-kg — the two commands: `make run` (install, build, serve) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
OUT    ?= build
SOURCES ?= data/sources
SIZE   ?= 1000
# Debian packages that tests use as real tools: rapper checks the dumps, chromium (driven by
# chromedriver) opens the query page.
DEBIAN_PACKAGES := raptor2-utils chromium chromium-driver
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run build serve install install-test system-deps test check lint typecheck namespaces docs bench conformance clean distclean

run: install build serve

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

# The query page's YASGUI at the version package-lock.json pins, served from node_modules.
node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq npm >/dev/null; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(VENV)/.installed node_modules/.package-lock.json

install-test: $(VENV)/.installed-test node_modules/.package-lock.json

system-deps:
	@for tool in rapper chromium chromedriver; do \
	  command -v $$tool >/dev/null 2>&1 || missing="$$missing $$tool"; done; \
	[ -z "$$missing" ] || { \
	  echo "installing Debian packages for:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(DEBIAN_PACKAGES) >/dev/null; }

build: install
	$(BIN)/kg-build --out-dir $(OUT) $(SOURCES)

serve: install
	$(BIN)/kg-serve --out-dir $(OUT) --host $(HOST) --port $(PORT)

test: install-test system-deps
	$(BIN)/python -m pytest

lint: install-test
	$(BIN)/ruff check kg_builder server tests bench
	$(BIN)/ruff format --check kg_builder server tests bench

typecheck: install-test
	$(BIN)/mypy

check: lint typecheck test

namespaces: install
	$(BIN)/python -m kg_builder.gen_namespaces

# The ontology picture in the README: DOT generated from the ontology, drawn by Graphviz.
docs: namespaces
	$(BIN)/python -m kg_builder.diagram
	@command -v dot >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq graphviz >/dev/null; }
	dot -Tsvg docs/ontology.dot -o docs/ontology.svg

# Benchmarks (docs/BENCHMARKS.md): a generated corpus of SIZE pages built, then served by
# kg-serve, oxigraph serve and rdflib-endpoint side by side.
$(VENV)/.installed-bench: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[bench]'
	@touch $@

bench: $(VENV)/.installed-bench
	$(BIN)/python -m bench.run --size $(SIZE)

# The W3C SPARQL 1.1 suites over HTTP, with the counts written to docs/CONFORMANCE.md.
conformance: install-test
	$(BIN)/python bench/w3c_conformance.py

clean:
	rm -rf $(OUT) .pytest_cache .mypy_cache .ruff_cache *.egg-info
	find . -name __pycache__ -type d -prune -not -path './$(VENV)/*' -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) node_modules
