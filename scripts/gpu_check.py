"""The device check behind `make gpu-check`: python scripts/gpu_check.py --help says what it does.

A thin entry point; the check lives in datalaws.train.gpucheck. On a GPU machine:
    make gpu-check                                   # $OUT or results/gpu-check/
On a CPU (what CI runs, smallest size only):
    python scripts/gpu_check.py --device cpu --config config/tiny.yaml --sizes d16-l1
"""

import sys

from datalaws.train.gpucheck.cli import main

if __name__ == "__main__":
    sys.exit(main())
