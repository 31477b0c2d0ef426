"""How long a training step takes on a given device, fitted to measured steps (``make gpu-check``).

The resource planner needs a run's wall time before it starts. Without measurements it divides the
run's FLOPs by an assumed fraction of the GPU's peak (``assumed_mfu``), which is badly wrong for
small models: their steps cost kernel launches, the optimizer and a host sync, not matrix work.
A cost model replaces the assumption with

    seconds per optimizer step = step_overhead_s + layer_overhead_s * layers + flops / flops_per_s

where ``flops`` is the exact training FLOPs one device does in the step (``datalaws.train.flops``
for its share of the batch), ``step_overhead_s`` the fixed cost of a step (optimizer, loss
all-reduce and host sync, data), ``layer_overhead_s`` what each block adds beyond its arithmetic
(launches, norms, rotary, element-wise work) and ``flops_per_s`` the sustained matrix rate. The
three coefficients are fitted by non-negative least squares on relative error, so small and large
models count alike. With fewer than three distinct measurements, only a pooled rate is fitted
(``form: rate``). A run's time is its number of steps times the step time; on several devices each
does ``ceil(batch / devices)`` rows per step, and communication is not modelled.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from scipy.optimize import nnls

from datalaws import atomic
from datalaws.train.config import TrainConfigError
from datalaws.train.flops import training_flops
from datalaws.train.shape import ModelConfig

FORMAT = "datalaws-cost-model-v1"
FORMS = ("overhead+rate", "rate")


class CostModelError(TrainConfigError):
    """A cost-model file that cannot be used."""


@dataclass(frozen=True)
class StepTiming:
    """One measured configuration: blocks, FLOPs per device per step, median step seconds."""

    layers: int
    flops_per_step: float
    step_s: float
    size: str = ""


@dataclass(frozen=True)
class CostModel:
    accelerator: str  # "gpu" or "cpu": the planner refuses a model measured on the other kind
    device: str  # the device name as reported when measured
    form: str  # "overhead+rate" or "rate"
    step_overhead_s: float
    layer_overhead_s: float
    flops_per_s: float
    max_rel_error: float  # largest |predicted / measured - 1| over the points
    points: tuple[StepTiming, ...]
    meta: dict = field(default_factory=dict)  # precision, compile, context, peak, how measured

    def step_seconds(self, layers: int, flops_per_step: float) -> float:
        return (
            self.step_overhead_s
            + self.layer_overhead_s * layers
            + flops_per_step / self.flops_per_s
        )

    def run_seconds(self, cfg: ModelConfig, documents: int, batch: int, devices: int) -> float:
        """Wall time of the optimizer steps of one run (start-up and evaluation not included)."""
        steps = -(-documents // batch)
        rows = -(-batch // devices)
        return steps * self.step_seconds(cfg.layers, training_flops(cfg, rows, cfg.context - 1))

    def to_dict(self) -> dict:
        record = asdict(self)
        record["points"] = [asdict(p) for p in self.points]
        return {"format": FORMAT, **record}


def fit(points: list[StepTiming], accelerator: str, device: str, meta: dict) -> CostModel:
    """Fit the step-time model to measured steps (see the module docstring)."""
    if not points:
        raise CostModelError("cost model: no measured steps to fit")
    for p in points:
        if not (p.step_s > 0 and p.flops_per_step > 0 and p.layers >= 1):
            raise CostModelError(f"cost model: measured step {p} is not positive")
    layers = np.array([p.layers for p in points], dtype=float)
    flops = np.array([p.flops_per_step for p in points])
    seconds = np.array([p.step_s for p in points])
    distinct = len({(p.layers, p.flops_per_step) for p in points})
    coef = np.zeros(3)
    if distinct >= 3:
        design = np.column_stack([np.ones_like(layers), layers, flops]) / seconds[:, None]
        scale = design.max(axis=0)  # columns differ by ~1e13: scale them for the solver
        solution, _ = nnls(design / scale, np.ones(len(points)))
        coef = solution / scale
    form = "overhead+rate" if coef[2] > 0 else "rate"
    if form == "rate":
        coef = np.array([0.0, 0.0, seconds.sum() / flops.sum()])
    predicted = coef[0] + coef[1] * layers + coef[2] * flops
    return CostModel(
        accelerator=accelerator,
        device=device,
        form=form,
        step_overhead_s=float(coef[0]),
        layer_overhead_s=float(coef[1]),
        flops_per_s=float(1.0 / coef[2]),
        max_rel_error=float(np.max(np.abs(predicted / seconds - 1.0))),
        points=tuple(points),
        meta=dict(meta),
    )


def save(model: CostModel, path: str | Path) -> None:
    atomic.write_json(path, model.to_dict())


def from_dict(record: dict, where: str) -> CostModel:
    """Rebuild a saved model, naming the file and key of anything missing or out of range."""
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise CostModelError(f"{where}: not a cost model (format {FORMAT!r} expected)")
    try:
        points = tuple(StepTiming(**p) for p in record["points"])
        model = CostModel(
            **{k: v for k, v in record.items() if k not in ("format", "points")}, points=points
        )
    except (KeyError, TypeError) as err:
        raise CostModelError(f"{where}: malformed cost model ({err})") from err
    if model.accelerator not in ("gpu", "cpu") or model.form not in FORMS:
        raise CostModelError(f"{where}: accelerator must be gpu or cpu and form one of {FORMS}")
    numbers = {
        "step_overhead_s": model.step_overhead_s,
        "layer_overhead_s": model.layer_overhead_s,
        "flops_per_s": model.flops_per_s,
    }
    for key, value in numbers.items():
        if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
            raise CostModelError(f"{where}: {key} must be a finite number >= 0, got {value!r}")
    if model.flops_per_s <= 0:
        raise CostModelError(f"{where}: flops_per_s must be > 0")
    return model


def load(path: str | Path) -> CostModel:
    """Read a cost model once per file version (the planner asks for it for every job)."""
    path = Path(path)
    try:
        stamp = os.stat(path).st_mtime_ns
    except FileNotFoundError as err:
        raise CostModelError(
            f"{path}: cost model not found; `make gpu-check` writes one "
            "(results/gpu-check/cost_model.json), or leave train.resources.cost_model unset"
        ) from err
    return _load(str(path), stamp)


@functools.lru_cache(maxsize=8)
def _load(path: str, stamp: int) -> CostModel:
    try:
        record = atomic.read_json(path)
    except ValueError as err:
        raise CostModelError(str(err)) from err
    return from_dict(record, path)
