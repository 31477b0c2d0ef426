"""The runs of the GPU check (``gpucheck.py``): a corpus, run specs, processes, their metrics.

Every run is a real ``datalaws train`` run, started as a process the way the study starts it
(``python -m datalaws.train.launch``, or the same worker under ``launch.launch_command``), so the
check exercises the code a cluster job runs: the launcher, torchrun and FSDP2 where there are
several processes, bf16 and ``torch.compile`` on a GPU. Processes run in their own session, so a
run that overruns the check's time budget is stopped with everything it started.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from datalaws.corpus import write_tokens
from datalaws.grammar import GrammarSpec, random_grammar
from datalaws.sampler import CompiledSampler

# `datalaws ...` without relying on the console script (absent where the package is only on
# PYTHONPATH, e.g. a bare GPU image).
LAUNCH = [sys.executable, "-m", "datalaws.train.launch"]
KILL_GRACE_S = 30.0


@dataclass(frozen=True)
class Corpus:
    train: list[str]
    val: str
    vocab_size: int
    context: int
    train_documents: int
    val_documents: int


def make_corpus(root: Path, vocab_size: int, context: int, documents: int, seed: int) -> Corpus:
    """A real PCFG corpus with the given vocabulary: 20 nonterminals, ``vocab_size - 1``
    terminals (the study's generator, seeded), ``documents`` training and 64 validation docs."""
    grammar = random_grammar(GrammarSpec(20, vocab_size - 1, 10, 5), seed=seed)
    sampler = CompiledSampler(grammar)
    meta = {"grammar": {"name": f"gpu-check-k20-T{vocab_size - 1}", "sha256": grammar.sha256()}}
    train, val = root / "train.bin", root / "val.bin"
    write_tokens(sampler.documents(documents, context, seed + 1), train, grammar.vocab_size, **meta)
    write_tokens(sampler.documents(64, context, seed + 2), val, grammar.vocab_size, **meta)
    return Corpus([str(train)], str(val), grammar.vocab_size, context, documents, 64)


def worker_args(corpus: Corpus, spec: dict, options: dict) -> list[str]:
    """Arguments of `datalaws train` for one run, as the training rule passes them."""
    return [
        "--spec",
        json.dumps(spec, sort_keys=True),
        "--options",
        json.dumps(options, sort_keys=True),
        "--train",
        *corpus.train,
        "--val",
        corpus.val,
    ]


def launch_args(procs: int, cuda: bool, threads: int, out: Path, worker: list[str]) -> list[str]:
    """The launcher (`datalaws train-launch`) for one run on ``procs`` GPUs (or CPU processes)."""
    cpus = 0 if cuda else procs * threads
    return [
        *LAUNCH,
        "--procs-per-node",
        str(procs),
        "--gpus",
        str(procs if cuda else 0),
        "--cpus",
        str(cpus),
        "--out",
        str(out),
        "--",
        *worker,
    ]


def start(
    cmd: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.Popen:
    """Start ``cmd`` in its own session, output appended to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as handle:
        return subprocess.Popen(
            cmd, stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True
        )


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux /proc), children first."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [d for c in map(int, children) for d in (c, *descendants(c))]


def signal_tree(pid: int, signum: int) -> None:
    """Send ``signum`` to a process and everything below it, as SLURM signals a job step."""
    for target in (pid, *descendants(pid)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(target, signum)


def wait(proc: subprocess.Popen, timeout_s: float) -> int | None:
    """The exit code, or None after stopping a run that overran: SIGTERM first (a training run
    then saves a checkpoint), SIGKILL to what is left after a grace period."""
    try:
        return proc.wait(timeout=max(timeout_s, 1.0))
    except subprocess.TimeoutExpired:
        tree = descendants(proc.pid)
        signal_tree(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=KILL_GRACE_S)
        for pid in (proc.pid, *tree):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.wait()
        return None


def run(
    cmd: list[str],
    log: Path,
    timeout_s: float,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> dict:
    """Run to completion within ``timeout_s``: exit code (None if stopped) and wall seconds."""
    t0 = time.perf_counter()
    code = wait(start(cmd, log, env, cwd), timeout_s)
    return {"exit_code": code, "wall_s": round(time.perf_counter() - t0, 2)}


def step_records(run_dir: Path) -> list[dict]:
    """The per-step lines of a run's metrics.jsonl (validation lines left out). A line still
    being written by a live run is skipped."""
    path = run_dir / "metrics.jsonl"
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return [r for r in records if "train_loss" in r]


def steady_step_seconds(records: list[dict], tokens_per_step: int, warmup: int) -> dict:
    """Median step time after ``warmup`` steps, its spread ((p90 - p10) / median) and the first
    step's time (compilation and allocator warm-up land there)."""
    seconds = [tokens_per_step / r["tokens_per_s"] for r in records]
    steady = seconds[warmup:]
    if not steady:
        raise ValueError(f"no steps after the {warmup} warm-up steps")
    median = statistics.median(steady)
    deciles = statistics.quantiles(steady, n=10) if len(steady) > 1 else [median] * 9
    return {
        "step_s": median,
        "spread": (deciles[-1] - deciles[0]) / median,
        "first_step_s": seconds[0],
        "steps_measured": len(steady),
    }


def log_tail(path: Path, chars: int = 2500) -> str:
    """The end of a log, for the report of a run that failed (the machine may be gone later)."""
    if not path.exists():
        return ""
    return path.read_text(errors="replace")[-chars:]


def wait_for_step(proc: subprocess.Popen, run_dir: Path, step: int, timeout_s: float) -> bool:
    """Poll until the run has logged ``step`` steps; False if it ended or the time ran out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        if len(step_records(run_dir)) >= step:
            return True
        time.sleep(0.01)
    return False
