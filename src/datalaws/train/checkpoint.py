"""Resumable checkpoints with torch.distributed.checkpoint (DCP).

Layout of ``<run>/ckpt/``:
  step_00000120/   DCP shards of model + optimizer, ``state.json`` (trainer state, rank 0) and
                   ``rng_<rank>.pt`` (each rank's RNG state)
  latest.json      {"dir", "step", "config_hash", "reason"}: written atomically only after every
                   rank finished saving, so a run killed mid-save resumes from the previous one
  final/           model weights only, saved at the end of a successful run (for evaluation)

Older step directories are deleted only after ``latest.json`` points past them. Every load uses
``weights_only=True``, including DCP's non-tensor entries (through ``SafeLoadPlanner``).
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


@contextmanager
def _dcp_quietly() -> Iterator[None]:
    """DCP warns that it works "in a single process" when no process group exists: intended."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "torch.distributed is disabled", UserWarning)
        yield


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
    pointer = root / LATEST
    return atomic.read_json(pointer) if pointer.exists() else None


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
    """Save a resumable checkpoint on every rank, then move the pointer, then prune old ones."""
    name = f"step_{step:08d}"
    path = root / name
    if d.is_main and path.exists():  # debris of an attempt killed while saving this very step
        shutil.rmtree(path)
    barrier(d)
    model_sd, optim_sd = get_state_dict(model, optimizer)
    with _dcp_quietly():
        dcp.save({"model": model_sd, "optim": optim_sd}, checkpoint_id=path)
    torch.save(rng_state(), path / f"rng_{d.rank}.pt")
    barrier(d)
    if d.is_main:
        atomic.write_json(path / "state.json", state)
        pointer = {"dir": name, "step": step, "config_hash": config_hash, "reason": reason}
        atomic.write_json(root / LATEST, pointer)
        prune(root, keep=name)
    barrier(d)


def prune(root: Path, keep: str | None) -> None:
    for old in root.glob("step_*"):
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)


def load(
    root: Path, model: nn.Module, optimizer: torch.optim.Optimizer, d: Dist
) -> tuple[dict, dict]:
    """Restore model, optimizer and RNG from the checkpoint ``latest.json`` names."""
    pointer = latest(root)
    path = root / pointer["dir"]
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
    return pointer, atomic.read_json(path / "state.json")


def save_model(path: Path, model: nn.Module, d: Dist) -> None:
    """Weights only: what evaluation and later studies need, a quarter of a resumable one."""
    if d.is_main and path.exists():
        shutil.rmtree(path)
    barrier(d)
    with _dcp_quietly():
        dcp.save({"model": get_model_state_dict(model)}, checkpoint_id=path)
    barrier(d)


def load_model(path: Path, model: nn.Module) -> None:
    state = {"model": get_model_state_dict(model)}
    with _dcp_quietly():
        dcp.load(state, checkpoint_id=path, planner=SafeLoadPlanner())
    set_model_state_dict(model, state["model"])
