"""The theory arm's experiments behind the CLI and the workflow (exact and SGD curves, phase points,
measured vs theoretical exponents): each returns JSON-ready dicts."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from datalaws.atomic import atomic_open
from datalaws.plrf import compute_optimal as co
from datalaws.plrf import deterministic as det
from datalaws.plrf import theory
from datalaws.plrf.model import PLRF
from datalaws.plrf.resolvent import AsymptoticSpectrum
from datalaws.plrf.spectrum import ExactSpectrum

GRID_FORMAT = "datalaws-plrf-grid-v1"


def clean(obj: Any) -> Any:
    """JSON-safe copy: numpy scalars to Python, NaN/inf to None, tuples to lists."""
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return clean(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        value = float(obj)
        return value if math.isfinite(value) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def save_grid(grid: co.LossGrid, path: str | os.PathLike[str], seconds: float) -> None:
    with atomic_open(path) as handle:
        np.savez(
            handle,
            format=GRID_FORMAT,
            alpha=grid.alpha,
            beta=grid.beta,
            ds=grid.ds,
            fs=grid.fs,
            losses=grid.losses,
            batch=grid.batch,
            step_scale=grid.step_scale,
            v_ratio=grid.v_ratio,
            seconds=seconds,
        )


def load_grid(path: str | os.PathLike[str]) -> co.LossGrid:
    with np.load(path) as data:
        if str(data["format"]) != GRID_FORMAT:
            raise ValueError(f"{path}: not a {GRID_FORMAT} file")
        return co.LossGrid(
            float(data["alpha"]),
            float(data["beta"]),
            data["ds"],
            data["fs"],
            data["losses"],
            int(data["batch"]),
            float(data["step_scale"]),
            float(data["v_ratio"]),
        )


def timed_grid(
    alpha: float, beta: float, grid_cfg: dict, common: dict, exact_seeds: list[int] | None = None
) -> tuple[co.LossGrid, float]:
    """Loss grid from a config block {d_min, d_max, d_per_octave, f_min, f_max, f_per_decade}."""
    start = time.perf_counter()
    grid = co.loss_grid(
        alpha,
        beta,
        co.d_grid(grid_cfg["d_min"], grid_cfg["d_max"], grid_cfg["d_per_octave"]),
        co.flops_grid(grid_cfg["f_min"], grid_cfg["f_max"], grid_cfg["f_per_decade"]),
        batch=common["batch"],
        step_scale=common["step_scale"],
        v_ratio=common["v_ratio"],
        exact_seeds=exact_seeds,
    )
    return grid, time.perf_counter() - start


def fits(grid: co.LossGrid, window: tuple[float, float] | None) -> dict:
    return {"envelope": co.approach1(grid, window), "isoflop": co.approach2(grid, window)}


def check_summary(
    grid: co.LossGrid,
    paper_d_max: float,
    top_decades: float,
    scan_width: float,
    scan_stride: float,
    seconds: float,
) -> dict:
    """The paper's check: fits on the paper's d range and on the whole grid, plus the drift of
    the exponents with the f window and with the largest d."""
    paper = grid.restrict(paper_d_max)
    top = co.top_window(grid, top_decades)
    d_maxes = [*sorted({float(d) for d in grid.ds[grid.ds >= grid.ds[0] * 8]})[::2]]
    d_maxes.append(float(grid.ds.max()))
    return clean(
        {
            "alpha": grid.alpha,
            "beta": grid.beta,
            "batch": grid.batch,
            "step_scale": grid.step_scale,
            "v_ratio": grid.v_ratio,
            "d_range": [grid.ds.min(), grid.ds.max()],
            "d_count": grid.ds.size,
            "f_range": [grid.fs.min(), grid.fs.max()],
            "theory": theory.exponents(grid.alpha, grid.beta).as_dict(),
            "paper_range": {
                "d_range": [paper.ds.min(), paper.ds.max()],
                **fits(paper, co.interior_window(paper)),
            },
            "full_range": {"f_window_rule": "envelope interior", **fits(grid, None)},
            "top_window": {
                "f_window_rule": f"last {top_decades:g} decades of the interior",
                **fits(grid, top),
            },
            "scan_width_decades": scan_width,
            "window_scan": co.window_scan(grid, scan_width, scan_stride),
            "dmax_scan": co.dmax_scan(grid, sorted(set(d_maxes))),
            "seconds": seconds,
        }
    )


def phase_point(grid: co.LossGrid, top_decades: float, seconds: float) -> dict:
    """Measured exponents (both approaches, last ``top_decades`` of the interior) and theory."""
    theo = theory.exponents(grid.alpha, grid.beta)
    window = co.top_window(grid, top_decades)
    measured = fits(grid, window)
    return clean(
        {
            "alpha": grid.alpha,
            "beta": grid.beta,
            "theory": theo.as_dict(),
            "f_window": window,
            "d_range": [grid.ds.min(), grid.ds.max()],
            **measured,
            "seconds": seconds,
        }
    )


def phase_row(point: dict, approach: str = "envelope") -> dict:
    """One line of the measured-minus-theory table."""
    theo, meas = point["theory"], point[approach]
    row: dict[str, Any] = {
        "alpha": point["alpha"],
        "beta": point["beta"],
        "phase": theo["phase"],
        "approach": approach,
        "source": theo["source"],
    }
    for key in ("eta", "xi"):
        m, t = meas.get(key), theo.get(key)
        row[f"{key}_measured"] = m
        row[f"{key}_theory"] = t
        row[f"{key}_diff"] = None if m is None or t is None else m - t
    window = meas.get("f_window") or [None, None]
    row["f_lo"], row["f_hi"] = window
    row["note"] = theo["note"] or meas.get("note", "")
    return row


def validation(
    alpha: float,
    beta: float,
    d: int,
    v_ratio: float,
    batch: int,
    step_scale: float,
    max_steps: int,
    points: int,
    runs: int,
    seed: int,
) -> dict:
    """Mean of ``runs`` SGD runs on one W against the exact deterministic equivalent for that W
    (and the W-free one), at log-spaced steps; z = (mean - DE) / standard error."""
    from datalaws.plrf.sgd import simulate  # torch, only where SGD runs

    problem = PLRF.with_ratio(alpha, beta, d, v_ratio)
    gamma = problem.step(step_scale)
    record = np.unique(np.concatenate([[0], np.geomspace(1, max_steps, points).round()]))
    record = record.astype(np.int64)
    start = time.perf_counter()
    sgd = simulate(problem, gamma, batch, record, runs, seed)
    sgd_seconds = time.perf_counter() - start
    start = time.perf_counter()
    exact = det.loss_curve(ExactSpectrum.from_seed(problem, seed), gamma, batch, record)
    de_seconds = time.perf_counter() - start
    asym = det.loss_curve(AsymptoticSpectrum(problem), gamma, batch, record, check=False)
    mean, err = sgd.mean(), sgd.stderr()
    # At step 0 every run sits at theta = 0 with the same loss: its "standard error" is rounding.
    random = record > 0
    z = np.full(record.size, np.nan)
    z[random] = (mean[random] - exact[random]) / err[random]
    theo = theory.exponents(alpha, beta)
    return clean(
        {
            "alpha": alpha,
            "beta": beta,
            "d": d,
            "v": problem.v,
            "batch": batch,
            "step_scale": step_scale,
            "gamma": gamma,
            "runs": runs,
            "seed": seed,
            "phase": theo.phase,
            "steps": record,
            "sgd_mean": mean,
            "sgd_stderr": err,
            "deterministic": exact,
            "asymptotic": asym,
            "z": z,
            "max_abs_z": float(np.nanmax(np.abs(z))),
            "max_rel_diff": float(np.max(np.abs(mean / exact - 1))),
            "step0_rel_diff": float(abs(mean[0] / exact[0] - 1)),
            "sgd_seconds": sgd_seconds,
            "deterministic_seconds": de_seconds,
        }
    )


def exact_check(
    exact: co.LossGrid, asymptotic: co.LossGrid, seeds: Sequence[int], seconds: dict
) -> dict:
    """Exact (mean over draws of W) against W-free on one grid: pointwise ratio and exponents."""
    ratio = exact.losses / asymptotic.losses
    return clean(
        {
            "alpha": exact.alpha,
            "beta": exact.beta,
            "seeds": list(seeds),
            "d_range": [exact.ds.min(), exact.ds.max()],
            "ratio_min": np.nanmin(ratio),
            "ratio_max": np.nanmax(ratio),
            "ratio_by_d": {
                str(d): [np.nanmin(r), np.nanmax(r)] for d, r in zip(exact.ds, ratio, strict=True)
            },
            "exact": fits(exact, None),
            "asymptotic": fits(asymptotic, None),
            "theory": theory.exponents(exact.alpha, exact.beta).as_dict(),
            "seconds": seconds,
        }
    )
