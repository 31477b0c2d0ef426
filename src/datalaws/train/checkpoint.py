"""Resumable checkpoints with torch.distributed.checkpoint (DCP), the last two kept.

Layout of ``<run>/ckpt/``:
  step_00000120/   DCP shards of model + optimizer, ``state.json`` (trainer state, rank 0),
                   ``rng_<rank>.pt`` (each rank's RNG state) and, written last, ``checkpoint.json``
                   (step, config hash, reason, and the size of every other file in the folder)
  latest.json      {"dir", "step", "config_hash", "reason"}: the newest complete checkpoint
  final/           model weights only, saved at the end of a successful run (for evaluation)

A job killed while saving, or a full disk, leaves the newest folder without its manifest or with
files shorter than it records. ``resume`` therefore tries the folders newest first and takes the
first one that is complete, of this config, and loads without error; the two newest complete
checkpoints are kept so that there is one to fall back on. Every load uses ``weights_only=True``,
including DCP's non-tensor entries (through ``SafeLoadPlanner``).
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
import torch.distributed.checkpoint as dcp
from torch import nn
from torch.distributed.checkpoint._traverse import set_element
from torch.distributed.checkpoint.default_planner import DefaultLoadPlanner
from torch.distributed.checkpoint.state_dict import (
    get_model_state_dict,
    get_state_dict,
    set_model_state_dict,
    set_state_dict,
)

from datalaws import atomic
from datalaws.train.distributed import Dist, barrier

LATEST = "latest.json"
MANIFEST = "checkpoint.json"
# DCP reports a failed load as CheckpointException, which is not an Exception.
LOAD_ERRORS = (Exception, dcp.CheckpointException)
KEEP = 2  # complete checkpoints kept: the newest, and one to fall back on if it is unreadable


@contextmanager
def _dcp_quietly() -> Iterator[None]:
    """DCP warns that it works "in a single process" when no process group exists: intended."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "torch.distributed is disabled", UserWarning)
        yield


@contextmanager
def _os_errors_named(path: Path) -> Iterator[None]:
    """DCP reports a failed write (disk full) as a CheckpointException holding each rank's error
    and traceback; raise the first rank's OSError instead, naming the checkpoint."""
    try:
        yield
    except dcp.CheckpointException as err:
        for exc, _ in err.failures.values():
            if isinstance(exc, OSError):
                raise OSError(exc.errno, exc.strerror, exc.filename or str(path)) from None
        raise


class SafeLoadPlanner(DefaultLoadPlanner):
    """DCP's default planner unpickles non-tensor entries freely; restrict them to plain data."""

    def load_bytes(self, read_item, value) -> None:
        obj = torch.load(value, weights_only=True)
        if self.flatten_state_dict:
            set_element(self.original_state_dict, self.mappings[read_item.dest_index.fqn], obj)
        else:
            self.state_dict[read_item.dest_index.fqn] = obj


def rng_state() -> dict[str, torch.Tensor]:
    state = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def set_rng_state(state: dict[str, torch.Tensor]) -> None:
    torch.set_rng_state(state["cpu"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])


def latest(root: Path) -> dict | None:
    """The pointer to the newest complete checkpoint under ``root`` (a hint: see ``resume``)."""
    pointer = root / LATEST
    return atomic.read_json(pointer) if pointer.exists() else None


def step_dirs(root: Path) -> list[Path]:
    """Checkpoint folders under ``root``, newest step first."""
    found = [p for p in root.glob("step_*") if p.is_dir() and p.name[5:].isdigit()]
    return sorted(found, key=lambda p: int(p.name[5:]), reverse=True)


def problem(path: Path, config_hash: str) -> str | None:
    """Why the checkpoint in ``path`` cannot be resumed by this config, or None if it looks whole:
    its manifest is readable, of this config, and every file it lists is there at full size."""
    try:
        manifest = atomic.read_json(path / MANIFEST)
        atomic.read_json(path / "state.json")
    except (OSError, ValueError) as err:
        return f"unreadable ({err})"
    if manifest.get("config_hash") != config_hash:
        return "written by a different config"
    for name, size in manifest.get("files", {}).items():
        file = path / name
        if not file.is_file():
            return f"{name} is missing"
        if file.stat().st_size != size:
            return f"{name} has {file.stat().st_size} bytes, {size} were written"
    return None


def save(
    root: Path,
    step: int,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    state: dict,
    config_hash: str,
    reason: str,
    d: Dist,
) -> None:
    """Save a resumable checkpoint on every rank, then its manifest, then move the pointer, then
    prune all but the newest ``KEEP`` complete ones."""
    name = f"step_{step:08d}"
    path = root / name
    if d.is_main and path.exists():  # debris of an attempt killed while saving this very step
        shutil.rmtree(path)
    barrier(d)
    model_sd, optim_sd = get_state_dict(model, optimizer)
    with _dcp_quietly(), _os_errors_named(path):
        dcp.save({"model": model_sd, "optim": optim_sd}, checkpoint_id=path)
    with atomic.atomic_open(path / f"rng_{d.rank}.pt") as handle:
        torch.save(rng_state(), handle)
    barrier(d)
    if d.is_main:
        atomic.write_json(path / "state.json", state)
        files = {p.name: p.stat().st_size for p in sorted(path.iterdir()) if p.is_file()}
        manifest = {"step": step, "config_hash": config_hash, "reason": reason, "files": files}
        atomic.write_json(path / MANIFEST, manifest)
        pointer = {"dir": name, "step": step, "config_hash": config_hash, "reason": reason}
        atomic.write_json(root / LATEST, pointer)
        prune(root, KEEP)
    barrier(d)


def prune(root: Path, keep: int = 0) -> None:
    """Delete every checkpoint folder but the newest ``keep`` complete ones (any config)."""
    kept = 0
    for path in step_dirs(root):
        if kept < keep and (path / MANIFEST).exists():
            kept += 1
        else:
            shutil.rmtree(path, ignore_errors=True)


def load(path: Path, model: nn.Module, optimizer: torch.optim.Optimizer, d: Dist) -> dict:
    """Restore model, optimizer and RNG from the checkpoint in ``path``; return trainer state."""
    model_sd, optim_sd = get_state_dict(model, optimizer)
    loaded = {"model": model_sd, "optim": optim_sd}
    with _dcp_quietly():
        dcp.load(loaded, checkpoint_id=path, planner=SafeLoadPlanner())
    set_state_dict(
        model, optimizer, model_state_dict=loaded["model"], optim_state_dict=loaded["optim"]
    )
    rng_file = path / f"rng_{d.rank}.pt"
    if rng_file.exists():  # absent when resuming on more ranks than saved
        set_rng_state(torch.load(rng_file, weights_only=True))
    return atomic.read_json(path / "state.json")


def save_model(path: Path, model: nn.Module, d: Dist) -> None:
    """Weights only: what evaluation and later studies need, a quarter of a resumable one."""
    if d.is_main and path.exists():
        shutil.rmtree(path)
    barrier(d)
    with _dcp_quietly(), _os_errors_named(path):
        dcp.save({"model": get_model_state_dict(model)}, checkpoint_id=path)
    barrier(d)


def load_model(path: Path, model: nn.Module) -> None:
    state = {"model": get_model_state_dict(model)}
    with _dcp_quietly():
        dcp.load(state, checkpoint_id=path, planner=SafeLoadPlanner())
    set_model_state_dict(model, state["model"])
