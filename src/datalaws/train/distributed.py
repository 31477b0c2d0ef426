"""Process group, device and FSDP2 wrapping: the only module that knows whether we run distributed.

Under torchrun (RANK/WORLD_SIZE set) every rank joins a process group (NCCL on GPU, gloo on CPU)
and the model is sharded with FSDP2 (``fully_shard``, one unit per block plus the root). Without
torchrun the same code runs as one plain process with no process group at all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard


@dataclass(frozen=True)
class Dist:
    rank: int
    world: int
    device: torch.device
    distributed: bool

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def resolve_device(choice: str) -> torch.device:
    if choice == "auto":
        choice = "cuda" if torch.cuda.is_available() else "cpu"
    if choice == "cuda" and not torch.cuda.is_available():
        raise ValueError("train.run.device is 'cuda' but no CUDA device is available")
    return torch.device(choice)


def init(device_choice: str) -> Dist:
    """Join torchrun's process group if launched by torchrun; otherwise run as one process."""
    device = resolve_device(device_choice)
    if "RANK" not in os.environ:
        return Dist(0, 1, device, False)
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend, device_id=device if device.type == "cuda" else None)
    return Dist(rank, world, device, True)


def shard(model: nn.Module, d: Dist, bf16: bool) -> nn.Module:
    """FSDP2 over all ranks: each block is a unit, so only one block is ever gathered at a time."""
    if not d.distributed:
        return model
    mesh = init_device_mesh(d.device.type, (d.world,))
    policy = (
        MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32)
        if bf16
        else MixedPrecisionPolicy()
    )
    for block in model.layers:
        fully_shard(block, mesh=mesh, mp_policy=policy)
    fully_shard(model, mesh=mesh, mp_policy=policy)
    return model


def all_sum(values: list[float], d: Dist) -> list[float]:
    """Sum a few scalars over ranks in one collective (a no-op in one process)."""
    if not d.distributed:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=d.device)
    dist.all_reduce(t)
    return t.tolist()


def barrier(d: Dist) -> None:
    if d.distributed:
        dist.barrier()


def close(d: Dist) -> None:
    if d.distributed and dist.is_initialized():
        dist.destroy_process_group()
