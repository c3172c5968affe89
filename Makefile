# Every install step lives here: a fresh machine needs only Python 3.11+ and git.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install test lint demo bench lock clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "sdb-agent needs Python 3.11 or newer (PYTHON=$(PYTHON))" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps \
		--config-settings editable_mode=compat -e .
	touch $(STAMP)

install: $(STAMP) ## create the virtual environment from the lock file

lint: $(STAMP) ## ruff over the project
	$(BIN)/ruff check .

test: lint ## lint, then the whole test suite on throwaway PostgreSQL
	@$(BIN)/python -m pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: the test setup is broken" >&2; exit 1; fi; \
	exit $$status

demo: $(STAMP) ## run the main job on the embedded defaults
	$(BIN)/sdb-agent demo

bench: $(STAMP) ## benchmarks (not tests): medians and ratios
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

lock: ## re-resolve the lock file from pyproject.toml
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --universal -o requirements.lock

clean: ## remove the virtual environment (the embedded database in .data/ is kept)
	rm -rf $(VENV)
