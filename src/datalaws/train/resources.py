"""How much machine a run needs, computed from its size and FLOPs before it starts.

One function, ``plan``, turns (model, budget, hyperparameters, resource config) into the numbers a
scheduler needs -- gpu, nodes, tasks, cpus_per_task, mem_mb, runtime (minutes), the GPU model
and the warning lead before the time limit -- plus ``procs_per_node`` and the launcher that follows
from them (see ``launch.py``). Every Snakemake rule that trains reads these numbers; nothing else
decides how a run is launched or when SLURM warns it.

Time limits rest on an estimate of each run's training time: from a measured cost model
(``cost_model``, written by ``make gpu-check``; see ``costmodel.py``) when one is configured, else
from the run's FLOPs at an assumed fraction of the GPU's peak (``assumed_mfu``) or an assumed CPU
rate (``cpu_flops``). Every plan names its basis (``runtime_basis``), and the SLURM preview says it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from datalaws.train import costmodel
from datalaws.train.config import HyperParams, TrainConfigError
from datalaws.train.flops import training_flops
from datalaws.train.launch import launcher_name
from datalaws.train.shape import ModelConfig, count_parameters

GiB = 1 << 30
# SLURM checks its timers about once a minute, so a warning can arrive up to this much early.
SIGNAL_EARLY_S = 60


@dataclass(frozen=True)
class ResourceConfig:
    accelerator: str = "cpu"  # "cpu" or "gpu"
    cpu_ranks: int = 1  # processes on CPU (more than 1 runs torchrun with gloo)
    threads_per_rank: int = 1  # torch threads per CPU process
    cpu_flops: float = 2e9  # sustained training FLOP/s of one CPU thread (measured: bench_train)
    gpus_per_node: int = 4
    max_nodes: int = 1
    cpus_per_gpu: int = 8
    gpu_memory_gb: float = 80.0
    gpu_peak_flops: float = 312e12  # A100 bf16 dense; H100 SXM: 989e12
    assumed_mfu: float = 0.3  # fraction of peak a run is expected to reach (runtime estimate)
    target_runtime_min: float = 240.0  # add GPUs (powers of two) until the estimate fits
    runtime_safety: float = 2.0  # multiply the estimate: schedulers kill jobs that overrun
    startup_min: float = 2.0  # imports, process group, first compile, final evaluation
    min_runtime_min: float = 10.0  # at least 2 x (warning_lead_s + 60 s): see check_warning_lead
    host_mem_overhead_mb: int = 1500  # per process: Python, torch, CUDA context
    vocab_size_hint: int = 4096  # used when the corpus sidecar is not there yet (dry runs)
    warning_lead_s: float = 120.0  # SLURM warns (SIGURG) this long before the time limit
    gpu_model: str = ""  # pin a GPU type (sbatch --gpus=MODEL:N); empty: any GPU
    cost_model: str = ""  # measured step times (make gpu-check) instead of assumed_mfu/cpu_flops

    def __post_init__(self) -> None:
        if self.accelerator not in ("cpu", "gpu"):
            raise TrainConfigError(
                f"train.resources.accelerator must be 'cpu' or 'gpu', got {self.accelerator!r}"
            )
        for f in fields(self):
            if f.type != "str" and getattr(self, f.name) <= 0:
                raise TrainConfigError(
                    f"train.resources.{f.name} must be > 0, got {getattr(self, f.name)}"
                )
        check_warning_lead(self)
        if self.cost_model:
            check_cost_model(self)


def check_warning_lead(rc: ResourceConfig) -> None:
    """Refuse a warning lead that is not well below the shortest time limit.

    A job whose limit is shorter than the lead is warned at once, and SLURM can warn up to a minute
    early: a run would then checkpoint and stop before doing any work, attempt after attempt (seen
    on the test cluster under load). Every plan's limit is at least ``min_runtime_min``, so checking
    that one number covers every run: the lead plus SLURM's slack must be at most half of it.
    """
    shortest_s = 60 * rc.min_runtime_min
    if shortest_s < 2 * (rc.warning_lead_s + SIGNAL_EARLY_S):
        need = math.ceil(2 * (rc.warning_lead_s + SIGNAL_EARLY_S) / 60)
        raise TrainConfigError(
            f"train.resources.warning_lead_s: a warning {rc.warning_lead_s:g} s before the limit "
            f"(SLURM may send it up to {SIGNAL_EARLY_S} s earlier) is not well below the shortest "
            f"time limit, train.resources.min_runtime_min = {rc.min_runtime_min:g} min; raise "
            f"min_runtime_min to at least {need} or shorten the lead"
        )


def check_cost_model(rc: ResourceConfig) -> None:
    """Load the cost model now, so a missing or foreign file stops the workflow before any job."""
    try:
        model = costmodel.load(rc.cost_model)
    except TrainConfigError as err:
        raise TrainConfigError(f"train.resources.cost_model: {err}") from err
    if model.accelerator != rc.accelerator:
        raise TrainConfigError(
            f"train.resources.cost_model: {rc.cost_model} was measured on a {model.accelerator} "
            f"({model.device}), but train.resources.accelerator is {rc.accelerator!r}"
        )


def runtime_basis(rc: ResourceConfig) -> str:
    """What a plan's time estimate rests on, as one token (scripts/slurm/preview.py spells it out):
    ``measured:<cost model file>``, ``assumed_mfu:<fraction>`` or ``assumed_cpu_flops:<rate>``."""
    if rc.cost_model:
        return f"measured:{rc.cost_model}"
    if rc.accelerator == "gpu":
        return f"assumed_mfu:{rc.assumed_mfu:g}"
    return f"assumed_cpu_flops:{rc.cpu_flops:g}"


def train_seconds(
    cfg: ModelConfig, budget: int, hyper: HyperParams, rc: ResourceConfig, devices: int
) -> float:
    """Estimated optimizer-step time of a run on ``devices`` GPUs (or CPU processes): from the
    measured cost model when one is configured, else from FLOPs and an assumed rate."""
    documents = budget // cfg.context
    if rc.cost_model:
        return costmodel.load(rc.cost_model).run_seconds(cfg, documents, hyper.batch_size, devices)
    flops = training_flops(cfg, documents, cfg.context - 1)
    if rc.accelerator == "cpu":
        return flops / (rc.cpu_flops * devices * rc.threads_per_rank)
    return flops / (devices * rc.gpu_peak_flops * rc.assumed_mfu)


def estimate_memory_bytes(cfg: ModelConfig, rows: int, world: int, bf16: bool) -> int:
    """Peak per-rank memory of one training step, a deliberately generous estimate.

    States: fp32 parameters, gradients and two AdamW moments (16 bytes/parameter), sharded over
    ``world`` ranks, plus one block gathered unsharded. Activations kept for backward: per layer
    and position about 11 d + 4 ffn values (norm inputs and outputs, q/k/v before and after
    rotary, attention output, three SwiGLU intermediates), plus three vocabulary-sized fp32
    arrays for the loss (logits, softmax, its gradient), for ``rows`` sequences at once.
    """
    n = count_parameters(cfg)["total"]
    block = 4 * cfg.dim * cfg.dim + 3 * cfg.dim * cfg.ffn
    act_bytes = 2 if bf16 else 4
    per_position = cfg.layers * (11 * cfg.dim + 4 * cfg.ffn) * act_bytes + 12 * cfg.vocab_size
    states = 16 * n / world + 4 * block
    return int(1.2 * (states + rows * cfg.context * per_position))


def plan(cfg: ModelConfig, budget: int, hyper: HyperParams, rc: ResourceConfig) -> dict:
    """Scheduler resources for one run (see the module docstring)."""
    flops = training_flops(cfg, budget // cfg.context, cfg.context - 1)
    bf16 = hyper.precision == "bf16" or (hyper.precision == "auto" and rc.accelerator == "gpu")
    n_total = count_parameters(cfg)["total"]
    if rc.accelerator == "cpu":
        gpus, nodes, procs = 0, 1, rc.cpu_ranks
        cpus = procs * rc.threads_per_rank
        seconds = train_seconds(cfg, budget, hyper, rc, procs)
        device_bytes = 0
        rows = -(-hyper.batch_size // procs)
        host_bytes = procs * estimate_memory_bytes(cfg, rows, procs, bf16)
    else:
        gpus = _gpus_needed(cfg, budget, hyper, rc, bf16)
        nodes = -(-gpus // rc.gpus_per_node)
        procs = gpus // nodes
        cpus = procs * rc.cpus_per_gpu
        seconds = train_seconds(cfg, budget, hyper, rc, gpus)
        device_bytes = estimate_memory_bytes(cfg, -(-hyper.batch_size // gpus), gpus, bf16)
        host_bytes = procs * 16 * n_total / gpus  # each rank stages its checkpoint shard
    runtime = rc.startup_min + rc.runtime_safety * seconds / 60
    return {
        "gpu": gpus,
        "nodes": nodes,
        "tasks": nodes,  # one launcher (torchrun) per node
        "cpus_per_task": cpus,
        "procs_per_node": procs,
        "mem_mb": int(procs * rc.host_mem_overhead_mb + host_bytes / 2**20),
        "runtime": max(math.ceil(runtime), int(rc.min_runtime_min)),
        "launcher": launcher_name(nodes, procs),
        "warning_lead_s": rc.warning_lead_s,
        "gpu_model": rc.gpu_model if gpus else "",
        "runtime_basis": runtime_basis(rc),
        "estimate_min": round(seconds / 60, 3),
        "flops": flops,
        "device_mem_gb": round(device_bytes / GiB, 3),
    }


def _gpus_needed(
    cfg: ModelConfig, budget: int, hyper: HyperParams, rc: ResourceConfig, bf16: bool
) -> int:
    """Fewest GPUs (a power of two) that fit the memory and the target runtime, capped by the
    batch (each GPU needs at least one sequence per step) and by max_nodes * gpus_per_node."""
    cap = min(rc.max_nodes * rc.gpus_per_node, hyper.batch_size)
    gpus = 1
    while gpus < cap:
        rows = -(-hyper.batch_size // gpus)
        fits = estimate_memory_bytes(cfg, rows, gpus, bf16) <= 0.9 * rc.gpu_memory_gb * GiB
        minutes = train_seconds(cfg, budget, hyper, rc, gpus) / 60
        if fits and minutes <= rc.target_runtime_min:
            break
        gpus *= 2
    gpus = min(gpus, cap)
    if gpus > rc.gpus_per_node:  # whole nodes only
        gpus = -(-gpus // rc.gpus_per_node) * rc.gpus_per_node
    return gpus
