# Every install step lives here: a fresh machine needs only Python 3.11+ and git.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# uv installs the lock in seconds where pip takes minutes (the lock is uv's own output);
# bytecode is compiled at install, as pip does: with PYTHONDONTWRITEBYTECODE set, every
# process would otherwise compile each module it imports
UV_VERSION := 0.13.9
UV := VIRTUAL_ENV=$(abspath $(VENV)) $(BIN)/uv

.PHONY: help install test test-clock lint demo bench lock clean ui-check

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "sdb-agent needs Python 3.11 or newer (PYTHON=$(PYTHON))" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(UV) pip install --quiet --compile-bytecode -r requirements.lock
	$(UV) pip install --quiet --no-deps --config-setting editable_mode=compat -e .
	touch $(STAMP)

install: $(STAMP) ## create the virtual environment from the lock file

lint: $(STAMP) ## ruff, mypy (strict) and the import-linter contracts (layers) over the project
	$(BIN)/ruff check .
	$(BIN)/mypy .
	$(BIN)/lint-imports --no-cache

# The suite waits on servers and subprocesses much of the time: the lint runs beside it (its
# report follows the suite's), and either failing fails the target.
test: $(STAMP) ## lint and the whole test suite on throwaway PostgreSQL
	@lint_log=$$(mktemp); ($(MAKE) --no-print-directory lint > $$lint_log 2>&1; echo $$? >> $$lint_log) & \
	$(BIN)/python -m pytest; status=$$?; wait; \
	lint_status=$$(tail -n 1 $$lint_log); echo "== lint"; sed '$$d' $$lint_log; rm -f $$lint_log; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: the test setup is broken" >&2; exit 1; fi; \
	[ $$lint_status -eq 0 ] || { echo "lint failed" >&2; exit 1; }; \
	exit $$status

# libfaketime built from the source that the `libfaketime` wheel ships (pinned in the lock):
# the thread-safe variant, faking only the clocks a program reads (no sleep, timer or pthread
# interception, whose wrappers crashed threaded event loops here), with the monotonic clock
# left real. Debian's libfaketime 0.9.10 either hangs Python's timed lock waits (faked
# monotonic) or makes Python 3.11's time.sleep fail with EINVAL (libfaketime issue #426).
# Needs a C compiler.
FAKETIME_LIB := $(VENV)/faketime/libfaketimeMT.so.1
FAKETIME_CFLAGS := -std=gnu99 -Wall -fPIC -DPREFIX='"/usr/local"' -DLIBDIRNAME='"/lib/faketime"'
CLOCK_INSTANTS := "2027-12-31 23:56:00" "2028-02-29 11:00:00"

$(FAKETIME_LIB): $(STAMP)
	@src=$$($(BIN)/python -c 'import libfaketime, pathlib; print(pathlib.Path(libfaketime.__file__).parent / "vendor/libfaketime/src")'); \
	rm -rf $(VENV)/faketime && cp -r "$$src" $(VENV)/faketime && $(MAKE) -s -C $(VENV)/faketime libfaketimeMT.so.1 CFLAGS="$(FAKETIME_CFLAGS)"

test-clock: $(FAKETIME_LIB) ## the whole suite at faked instants (year end, leap day), in Asia/Seoul, and under LANG=C
	@for at in $(CLOCK_INSTANTS); do \
		echo "== faked clock: $$at UTC (PostgreSQL inherits it)"; \
		TZ=UTC LD_PRELOAD=$(abspath $(FAKETIME_LIB)) FAKETIME="@$$at" FAKETIME_DONT_FAKE_MONOTONIC=1 \
			$(BIN)/python -m pytest -q -p no:cacheprovider || exit 1; \
	done
	@echo "== TZ=Asia/Seoul"; TZ=Asia/Seoul $(BIN)/python -m pytest -q -p no:cacheprovider
	@echo "== LANG=C"; LANG=C LC_ALL=C $(BIN)/python -m pytest -q -p no:cacheprovider

demo: $(STAMP) ## run the main job on the embedded defaults
	$(BIN)/sdb-agent demo

UI_STAMP := $(VENV)/.installed-ui

$(UI_STAMP): $(STAMP) requirements-ui.lock
	$(UV) pip install --quiet --compile-bytecode -r requirements-ui.lock
	touch $(UI_STAMP)

ui-check: $(UI_STAMP) ## demo, failing and partial runs seen in headless Chromium (apt-get install chromium); not in CI
	$(BIN)/python tools/ui_check.py

bench: $(STAMP) ## benchmarks (not tests): medians and ratios
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

lock: $(STAMP) ## re-resolve the lock files from pyproject.toml (the image's runtime lock keeps the same pins)
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --universal -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --universal -c requirements.lock -o requirements-runtime.lock
	$(BIN)/uv pip compile pyproject.toml --extra ui --python-version 3.11 --universal -c requirements.lock -o requirements-ui.lock

clean: ## remove the virtual environment (the embedded database in .data/ is kept)
	rm -rf $(VENV)
