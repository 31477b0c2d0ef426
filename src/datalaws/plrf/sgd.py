"""One-pass SGD on PLRF, batched over independent runs in torch (CPU, or GPU when present).

Each run draws fresh Gaussian samples x = D^(1/2) z in R^v at every step; the features W are either
one shared draw (runs differ only in their samples, so the mean over runs estimates the expected
loss for that W) or one draw per run. The loss recorded at the chosen steps is the exact
population loss (W theta - b)^T D (W theta - b) of the current theta, not a sample estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from datalaws.plrf.deterministic import check_step
from datalaws.plrf.model import PLRF, PLRFError, draw_features
from datalaws.plrf.spectrum import ExactSpectrum

SAMPLE_CHUNK = 64  # steps of Gaussian samples drawn per call, to amortise the generator


@dataclass(frozen=True)
class SGDRuns:
    """Population losses, one row per run, one column per recorded step."""

    steps: np.ndarray
    losses: np.ndarray

    def mean(self) -> np.ndarray:
        return self.losses.mean(axis=0)

    def stderr(self) -> np.ndarray:
        runs = self.losses.shape[0]
        return (
            self.losses.std(axis=0, ddof=1) / np.sqrt(runs)
            if runs > 1
            else np.full(self.steps.shape, np.nan)
        )


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _features(problem: PLRF, seeds: list[int], device: torch.device) -> torch.Tensor:
    mats = [draw_features(problem.d, problem.v, s) for s in seeds]
    return torch.as_tensor(np.stack(mats), dtype=torch.float64, device=device)


def _embed(w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """W^T x for x of shape (runs, batch, v): one GEMM when W is shared, else batched."""
    return x @ w[0] if w.shape[0] == 1 else torch.bmm(x, w)


def _population_loss(
    w: torch.Tensor, theta: torch.Tensor, sig: torch.Tensor, b: torch.Tensor
) -> torch.Tensor:
    w_theta = theta @ w[0].T if w.shape[0] == 1 else torch.bmm(w, theta[:, :, None])[..., 0]
    resid = w_theta - b
    return (resid * resid * sig).sum(dim=1)


def simulate(
    problem: PLRF,
    gamma: float,
    batch: int,
    record: np.ndarray,
    runs: int,
    seed: int,
    shared_features: bool = True,
    device: torch.device | None = None,
    threads: int | None = 1,
) -> SGDRuns:
    """Run ``runs`` independent one-pass SGD trajectories from theta = 0 and record the exact
    population loss after each step in ``record`` (sorted, non-negative integers).

    The features come from ``draw_features(d, v, seed)`` (shared) or seeds seed, seed+1, ...
    (one per run), so ``ExactSpectrum.from_seed`` with the same seed describes the same W. The step
    is checked against the exact stability limit of each W before anything runs. On CPU the
    per-step tensors are small, and on a shared machine one torch thread is many times faster
    than two fighting for cores: ``threads`` sets the count for this call (None: leave it)."""
    record = np.asarray(record, dtype=np.int64)
    if record.ndim != 1 or record.size == 0 or np.any(np.diff(record) <= 0) or record[0] < 0:
        raise PLRFError("record must be a non-empty, strictly increasing list of steps >= 0")
    if runs < 1:
        raise PLRFError(f"runs must be >= 1, got {runs}")
    seeds = [seed] if shared_features else [seed + k for k in range(runs)]
    for s in seeds:
        check_step(ExactSpectrum.from_seed(problem, s), gamma, batch)
    device = device or default_device()
    saved = torch.get_num_threads()
    if threads is not None and device.type == "cpu":
        torch.set_num_threads(threads)
    try:
        return _run(problem, gamma, batch, record, runs, seed, seeds, device)
    finally:
        torch.set_num_threads(saved)


def _run(
    problem: PLRF,
    gamma: float,
    batch: int,
    record: np.ndarray,
    runs: int,
    seed: int,
    seeds: list[int],
    device: torch.device,
) -> SGDRuns:
    gen = torch.Generator(device=device).manual_seed(seed + 7919)
    w = _features(problem, seeds, device)
    sig = torch.as_tensor(problem.covariance(), device=device)
    b = torch.as_tensor(problem.target(), device=device)
    root_sig = sig.sqrt()
    target_scale = root_sig * b  # <x, b> = <z, sqrt(sig) * b>
    theta = torch.zeros(runs, problem.d, dtype=torch.float64, device=device)
    out = np.empty((runs, record.size))
    col = 0
    if record[0] == 0:
        out[:, 0] = _population_loss(w, theta, sig, b).cpu().numpy()
        col = 1
    step = 0
    while col < record.size:
        todo = min(SAMPLE_CHUNK, int(record[col] - step))
        z = torch.randn(
            todo, runs, batch, problem.v, generator=gen, dtype=torch.float64, device=device
        )
        for k in range(todo):
            x = z[k] * root_sig  # (runs, batch, v)
            feats = _embed(w, x)  # (runs, batch, d)
            resid = torch.einsum("rbd,rd->rb", feats, theta) - z[k] @ target_scale
            theta -= gamma * torch.einsum("rbd,rb->rd", feats, resid)
        step += todo
        if step == record[col]:
            out[:, col] = _population_loss(w, theta, sig, b).cpu().numpy()
            col += 1
    if not np.all(np.isfinite(out)):
        raise FloatingPointError("SGD produced a non-finite loss")
    return SGDRuns(record.copy(), out)
