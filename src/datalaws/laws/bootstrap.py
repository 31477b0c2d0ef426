"""Bootstrap over runs, vectorised across resamples.

A resample is a vector of run multiplicities, so all resamples share one copy of the data and the
objective kernel evaluates (resample, start) pairs together. Each resample is started from the
distinct optima of the full-data fit (which itself searched the full 4500-point grid) plus a few
points of the grid drawn at random per resample, so a resample whose optimum lies in another basin
can still reach it; the best end point per resample is its estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from datalaws.laws.chinchilla import FitResult, init_grid
from datalaws.laws.objective import RunData
from datalaws.laws.optim import minimize_batched


def resample_weights(n_runs: int, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Multiplicity of each run in each resample: (n_resamples, n_runs) counts summing to n_runs."""
    picks = rng.integers(0, n_runs, size=(n_resamples, n_runs))
    offsets = np.arange(n_resamples)[:, None] * n_runs
    counts = np.bincount((picks + offsets).ravel(), minlength=n_resamples * n_runs)
    return counts.reshape(n_resamples, n_runs).astype(float)


def stratified_weights(
    groups: np.ndarray, n_resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """Resample runs within each group (e.g. grammar): every resample keeps each group's size."""
    groups = np.asarray(groups)
    weights = np.zeros((n_resamples, groups.size))
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        weights[:, idx] = resample_weights(idx.size, n_resamples, rng)
    return weights


def law_resamples(
    n: np.ndarray, d: np.ndarray, n_resamples: int, seed: int, max_redraws: int = 1000
) -> np.ndarray:
    """The resamples a law fit with this seed uses; approaches 1 and 2 reuse them, paired.

    A resample that drops every run at the smallest or largest N, or the smallest or largest D,
    is redrawn: such a resample leaves the law free at an edge of the range it is reported on, and
    on flat data (a grammar learnt to its floor) its fit predicts astronomically wrong losses
    there. The bootstrap is thus conditional on spanning the fitted range, a small narrowing that
    the coverage test (tests/test_laws_coverage.py) shows leaves the intervals calibrated.
    """
    n, d = np.asarray(n, float), np.asarray(d, float)
    edges = [n == n.min(), n == n.max(), d == d.min(), d == d.max()]
    rng = np.random.default_rng(seed)
    weights = resample_weights(n.size, n_resamples, rng)
    for _ in range(max_redraws):
        bad = np.flatnonzero(np.any([weights[:, e].sum(axis=1) == 0 for e in edges], axis=0))
        if bad.size == 0:
            return weights
        weights[bad] = resample_weights(n.size, bad.size, rng)
    raise ValueError(
        f"bootstrap: {bad.size} resamples still miss an edge of the N or D range after "
        f"{max_redraws} redraws; the runs are too few to bootstrap"
    )


@dataclass(frozen=True)
class Bootstrap:
    """Per-resample estimates (rows of theta), objective values and convergence."""

    theta: np.ndarray
    objective: np.ndarray
    converged: np.ndarray
    starts_per_resample: int
    seed: int


def best_per_resample(
    data: RunData,
    weights: np.ndarray,
    starts: np.ndarray,
    *,
    chunk: int = 1000,
    max_iter: int = 1000,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minimise every resample from every start (starts: (R, S, P)); keep each resample's best.

    Resamples go through in chunks so that the optimiser's state stays bounded in memory.
    """
    n_res, n_starts, n_par = starts.shape
    theta = np.empty((n_res, n_par))
    f = np.empty(n_res)
    conv = np.empty(n_res, dtype=bool)
    for lo in range(0, n_res, chunk):
        hi = min(lo + chunk, n_res)
        w = weights[lo:hi]
        rowmap = np.repeat(np.arange(hi - lo), n_starts)
        res = minimize_batched(
            lambda x, rows, w=w, rowmap=rowmap: data.evaluate(x, w, rowmap[rows]),
            starts[lo:hi].reshape(-1, n_par),
            max_iter=max_iter,
        )
        fr = np.where(np.isfinite(res.f), res.f, np.inf).reshape(hi - lo, n_starts)
        best = np.argmin(fr, axis=1)
        pick = np.arange(hi - lo) * n_starts + best
        theta[lo:hi] = res.x[pick]
        f[lo:hi] = res.f[pick]
        conv[lo:hi] = res.converged[pick]
    return theta, f, conv


def resample_starts(
    full: FitResult, data: RunData, n_resamples: int, seed: int, n_grid_starts: int = 4
) -> tuple[np.ndarray, np.ndarray]:
    """Each resample's run multiplicities (R, n) and starts (R, S, 5): the full-data optima,
    then ``n_grid_starts`` points of the initialisation grid drawn for that resample."""
    weights = law_resamples(np.exp(data.log_n), np.exp(data.log_d), n_resamples, seed)
    rng = np.random.default_rng([seed, 1])
    grid = init_grid()
    picks = rng.integers(0, len(grid), size=(n_resamples, n_grid_starts))
    warm = np.broadcast_to(full.optima, (n_resamples, *full.optima.shape))
    return weights, np.concatenate([warm, grid[picks]], axis=1)


def bootstrap_fit(
    data: RunData,
    full: FitResult,
    *,
    n_resamples: int = 1000,
    seed: int = 0,
    n_grid_starts: int = 4,
) -> Bootstrap:
    """Refit the law on ``n_resamples`` resamples of the runs (seeded, independent of chunking)."""
    if n_resamples < 1:
        raise ValueError(f"bootstrap: n_resamples must be at least 1, got {n_resamples}")
    weights, starts = resample_starts(full, data, n_resamples, seed, n_grid_starts)
    theta, f, conv = best_per_resample(data, weights, starts)
    return Bootstrap(
        theta=theta, objective=f, converged=conv, starts_per_resample=starts.shape[1], seed=seed
    )


def percentile_interval(samples: np.ndarray, level: float = 0.95) -> np.ndarray:
    """Percentile interval of each column (NaN samples, e.g. undefined frontiers, are skipped)."""
    tail = (1.0 - level) / 2.0
    return np.nanquantile(np.asarray(samples, float), [tail, 1.0 - tail], axis=0)
