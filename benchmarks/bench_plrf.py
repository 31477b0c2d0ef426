"""Benchmark: expected PLRF loss curves by simulation against the deterministic equivalent.

Baseline: one-pass SGD in torch (what the theory replaces), one run and a batch of runs. Against
it, at the same d and the same number of steps: the O(d)-per-step exact recursion, the exact
deterministic equivalent (diagonalise K for one W, then invert the Volterra transform at the
recorded steps only) and the W-free equivalent (no W at all). The "ratio" column is the
baseline's time for one SGD run over the time of each method; SGD needs ~1/(rel. error)^2 runs
for the mean, so the real saving is larger still. The machine is shared: timings are noisy.

    .venv/bin/python benchmarks/bench_plrf.py [--d 100 400] [--steps 20000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from datalaws.plrf import deterministic as det
from datalaws.plrf.model import PLRF
from datalaws.plrf.resolvent import AsymptoticSpectrum
from datalaws.plrf.sgd import simulate
from datalaws.plrf.spectrum import ExactSpectrum


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def bench(d: int, steps: int, v_ratio: float, runs: int) -> list[tuple[str, float, str]]:
    problem = PLRF.with_ratio(0.7, 0.7, d, v_ratio)
    gamma = problem.step(0.75)
    record = np.unique(np.concatenate([[0], np.geomspace(1, steps, 40).round()])).astype(int)
    rows = []
    _, t_one = timed(lambda: simulate(problem, gamma, 1, record, 1, seed=0))
    rows.append(("SGD, 1 run (baseline)", t_one, f"{steps / t_one:,.0f} steps/s"))
    many, t_many = timed(lambda: simulate(problem, gamma, 1, record, runs, seed=0))
    rows.append((f"SGD, {runs} runs batched", t_many, f"{runs * steps / t_many:,.0f} run-steps/s"))
    spectrum, t_eig = timed(lambda: ExactSpectrum.from_seed(problem, 0))
    rows.append(("eigendecomposition of K", t_eig, f"d = {d}, v = {problem.v}"))
    rec, t_rec = timed(lambda: det.recursion(spectrum, gamma, 1, steps))
    rows.append(("exact recursion (given K's eigen-data)", t_rec, f"{steps / t_rec:,.0f} steps/s"))
    exact, t_exact = timed(lambda: det.loss_curve(spectrum, gamma, 1, record))
    rows.append(("exact DE: Talbot at 40 steps", t_exact, ""))
    rows.append(("exact DE incl. eigendecomposition", t_exact + t_eig, ""))
    asym, t_asym = timed(lambda: det.loss_curve(AsymptoticSpectrum(problem), gamma, 1, record))
    rows.append(("W-free DE: Talbot at 40 steps", t_asym, ""))
    err = np.max(np.abs(exact / rec[record] - 1))
    rel = np.max(many.stderr()[1:] / many.mean()[1:])
    gap = np.max(np.abs(many.mean()[1:] / exact[1:] - 1))
    print(f"\nd = {d}, v = {problem.v}, {steps} steps, alpha = beta = 0.7, batch 1")
    print(
        f"  Talbot vs recursion max rel. error {err:.1e}; {runs}-run SGD mean vs exact DE "
        f"max rel. diff {gap:.3f} (SGD rel. standard error up to {rel:.3f}); W-free vs this W "
        f"max rel. diff {np.max(np.abs(asym / exact - 1)):.3f}"
    )
    return [(name, t, note, t_one / t) for name, t, note in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, nargs="+", default=[100, 400])
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--v-ratio", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=16)
    args = parser.parse_args()
    for d in args.d:
        rows = bench(d, args.steps, args.v_ratio, args.runs)
        print(f"  {'method':42s} {'seconds':>10s} {'ratio':>10s}  note")
        for name, t, note, ratio in rows:
            print(f"  {name:42s} {t:10.4f} {ratio:10.1f}  {note}")
    print("\nW-free DE alone, at sizes simulation cannot reach (40 log-spaced steps up to 1e7):")
    for d in (12800, 102400, 819200):
        problem = PLRF.with_ratio(0.7, 0.7, d, args.v_ratio)
        record = np.unique(np.geomspace(1, 1e7, 40).round()).astype(int)
        _, t = timed(
            lambda p=problem, r=record: det.loss_curve(AsymptoticSpectrum(p), p.step(0.75), 1, r)
        )
        print(f"  d = {d:7d}, v = {problem.v:8d}: {t:.3f} s")


if __name__ == "__main__":
    main()
