"""Start a training run the way its resources say: one process, torchrun, or srun + torchrun.

This is the one place that turns resources into processes, so schedulers (Snakemake's local or
SLURM executor, qqt's pool trainer, the GPU check, a person at a terminal) only pass numbers,
through ``launch(...)``, ``python -m datalaws.train.launch`` or ``datalaws train-launch``:
  nodes > 1            -> srun --nodes=K --ntasks-per-node=1 torchrun --nnodes=K (c10d rendezvous)
  procs_per_node > 1   -> torchrun --standalone --nproc_per_node=P   (GPUs, or CPU ranks on gloo)
  otherwise            -> one plain process
The launcher also owns signals and exit codes. It becomes a child subreaper, starts the run in its
own session, forwards the first SIGTERM/SIGUSR1 to it, waits for every worker (even ones torchrun
stopped waiting for), and exits with EXIT_PREEMPTED when the run saved a checkpoint on a signal,
EXIT_DIVERGED when it diverged, so a scheduler can tell "resubmit me" from "this is broken".
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

EXIT_BAD_INPUT = 2  # the CLI's code for ValueError: bad config or corpus, do not retry
EXIT_DIVERGED = 3  # non-finite loss; retrying the same config fails the same way
EXIT_LOCKED = 73  # another live job trains this run directory (datalaws.train.runlock)
EXIT_IO = 74  # EX_IOERR: a write failed (disk full, quota); one line names the file and cause
EXIT_PREEMPTED = 75  # EX_TEMPFAIL: checkpoint saved on SIGTERM/SIGUSR1, rerun to resume
WORKER_MODULE = "datalaws.train"
FAILED = "failed.json"  # a worker's one-line error and exit code, for the launcher
FORWARDED = (signal.SIGTERM, signal.SIGUSR1, signal.SIGINT)
_PR_SET_CHILD_SUBREAPER = 36


def launcher_name(nodes: int, procs_per_node: int) -> str:
    """'local' (one process), 'torchrun' (one node), or 'srun-torchrun' (several nodes)."""
    if nodes > 1:
        return "srun-torchrun"
    return "torchrun" if procs_per_node > 1 else "local"


def launch_command(
    nodes: int,
    procs_per_node: int,
    worker_args: list[str],
    python: str = sys.executable,
    port: int | None = None,
    module: str = WORKER_MODULE,
) -> list[str]:
    """The command line that runs ``python -m datalaws.train worker_args`` on the given resources.

    ``module`` is what every process runs with ``python -m``; the GPU check passes a wrapper of
    the same worker that also records peak device memory (``datalaws.train.peak_memory``).
    """
    kind = launcher_name(nodes, procs_per_node)
    if kind == "local":
        return [python, "-m", module, *worker_args]
    if kind == "torchrun":
        return [
            python,
            "-m",
            "torch.distributed.run",
            "--standalone",
            f"--nproc_per_node={procs_per_node}",
            "-m",
            module,
            *worker_args,
        ]
    # Two multi-node jobs may share a head node: derive the rendezvous port from the job id.
    rdzv_port = port if port is not None else "$((20000 + SLURM_JOB_ID % 20000))"
    per_node = (
        'head=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n1); '
        f"exec {shlex.quote(python)} -m torch.distributed.run --nnodes=$SLURM_NNODES "
        f"--nproc_per_node={procs_per_node} --rdzv_backend=c10d "
        f"--rdzv_endpoint=$head:{rdzv_port} "
        f"--rdzv_id=$SLURM_JOB_ID -m {module} {shlex.join(worker_args)}"
    )
    srun = ["srun", f"--nodes={nodes}", "--ntasks-per-node=1", "--kill-on-bad-exit=1"]
    return [*srun, "bash", "-c", per_node]


def launch_env(threads: int) -> dict[str, str]:
    env = dict(os.environ)
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    # torchrun's default action for SIGUSR1 would kill it and orphan the workers mid-save.
    env["TORCHELASTIC_SIGNALS_TO_HANDLE"] = "SIGTERM,SIGINT,SIGHUP,SIGQUIT,SIGUSR1"
    return env


def _become_subreaper() -> None:
    """Orphaned workers get re-parented to us, so we can wait for them to finish saving."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _children() -> set[int]:
    """Our unreaped child processes, from /proc (``/proc/<pid>/task/*/children`` is not on every
    kernel)."""
    me, pids = os.getpid(), set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError, ValueError, IndexError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == me:
                pids.add(int(stat.parent.name))
    return pids


def _reap_descendants(before: set[int]) -> None:
    """Wait for the run's orphaned workers, never for children the caller had before the run:
    inside a long-lived process (a test session, qqt's pool trainer) ``waitpid(-1)`` would also
    wait for them, forever if one is a daemon."""
    while pending := _children() - before:
        for pid in pending:
            with suppress(ChildProcessError):
                os.waitpid(pid, 0)


