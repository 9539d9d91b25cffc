# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO_SCENARIO ?= scenarios/county_hall.yaml
DEMO_OUT      ?= runs/demo

.PHONY: venv demo test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "supsim needs Python >= 3.11; set PYTHON=python3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'  # every extra (service, Locust, sklearn, Dask) + test tools
	@touch $(STAMP)

venv: $(STAMP)

demo: venv
	$(BIN)/supsim run $(DEMO_SCENARIO) --out $(DEMO_OUT)
	$(BIN)/supsim report $(DEMO_OUT) --out $(DEMO_OUT)/report.html

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

unit: venv
	$(BIN)/pytest

test: lint typecheck unit

# pytest-benchmark's own timing table is left out (--benchmark-quiet): timings alone mean little on a shared
# machine. The run ends with one table, failures or not: each benchmark's figure, same-run baseline and ratio.
bench: venv
	@mkdir -p runs && rm -f runs/bench.json
	$(BIN)/pytest tests/bench --bench --benchmark-enable --benchmark-quiet --benchmark-json=runs/bench.json; \
	status=$$?; $(BIN)/python -m tests.bench.table runs/bench.json && exit $$status

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache .hypothesis .benchmarks
