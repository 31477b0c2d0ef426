"""Law-fit throughput: the batched fit and bootstrap vs one scipy L-BFGS-B call per start.

Run: python benchmarks/bench_fit.py [--runs 300] [--resamples 1000] [--baseline-resamples 10]
Both minimise the same Huber objective (same compiled kernel) from the same starts: for the
full-data fit the 4500-point grid, for each bootstrap resample the full-data optima plus 4 grid
points. The baseline is what a straightforward implementation does: a Python loop calling
scipy.optimize.minimize once per start. It is timed on a subset (every 45th grid start; the first
``--baseline-resamples`` resamples) and scaled linearly to the full counts, which the output says.
The machine is shared, so timings are noisy.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.optimize import minimize

from datalaws.laws.bootstrap import best_per_resample, resample_starts
from datalaws.laws.chinchilla import fit, init_grid
from datalaws.laws.objective import RunData
from datalaws.laws.synthetic import DEFAULT_LAW, make_runs


def scipy_min(data: RunData, x0: np.ndarray, weights: np.ndarray) -> tuple[float, np.ndarray]:
    def fun(t: np.ndarray) -> tuple[float, np.ndarray]:
        f, g = data.evaluate(t[None, :], weights[None, :])
        return float(f[0] / data.delta), g[0] / data.delta

    res = minimize(fun, x0, jac=True, method="L-BFGS-B", options={"maxiter": 5000, "ftol": 1e-15})
    return res.fun * data.delta, res.x


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300, help="runs (sizes x budgets grid)")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--baseline-resamples", type=int, default=10)
    args = parser.parse_args()
    side = round(np.sqrt(args.runs))
    sizes = {f"s{i}": float(v) for i, v in enumerate(np.geomspace(1e4, 5e7, side))}
    budgets = tuple(np.geomspace(1e5, 1e8, -(-args.runs // side)))
    runs = make_runs(DEFAULT_LAW, sizes, budgets, noise=0.02, seed=0).head(args.runs)
    data = RunData(runs.N, runs.D, runs.loss)
    data.evaluate(np.zeros((1, 5)))  # compile (or load the cached kernel) outside the timings
    ones = np.ones(len(data))
    print(f"{len(data)} runs, {args.resamples} bootstrap resamples")

    start = time.perf_counter()
    full = fit(data)
    t_fit = time.perf_counter() - start
    weights, starts = resample_starts(full, len(data), args.resamples, seed=0)
    start = time.perf_counter()
    _, f_boot, _ = best_per_resample(data, weights, starts)
    t_boot = time.perf_counter() - start
    print(
        f"batched : full fit {t_fit:6.2f} s ({4500 / t_fit:7.0f} starts/s)   "
        f"bootstrap {t_boot:6.2f} s ({args.resamples / t_boot:6.1f} resamples/s)   "
        f"total {t_fit + t_boot:6.2f} s"
    )

    grid = init_grid()[::45]
    start = time.perf_counter()
    f_grid = min(scipy_min(data, x0, ones)[0] for x0 in grid)
    t_grid = (time.perf_counter() - start) * 4500 / len(grid)
    nb = args.baseline_resamples
    start = time.perf_counter()
    f_base = np.array(
        [min(scipy_min(data, x0, weights[r])[0] for x0 in starts[r]) for r in range(nb)]
    )
    t_base = (time.perf_counter() - start) * args.resamples / nb
    print(
        f"baseline: full fit {t_grid:6.2f} s ({4500 / t_grid:7.0f} starts/s)   "
        f"bootstrap {t_base:6.2f} s ({args.resamples / t_base:6.1f} resamples/s)   "
        f"total {t_grid + t_base:6.2f} s  (scaled from {len(grid)} starts, {nb} resamples)"
    )
    print(f"speed-up: full fit {t_grid / t_fit:.1f}x, bootstrap {t_base / t_boot:.1f}x")
    rel = np.max(np.abs(f_boot[:nb] - f_base) / f_base)
    print(
        f"check: best full-data objective batched {full.objective:.8g} vs scipy subset "
        f"{f_grid:.8g}; resample objectives agree to {rel:.1e} (relative, max)"
    )


if __name__ == "__main__":
    main()
