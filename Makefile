# The two commands of the README: `make demo` (main job) and `make test` (test suite).
# Both run the idempotent set-up first.
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup demo test test-fast benchmarks rebuild-benchmarks clean

setup:
	@bash scripts/setup.sh

demo: setup
	$(VENV)/bin/cge run experiments/headline.toml --out results/headline

test: setup
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow"

rebuild-benchmarks: setup
	$(PY) -m calibration.build_all

clean:
	rm -rf results .pytest_cache
