# Two commands matter (see README): `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
OUT    ?= reports

.PHONY: setup run test lint format bench lab notebooks clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

## main job: score the sample program's surveys (the report runner will replace this)
run: setup
	$(BIN)/tim instruments
	$(BIN)/tim score data/sample/surveys.csv --instrument brs cyrm_r \
		--id-column youth_id wave --out $(OUT)/youth_scores.csv
	$(BIN)/tim score data/sample/mentor_surveys.csv --instrument proqol5 stss \
		--id-column mentor_id wave --out $(OUT)/mentor_scores.csv

## the whole test suite: lint, unit and reference tests, doctests
test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

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
	$(BIN)/python -m tim_research.nbtools

lab: setup
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf $(VENV) $(OUT)
