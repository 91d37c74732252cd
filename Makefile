# Every target calls tools configured in pyproject.toml; `make help` lists them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export ROLELENS_HOME ?= var
# Python's bytecode caches stay on, even where the environment turns them off: pytest
# rewrites the asserts of every module of its plugins' packages (schemathesis, hypothesis:
# about 250) in each test process, some 3 s of CPU apiece unless the first one may cache them.
unexport PYTHONDONTWRITEBYTECODE

.DEFAULT_GOAL := help
.PHONY: help run test soak check bench model clean

help: ## List the targets and what they do
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

# PYTHONWARNINGS=ignore: setuptools warns on every editable install that folders named like
# the packages may shadow them; here they are the packages, so the warning is only noise.
$(BIN)/.run-deps: pyproject.toml
	@echo "rolelens: installing dependencies into $(VENV) (about a minute, the first time)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	PYTHONWARNINGS=ignore $(BIN)/python -m pip install --quiet -e .
	touch $@

$(BIN)/.dev-deps: pyproject.toml
	@echo "rolelens: installing dependencies and test tools into $(VENV) (a minute or two, the first time)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	PYTHONWARNINGS=ignore $(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(BIN)/.run-deps

model: $(BIN)/.run-deps ## Train the default model into $ROLELENS_HOME unless one serves already
	@$(BIN)/rolelens models show >/dev/null 2>&1 || { \
	  echo "rolelens: no model in $(ROLELENS_HOME) yet: training the default one (a few seconds)"; \
	  $(BIN)/rolelens train; }

run: model ## Install, train the default model if none exists, and serve the page on HOST:PORT
	@echo "rolelens: open http://$(HOST):$(PORT)/ in a browser (Ctrl+C stops the server)"
	$(BIN)/rolelens serve --host $(HOST) --port $(PORT)

test: $(BIN)/.dev-deps ## Install with test extras and run the whole test suite on every core
	$(BIN)/python -m pytest -n auto --dist loadgroup

soak: $(BIN)/.dev-deps ## Run the fault and load loops at full length (20+ kills; a few minutes)
	$(BIN)/python -m pytest -n auto --dist loadgroup --soak -m soak

check: $(BIN)/.dev-deps ## Lint (ruff) and type-check (mypy, strict on the packages)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(BIN)/.dev-deps ## Run the benchmarks under bench/ (load.py: about 2 min) and print their figures
	@for f in bench/[!_]*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean: ## Remove the virtualenv, caches and the default data directory
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache var
