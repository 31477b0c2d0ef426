# Two entry points on a fresh machine (each builds .venv first if it is missing or stale):
#   make study   the tiny study end to end on this CPU machine (profiles/local), then the report
#   make test    the test suite, lint included (what CI runs through .ci/run)
#   make check   lint and the fast tests only (no workflows, no multi-process training, no SLURM)

VENV := .venv
STAMP := $(VENV)/.installed
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export PYTHONUNBUFFERED := 1

.PHONY: study test check lint bench clean

$(STAMP): pyproject.toml requirements/cpu.lock
	test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/cpu.lock
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e .
	$(VENV)/bin/python -c 'import torch; assert torch.__version__.endswith("+cpu"), torch.__version__'
	touch $(STAMP)

study: $(STAMP)
	datalaws check-config config/tiny.yaml
	snakemake --profile profiles/local
	snakemake --profile profiles/local --report results/report.html

test: $(STAMP) lint
	python -m pytest

check: $(STAMP) lint
	python -m pytest -m "not slow"

lint: $(STAMP)
	ruff check .
	ruff format --check .
	snakemake --lint

bench: $(STAMP)
	for script in benchmarks/bench_*.py; do python $$script || exit 1; done

clean:
	rm -rf results logs .snakemake
