"""Repetition-law fit: multi-start least squares vs the authors' grid search, same data.

Run: python benchmarks/bench_qqt.py [--datasets N] [--boot B]
Each dataset is one bucket drawn from random true (a, b, d, tau) with 9 budgets (1/8 to 32
passes) and 0.3% relative noise. Reported per method: seconds per bucket, median relative error
of b and tau, and the RMS log error of the whole curve out to 64 passes (extrapolation). The
baselines are the grid search (vectorised here; the authors loop in Python, timed below on a
slice of their 100^3 grid) and one scipy curve_fit from a fixed start, as a plain fit would be.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

from datalaws.qqt.fit import FitConfig, fit_runs, grid_search
from datalaws.qqt.law import PoolParams, log_increments, loss
from datalaws.qqt.mixture import mixtures
from datalaws.qqt.synthetic import synthetic_runs

S = 1000.0
BUDGETS = S * np.array([0.125, 0.25, 0.5, 1, 2, 4, 8, 16, 32])
DENSE = S * np.geomspace(0.1, 64, 60)


def truths(count: int, seed: int = 0) -> list[PoolParams]:
    rng = np.random.default_rng(seed)
    return [
        PoolParams(
            float(rng.uniform(10, 60)),
            float(-rng.uniform(0.15, 0.45)),
            float(rng.uniform(0.5, 2.5)),
            float(rng.uniform(1.5, 9)),
            name="x",
        )
        for _ in range(count)
    ]


def plain_curve_fit(runs) -> PoolParams:
    """One unbounded scipy fit in the paper's raw parameters from a fixed start."""
    n, y = runs["samples_seen"].to_numpy(), runs["loss"].to_numpy()

    def model(n, a, b, d, tau):
        try:
            return loss(n, S, a, b, d, tau)
        except ValueError:
            return np.full_like(n, 1e6)

    warnings.simplefilter("ignore", OptimizeWarning)
    try:
        (a, b, d, tau), _ = curve_fit(model, n, y, p0=[10.0, -0.1, 1.0, 5.0], maxfev=5000)
        return PoolParams(a, b, d, tau, name="x")
    except (RuntimeError, ValueError):
        return PoolParams(1.0, -1e-9, 0.0, 1e9, name="failed")


def authors_loop_rate(runs, cells: int = 2000) -> float:
    """Grid cells per second when each cell loops over runs in Python, as the authors' code."""
    n, y = runs["samples_seen"].to_numpy(), runs["loss"].to_numpy()
    grid = np.array(
        np.meshgrid(np.linspace(1, 60, 20), -np.linspace(0.005, 0.5, 10), np.linspace(1, 10, 10))
    ).reshape(3, -1)[:, :cells]
    start = time.perf_counter()
    best = np.inf
    for a, b, tau in grid.T:
        total = 0.0
        for n_i, y_i in zip(n, y, strict=True):
            total += (loss(n_i, S, a, b, 1.0, tau)[0] - y_i) ** 2
        best = min(best, total)
    return grid.shape[1] / (time.perf_counter() - start)


def errors(est: PoolParams, true: PoolParams) -> list[float]:
    curve = np.log(est.loss(DENSE, S) / true.loss(DENSE, S))
    return [abs(est.b / true.b - 1), abs(est.tau / true.tau - 1), float(np.sqrt(np.mean(curve**2)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=12)
    parser.add_argument("--boot", type=int, default=100, help="bootstrap resamples timed")
    args = parser.parse_args()
    methods = {
        "multi-start least_squares (ours)": lambda r: fit_runs(r, FitConfig(n_boot=0)).pools[0],
        "plain curve_fit, one start": plain_curve_fit,
        **{
            f"grid search {p}^4 log box": (lambda r, p=p: grid_search(r, points=p)[0])
            for p in (10, 20, 40)
        },
        "grid search 30^4, hand-picked box": lambda r: grid_search(
            r, points=30, b_range=(-0.5, -0.005), tau_range=(1.0, 10.0)
        )[0],
    }
    results = {name: ([], 0.0) for name in methods}
    datasets = [
        synthetic_runs([true], BUDGETS, S, noise=0.003, seed=i)
        for i, true in enumerate(truths(args.datasets))
    ]
    for name, method in methods.items():
        errs, seconds = [], 0.0
        for runs, true in zip(datasets, truths(args.datasets), strict=True):
            start = time.perf_counter()
            est = method(runs)
            seconds += time.perf_counter() - start
            errs.append(errors(est, true))
        results[name] = (np.array(errs), seconds / args.datasets)
    print(f"{args.datasets} buckets, 9 runs each, 0.3% noise (shared 2-core machine: noisy times)")
    print(f"{'method':38s} {'s/bucket':>9s} {'|db/b|':>8s} {'|dtau/tau|':>10s} {'curve rms':>10s}")
    for name, (errs, seconds) in results.items():
        med = np.median(errs, axis=0)
        print(f"{name:38s} {seconds:9.4f} {med[0]:8.4f} {med[1]:10.4f} {med[2]:10.5f}")

    rate = authors_loop_rate(datasets[0])
    print(
        f"authors' Python loop: {rate:,.0f} grid cells/s -> their 1e5-cell cap "
        f"{1e5 / rate:,.0f} s, full 100^3 grid {1e6 / rate:,.0f} s per bucket"
    )

    five = synthetic_runs(truths(5, seed=1), BUDGETS, S, noise=0.003, seed=9)
    five["bucket"] = np.repeat([f"b{i}" for i in range(5)], len(BUDGETS))
    start = time.perf_counter()
    fitted = fit_runs(five, FitConfig(n_boot=args.boot))
    seconds = time.perf_counter() - start
    print(
        f"fit with bootstrap: 5 buckets x {args.boot} resamples in {seconds:.2f} s "
        f"({5 * (args.boot + 1) / seconds:.1f} bucket-fits/s)"
    )
    mixes = mixtures(None, [p.__class__(**{**p.__dict__, "pool_size": S}) for p in fitted.pools])
    grid = np.geomspace(100, 1e7, 1000)
    start = time.perf_counter()
    fast = [mixture.loss(grid) for mixture in mixes]
    fast_rate = len(mixes) * len(grid) / (time.perf_counter() - start)
    start = time.perf_counter()
    slow = []
    for mixture in mixes:  # baseline: the pass-by-pass product as a (budgets x passes) matrix
        incs = log_increments(grid, mixture.pool_size)
        slow.append(mixture.a * np.exp(incs @ mixture.exponents(incs.shape[1])) + mixture.d)
    slow_rate = len(mixes) * len(grid) / (time.perf_counter() - start)
    assert np.allclose(fast, slow, rtol=1e-10), "prediction paths disagree"
    print(
        f"mixture prediction up to 10^4 passes: cumulative sum {fast_rate:,.0f} points/s, "
        f"pass-by-pass matrix baseline {slow_rate:,.0f} points/s"
    )


if __name__ == "__main__":
    main()
