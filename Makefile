# The two commands a newcomer needs: `make demo` and `make test`. Both build .venv themselves.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint i18n bench lock clean

# The locked dependency set (pip-tools, `make lock`): requirements/brigada.txt is what central and
# every laptop run (`pip install -r requirements/brigada.txt` then `pip install --no-deps .`);
# requirements/dev.txt adds the tests, the linters and the demo's faker, at the same versions.
LOCK := requirements/dev.txt

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/brigada demo --patients 10

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

# Every test that needs no store (tests/conftest.py marks the others and fails an unmarked test
# that opens one).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q -m "not store and not slow"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

i18n: $(STAMP)
	VENV=$(VENV) bash scripts/i18n.sh

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

lock: $(STAMP)
	$(BIN)/pip-compile --quiet --extra dev --extra demo --strip-extras --no-emit-index-url \
		--no-emit-find-links -o requirements/dev.txt pyproject.toml
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links \
		-o requirements/brigada.txt pyproject.toml requirements/constraints.in

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
