# Two entry points on a fresh machine (each builds .venv first if it is missing or stale):
#   make study   the tiny study end to end on this CPU machine (profiles/local), then the report
#   make test    the test suite, lint included (what CI runs through .ci/run)
#   make check   lint and the fast tests only (no workflows, no multi-process training, no SLURM)
# The CPU study (docs/laws.md, "The CPU study"): laws that extrapolate, in studies/cpu:
#   make study-cpu    4 grammars x 5 sizes x 6 budgets, then laws, the compressor comparison and
#                     the report (studies/cpu/report.html)
# The real-data study (docs/datasets.md):
#   make corpora      install the real corpora from Debian where missing, link them into the study
#   make study-real   real corpora beside grammars (config/real.yaml over tiny.yaml) in studies/real
# On a GPU machine:
#   make gpu-check   the device check (docs/training.md, "GPU check"): throughput and MFU per size,
#                    bf16 vs fp32, kill and resume, the tiny grid; JSON + summary to $OUT or
#                    results/gpu-check/ (GPU_CHECK_ARGS passes options, e.g. --sizes d64-l2 --pack 8)

VENV := .venv
STAMP := $(VENV)/.installed
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export PYTHONUNBUFFERED := 1

.PHONY: study study-cpu study-real corpora test check lint bench clean gpu-check

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

# The CPU study runs in its own directory, so its results never mix with the tiny study's.
CPU_DIR := studies/cpu
CPU_RUN := laws_all compare_all --profile profiles/local --directory $(CPU_DIR) \
	--configfile config/cpu.yaml

study-cpu: $(STAMP)
	datalaws check-config config/cpu.yaml
	snakemake $(CPU_RUN)
	snakemake $(CPU_RUN) --report $(CURDIR)/$(CPU_DIR)/report.html

# The CPU study's ladder (config/cpu.yaml) with the budgets config/real.yaml gives.
# The study runs in its own directory, so its results never mix with the tiny study's; the
# datasets' relative sources (corpora/...) are read from there.
REAL_DIR := studies/real
REAL_CONFIGS := config/cpu.yaml config/real.yaml
REAL_TARGETS := data_all train_all laws_all compare_all

corpora:
	bash scripts/corpora.sh $(REAL_DIR)/corpora

study-real: $(STAMP) corpora
	cd $(REAL_DIR) && datalaws check-config $(addprefix $(CURDIR)/,$(REAL_CONFIGS))
	snakemake $(REAL_TARGETS) --profile profiles/local --directory $(REAL_DIR) \
		--configfile $(REAL_CONFIGS)

# Three workers, one test module each at a time (conftest.py starts the SLURM module first): the
# SLURM tests spend much of their time waiting on the cluster, and the rest of the suite runs in
# those waits. On this 2-core machine, one host: 24 min in one process, 16 min with two workers,
# 13.5 with three; on a 1.9x faster host, 8 min with three (docs/reliability.md, "The whole suite").
test: $(STAMP) lint
	python -m pytest -n 3 --dist loadfile

check: $(STAMP) lint
	python -m pytest -m "not slow"

gpu-check: $(STAMP)
	python scripts/gpu_check.py --device cuda $(GPU_CHECK_ARGS)

lint: $(STAMP)
	ruff check .
	ruff format --check .
	snakemake --lint

bench: $(STAMP)
	for script in benchmarks/bench_*.py; do python $$script || exit 1; done

clean:
	rm -rf results logs .snakemake
