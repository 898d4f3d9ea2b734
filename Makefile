# Two commands matter (see README): `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
OUT    ?= reports
CHROMIUM ?= /usr/bin/chromium

.PHONY: setup browser run test test-fast lint format bench lab notebooks clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

## headless Chromium from Debian (browser tests, `tim report --pdf`); playwright never downloads one
browser:
	@test -x $(CHROMIUM) || apt-get install -y chromium || \
		{ apt-get update && apt-get install -y chromium; }

## main job: the report batch on the sample program -> $(OUT)/latest/index.html
run: setup
	$(BIN)/tim report --config notebooks/reports.toml --data data/sample --out $(OUT)

## the whole test suite: lint, layer contracts, unit and reference tests, doctests, notebooks,
## and the browser tests (which need Chromium: installed by `browser` when missing)
test: setup browser
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n auto

## the edit loop: everything but notebook execution and report batches (under a minute):
## unit, R-reference and project tests and doctests; no nbval, no kernels, no report batches
## (tests marked slow; nbval cells are marked slow too, and notebooks/ is not collected)
test-fast: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n auto -m "not slow" tests tim_research

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup
	for f in benchmarks/bench_*.py; do $(BIN)/python $$f || exit 1; done

## rebuild every notebook from notebooks/src/*.py and execute it in place (after library changes)
notebooks: setup
	$(BIN)/python -m tim_research.report.build

## teaching material: rebuild and execute notebooks/teaching/*.ipynb from notebooks/teaching/src;
## `make site`: static site of the teaching notebooks and sample reports -> site/index.html,
## readable offline from the file system (no script or style sheet from the web)
.PHONY: teaching site
teaching: setup
	$(BIN)/python -m tim_research.report.site notebooks

site: setup
	$(BIN)/python -m tim_research.report.site build --out site

lab: setup
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf $(VENV) $(OUT)

## the explorer (notebooks/explorer.ipynb) as a dashboard on http://127.0.0.1:$(PORT)/ with the
## sample data; another port: `make dashboard PORT=8870`. Rebuild the notebook from its source
## with `python -m tim_research.report.build notebooks/dashboard/explorer.py`.
PORT ?= 8866
.PHONY: dashboard
dashboard: setup
	$(BIN)/voila notebooks/explorer.ipynb --Voila.ip=127.0.0.1 --port=$(PORT) --no-browser
