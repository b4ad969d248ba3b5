# steadyops — the two commands are `make run` and `make test`.
#
#   make run     virtualenv + install, then `steadyops serve` on embedded defaults (SQLite in ./data)
#   make test    virtualenv + test extras + Debian test packages, then ruff, mypy, the layer contracts
#                (lint-imports, [tool.importlinter] in pyproject.toml) and the whole suite
#   make lint    ruff + mypy + layer contracts only
#   make bench   bench/intake.py (steadyops on SQLite and PostgreSQL vs a real Alertmanager)
#   make benchmarks  every benchmark in bench/ (log parsing, NAB, RCA, log anomaly) on ../shared/datasets
#   make evals   retrieval and diagnosis evals (evals/); the LLM mode runs when STEADYOPS_LLM__* is set
#   make drills  fault drills against `steadyops serve` alone (bench/drills/; root, ~10 min)
#   make clean   remove the virtualenv and caches (./data, your embedded store, is kept)
#
# Installs are remembered by stamp files inside .venv: a repeated `make test` does not reinstall,
# an edited pyproject.toml does.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --quiet --disable-pip-version-check --no-input
PYTEST_ARGS ?=
BENCH_ARGS  ?=

RUN_STAMP  := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
LLAMA_STAMP := $(VENV)/.installed-llama-cpp

.PHONY: run test lint bench benchmarks evals drills clean venv install install-test test-deps

run: $(RUN_STAMP)
	$(VENV)/bin/steadyops serve

test: $(TEST_STAMP) $(LLAMA_STAMP) test-deps
	$(VENV)/bin/ruff check src tests bench evals
	$(VENV)/bin/mypy src tests/harness
	$(VENV)/bin/lint-imports
	STEADYOPS_REQUIRE_SERVICES=1 $(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check src tests bench evals
	$(VENV)/bin/mypy src tests/harness bench evals
	$(VENV)/bin/lint-imports

bench: $(TEST_STAMP) test-deps
	$(PY) bench/intake.py $(BENCH_ARGS)

benchmarks: $(TEST_STAMP)
	@$(PIP) install -e '.[bench]'
	$(PY) bench/logparse.py
	$(PY) bench/nab.py --out .bench-out/nab
	$(PY) bench/rca.py
	$(PY) bench/loganomaly.py
	$(PY) bench/inspect

drills: $(TEST_STAMP) test-deps
	$(PY) bench/drills $(BENCH_ARGS)

evals: $(TEST_STAMP)
	$(PY) evals/run_retrieval.py --min-recall 0.9
	$(PY) evals/run_diagnose.py

venv: $(PY)
install: $(RUN_STAMP)
install-test: $(TEST_STAMP)

# A Python >= 3.11 virtualenv. Debian splits ensurepip into python3-venv; install it if missing.
$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "steadyops needs Python >= 3.11; $(PYTHON) is " + sys.version.split()[0] + " (use make PYTHON=python3.11)")'
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
		rm -rf $(VENV); \
		echo "$(PYTHON) -m venv failed; installing python3-venv"; \
		scripts/install-test-deps.sh --only python3-venv && $(PYTHON) -m venv $(VENV); }
	@$(PIP) install --upgrade pip || echo "(pip upgrade skipped)"

# SSH is an extra (asyncssh) like the database drivers; the platform `make run` starts logs in to hosts
$(RUN_STAMP): pyproject.toml | $(PY)
	@echo "pip install -e '.[ssh]'"
	@$(PIP) install -e '.[ssh]'
	@touch $@

# The test extras include the runtime dependencies, so they satisfy `make run` as well.
$(TEST_STAMP): pyproject.toml | $(PY)
	@echo "pip install -e '.[test]'"
	@$(PIP) install -e '.[test]'
	@touch $@ $(RUN_STAMP)

test-deps:
	@scripts/install-test-deps.sh

# llama.cpp's server for the inference-service tests: compiled once into a wheel cache outside the
# work tree (no wheel on the index), then installed from it in seconds (scripts/build-llama-cpp.sh)
$(LLAMA_STAMP): scripts/build-llama-cpp.sh | $(TEST_STAMP)
	@scripts/build-llama-cpp.sh $(VENV)
	@touch $@

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find src -maxdepth 1 -name '*.egg-info' -type d -prune -exec rm -rf {} +
