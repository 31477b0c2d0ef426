"""``python -m datalaws.train ARGS``: one training run (what torchrun starts on every rank)."""

import sys

from datalaws.train.worker import main

sys.exit(main())