def record_failure(run_dir: Path, code: int, message: str) -> None:
    """A worker's bad input or failed write, for the launcher (one small file, best effort: on a
    full disk the worker's own error line is all there is)."""
    with suppress(OSError):
        (run_dir / FAILED).write_text(json.dumps({"code": code, "error": message}))


def _worker_failure(run_dir: Path, since: float) -> tuple[int, str] | None:
    failed = run_dir / FAILED
    try:
        if failed.stat().st_mtime >= since:
            record = json.loads(failed.read_text())
            return int(record["code"]), str(record["error"])
    except (OSError, ValueError, KeyError):
        pass
    return None


def run(cmd: list[str], run_dir: str | Path, threads: int = 0) -> int:
    """Run ``cmd`` to completion with signal forwarding; return the scheduler-facing exit code."""
    run_dir = Path(run_dir)
    preempted, diverged = run_dir / "preempted.json", run_dir / "diverged.json"
    preempted.unlink(missing_ok=True)
    (run_dir / FAILED).unlink(missing_ok=True)
    started = time.time()
    _become_subreaper()
    before = _children()
    child = subprocess.Popen(cmd, env=launch_env(threads), start_new_session=True)
    forwarded: list[int] = []

    def forward(signum: int, frame: object) -> None:
        if not forwarded and child.poll() is None:
            forwarded.append(signum)
            child.send_signal(signal.SIGTERM if signum == signal.SIGINT else signum)

    previous = {s: signal.signal(s, forward) for s in FORWARDED}
    try:
        code = child.wait()
        _reap_descendants(before)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if code != 0 and preempted.exists():
        return EXIT_PREEMPTED
    if code != 0 and diverged.exists() and diverged.stat().st_mtime >= started:
        return EXIT_DIVERGED
    failure = _worker_failure(run_dir, started) if code != 0 else None
    if failure is not None:
        print(f"datalaws train-launch: error: {failure[1]}", file=sys.stderr, flush=True)
        return failure[0]
    if code < 0:  # killed by a signal before it could save: still worth a retry
        return 128 - code
    return code


def launch(
    nodes: int,
    procs_per_node: int,
    cpus: int,
    out: str | Path,
    worker_args: list[str],
    lock_wait_s: float = 0.0,
) -> int:
    """Train one run on the processes its resources call for; return the scheduler's exit code.

    The run's lock (``datalaws.train.runlock``) is held for all of it, waiting up to
    ``lock_wait_s`` for another live job on ``out``. One process needs no supervisor: it trains
    in this process and saves a process start and its imports. ``cpus`` is the node's core
    count, shared by its processes (0: leave threads alone).
    """
    from datalaws.train import runlock

    try:
        with runlock.held(out, lock_wait_s):
            return _launch_unlocked(nodes, procs_per_node, cpus, out, worker_args)
    except runlock.RunLocked as err:
        print(f"datalaws train-launch: {err}", file=sys.stderr)
        return EXIT_LOCKED


def _launch_unlocked(
    nodes: int, procs_per_node: int, cpus: int, out: str | Path, worker_args: list[str]
) -> int:
    worker = [*worker_args, "--out", str(out)]
    threads = cpus // procs_per_node if cpus else 0
    if threads:
        worker += ["--threads", str(threads)]
    if launcher_name(nodes, procs_per_node) == "local":
        from datalaws.train import worker as one_run

        return one_run.main(worker, lock=False)
    cmd = launch_command(nodes, procs_per_node, worker)
    print("+ " + " ".join(cmd), flush=True)
    return run(cmd, out, threads=threads)


def add_launch_args(p: argparse.ArgumentParser) -> None:
    """One run's resources, as ``datalaws train-launch`` and this module's ``main`` take them."""
    p.add_argument("--nodes", type=int, default=1)
    p.add_argument("--procs-per-node", type=int, default=1, help="GPUs or CPU ranks per node")
    p.add_argument("--gpus", type=int, default=0, help="total GPUs (0: train on CPU)")
    p.add_argument(
        "--cpus", type=int, default=0, help="CPU cores for the node, shared by its processes"
    )
    p.add_argument("--out", required=True, help="run directory")
    p.add_argument(
        "--lock-wait-min",
        type=float,
        default=0.0,
        help="minutes to wait for another live job training --out to finish before exiting "
        f"{EXIT_LOCKED} (default 0: at once)",
    )
    p.add_argument("worker_args", nargs=argparse.REMAINDER, help="-- then `datalaws train` args")


def launch_from_args(args: argparse.Namespace) -> int:
    worker = list(args.worker_args)
    if worker[:1] == ["--"]:
        worker = worker[1:]
    return launch(
        args.nodes, args.procs_per_node, args.cpus, args.out, worker, args.lock_wait_min * 60
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m datalaws.train.launch RESOURCES -- RUN ARGS``, without building the whole CLI."""
    parser = argparse.ArgumentParser(prog="python -m datalaws.train.launch")
    add_launch_args(parser)
    return launch_from_args(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
