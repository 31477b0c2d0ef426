"""One run directory, one trainer at a time: a lock file that outlives the process that wrote it.

Why: Snakemake's SLURM executor does not re-attach to the jobs it submitted before it was
restarted, so a workflow restarted while a training job still runs submits a second job for the
same run directory. Two trainers there would overwrite each other's checkpoints and metrics.

``<run>/run.lock`` holds JSON: ``host``, ``pid``, ``pid_start`` (the process's start time, so a
recycled pid is not mistaken for the holder), ``slurm_job_id`` and ``since``. It is written to a
temporary file and linked into place (``os.link`` fails if the name exists: atomic, also on NFS),
so it is never half-written and two starters never both create it. A lock is stale, and broken,
when the job or process that wrote it is gone:

* it was written on this host by a process that no longer runs (on this host the process table
  decides, whatever SLURM reports);
* written on another host, it names the SLURM job we run in ourselves (a requeued job keeps its
  id; the old attempt is over), or one that ``squeue`` reports finished or no longer knows.

Anything else is live: ``acquire`` waits up to ``wait_s`` for it to go, then raises ``RunLocked``
(``datalaws train-launch`` exits 73).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

LOCK = "run.lock"
POLL_S = 2.0
# squeue states after which a job's processes are gone (MinJobAge keeps such jobs listed).
ENDED = {
    "BOOT_FAIL",
    "CANCELLED",
    "COMPLETED",
    "DEADLINE",
    "FAILED",
    "NODE_FAIL",
    "OUT_OF_MEMORY",
    "PREEMPTED",
    "TIMEOUT",
}


class RunLocked(RuntimeError):
    """Another live job or process is training this run directory."""


def process_start(pid: int) -> str | None:
    """The start time of ``pid`` in clock ticks since boot (Linux), or None if it is not running."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] == "Z" else fields[19]


def _me() -> dict:
    return {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "pid_start": process_start(os.getpid()),
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _slurm_job_ended(job_id: str) -> bool | None:
    """True if SLURM says the job is over or unknown, False if it may still run, None if squeue
    cannot be asked."""
    try:
        out = subprocess.run(
            ["squeue", "-h", "-j", job_id, "-o", "%T"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return True if "Invalid job id" in out.stderr else None
    state = out.stdout.strip()
    return not state or state in ENDED


def stale_reason(holder: dict) -> str | None:
    """Why the lock ``holder`` wrote is stale, or None if its holder may still be training."""
    job, host = holder.get("slurm_job_id"), holder.get("host")
    if host == socket.gethostname():  # the process table knows best
        start = process_start(int(holder.get("pid", 0)))
        if start is not None and start == holder.get("pid_start"):
            return None
        return f"process {holder.get('pid')} on {host} is no longer running"
    if job and job == os.environ.get("SLURM_JOB_ID"):
        return f"an earlier attempt of this same SLURM job ({job}, requeued) wrote it"
    if job and _slurm_job_ended(job):
        return f"SLURM job {job} is no longer running"
    return None


def describe(holder: dict) -> str:
    job = holder.get("slurm_job_id")
    who = f"SLURM job {job}, " if job else ""
    return f"{who}pid {holder.get('pid')} on {holder.get('host')} since {holder.get('since')}"


def _read(lock: Path) -> tuple[bytes, dict] | None:
    """The lock's bytes and content; None if there is no lock. Content that is not a lock
    (edited by hand) reads as an empty holder, which is stale."""
    try:
        raw = lock.read_bytes()
    except FileNotFoundError:
        return None
    try:
        holder = json.loads(raw)
    except ValueError:
        holder = {}
    return raw, holder if isinstance(holder, dict) else {}


def _create(lock: Path, content: bytes) -> bool:
    """Create the lock with ``content`` unless it exists; atomic, never half-written."""
    tmp = lock.with_name(f".{lock.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(content)
        os.link(tmp, lock)
        return True
    except FileExistsError:
        return False
    except OSError as err:  # a full disk: name the lock, not just the cause
        raise OSError(err.errno, err.strerror, str(lock)) from err
    finally:
        tmp.unlink(missing_ok=True)


def _break(lock: Path, seen: bytes) -> None:
    """Remove the stale lock ``seen``, unless another starter replaced it meanwhile."""
    grabbed = lock.with_name(f".{lock.name}.{os.getpid()}.stale")
    try:
        os.rename(lock, grabbed)
    except FileNotFoundError:
        return
    if grabbed.read_bytes() != seen:  # a fresh lock, taken since we looked: put it back
        with suppress(FileExistsError):
            os.link(grabbed, lock)
    grabbed.unlink()


def acquire(run_dir: Path, wait_s: float = 0.0) -> bytes:
    """Take the run's lock, breaking a stale one; wait up to ``wait_s`` for a live one to go.
    Returns the lock's content (what ``release`` checks). Raises ``RunLocked``."""
    run_dir.mkdir(parents=True, exist_ok=True)
    lock = run_dir / LOCK
    content = (json.dumps(_me(), sort_keys=True) + "\n").encode()
    deadline, said = time.monotonic() + wait_s, False
    while not _create(lock, content):
        found = _read(lock)
        if found is None:
            continue
        raw, holder = found
        reason = stale_reason(holder) if holder else "it is not a lock file"
        if reason is not None:
            print(f"{lock}: breaking a stale lock ({reason})", file=sys.stderr, flush=True)
            _break(lock, raw)
            continue
        if time.monotonic() >= deadline:
            raise RunLocked(
                f"{run_dir} is being trained by {describe(holder)} ({lock}); not training it a "
                "second time. Wait for that job, or stop it; delete the lock only if it is "
                "certainly gone"
            )
        if not said:
            print(f"waiting for {describe(holder)} to finish {run_dir}", file=sys.stderr)
            said = True
        time.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))
    return content


def release(run_dir: Path, content: bytes) -> None:
    """Remove the lock if it is still the one ``acquire`` wrote."""
    found = _read(run_dir / LOCK)
    if found is not None and found[0] == content:
        (run_dir / LOCK).unlink(missing_ok=True)


@contextmanager
def held(run_dir: str | os.PathLike[str], wait_s: float = 0.0) -> Iterator[None]:
    """Hold the run's lock for the block (see the module docstring)."""
    path = Path(run_dir)
    content = acquire(path, wait_s)
    try:
        yield
    finally:
        release(path, content)
