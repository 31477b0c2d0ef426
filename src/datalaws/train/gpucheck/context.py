"""What every part of the check shares: the setup, and how a part builds and judges its runs."""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from datalaws.train.config import run_spec, size_hyper
from datalaws.train.gpucheck import runs

FORMAT = "datalaws-gpu-check-v1"
CURVE_TOL = 0.05  # nats: largest gap between bf16's and fp32's 10-step mean training loss
VAL_TOL = 0.02  # nats: final validation loss, bf16 vs fp32 (as tests/test_train_run.py)
# A resumed run against the uninterrupted one: bit-exact on a CPU; on a GPU, kernels that
# accumulate with atomics (flash-attention backward) make two identical runs differ slightly.
RESUME_TOL = {"cpu": 1e-6, "cuda": 1e-2}
SMOOTH = 10


@dataclass
class Setup:
    """What every part needs: the study config, the device, the corpus, the clock."""

    args: argparse.Namespace
    study: dict
    section: dict
    cuda: bool
    device_name: str
    peak: float | None
    peak_source: str
    sizes: list[str]
    out: Path
    work: Path
    deadline: float
    corpus: runs.Corpus | None = None

    def left(self) -> float:
        return self.deadline - time.monotonic()

    @property
    def device(self) -> str:
        return "cuda" if self.cuda else "cpu"

    @property
    def threads(self) -> int:
        return 0 if self.cuda else self.args.threads

    def log(self, name: str) -> Path:
        return self.work / "logs" / f"{name}.log"


def spec_for(s: Setup, size: str, steps: int, **hyper: Any) -> tuple[dict, int]:
    """A run spec of ``steps`` full batches of ``size`` (the study's hyperparameters, with
    ``hyper`` overriding), drawn from the check's corpus; and the tokens of one step."""
    batch = size_hyper(s.section, size).batch_size
    budget = steps * batch * s.corpus.context
    spec = run_spec(s.section, size, budget, labels={"grammar": "gpu-check"})
    spec["hyper"].update({"eval_points": 1, "val_sequences": s.corpus.val_documents, **hyper})
    pool = min(budget, s.corpus.train_documents * s.corpus.context)
    spec["unique_tokens"] = pool if pool < budget else None
    return spec, batch * s.corpus.context


def options_for(s: Setup) -> dict:
    """The study's run options, for this device, without periodic checkpoints."""
    options = dict(s.section.get("run", {}))
    options.update(
        device=s.device,
        threads=s.threads,
        checkpoint_every=0,
        progress="log",
        log_every_s=60,
        max_memory_gb=0,
        peak_flops=s.peak or 0.0,
    )
    if s.args.compile:
        options["compile"] = s.args.compile
    return options


def launched(s: Setup, name: str, spec: dict) -> tuple[list[str], Path]:
    """`datalaws train-launch` for one run of the check, and its run directory."""
    out = s.work / name
    worker = runs.worker_args(s.corpus, spec, options_for(s))
    return runs.launch_args(s.args.procs, s.cuda, s.args.threads, out, worker), out


def failed_run(s: Setup, name: str, result: dict, what: str) -> dict:
    """A failed part: why, and the end of the run's log (the device machine may be gone later)."""
    code = result["exit_code"]
    reason = "stopped at the time budget" if code is None else f"exit code {code}"
    return {
        "status": "failed",
        "reason": f"{what}: {reason}",
        "log_tail": runs.log_tail(s.log(name)),
    }


def moving_mean(values: list[float], window: int) -> np.ndarray:
    """Mean over each ``window`` consecutive values: per-step losses are too noisy to compare."""
    window = min(window, len(values))
    return np.convolve(values, np.ones(window) / window, mode="valid")
