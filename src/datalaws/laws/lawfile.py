"""Fit a law with bootstrap intervals and carry it as JSON (format ``datalaws-law-v1``).

The JSON keeps every bootstrap estimate, not only the intervals, so that anything derived from the
law later (frontiers at another compute, regressions on H, held-out predictions) gets honest
intervals by pushing each resample through, instead of by guessing from marginal intervals.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from datalaws.atomic import read_json
from datalaws.laws import chinchilla
from datalaws.laws.bootstrap import bootstrap_fit, percentile_interval
from datalaws.laws.chinchilla import NATURAL, THETA, Law, log_loss, to_natural
from datalaws.laws.diagnostics import fit_quality
from datalaws.laws.frontier import exponents
from datalaws.laws.objective import HUBER_DELTA, RunData

FORMAT = "datalaws-law-v1"
FORM = "L(N, D) = E + A / N^alpha + B / D^beta"
MIN_RESAMPLES = 10


def finite_or_none(x: float) -> float | None:
    """JSON has no NaN: undefined quantities are written as null."""
    return float(x) if math.isfinite(x) else None


def min_loss_in_range(theta: np.ndarray, n_range, d_range, points: int = 40) -> np.ndarray:
    """Smallest predicted loss of each law over a log grid spanning the fitted N and D ranges."""
    ln = np.linspace(np.log(n_range[0]), np.log(n_range[1]), points)
    ld = np.linspace(np.log(d_range[0]), np.log(d_range[1]), points)
    grid_n, grid_d = np.meshgrid(ln, ld)
    return np.exp(log_loss(theta, grid_n, grid_d)).reshape(np.atleast_2d(theta).shape[0], -1).min(1)


def check_positive(theta: np.ndarray, n_range, d_range, what: str) -> float:
    """Refuse to report a law predicting a non-positive or non-finite loss in the fitted range.

    The log-sum-exp form makes that impossible in exact arithmetic; this guards against underflow
    of extreme fits, and makes the promise checkable in the output file.
    """
    low = min_loss_in_range(theta, n_range, d_range)
    if not np.all(np.isfinite(low) & (low > 0)):
        raise ValueError(
            f"{what}: predicts a non-positive or non-finite loss inside the fitted range"
        )
    return float(low.min())


def fit_law(
    runs: pd.DataFrame, *, n_resamples: int = 1000, seed: int = 0, level: float = 0.95
) -> dict[str, Any]:
    """Approach-3 fit of a validated runs table, with bootstrap intervals: the law JSON record."""
    if n_resamples < MIN_RESAMPLES:
        raise ValueError(f"bootstrap: need at least {MIN_RESAMPLES} resamples, got {n_resamples}")
    if not 0.5 <= level < 1:
        raise ValueError(f"level: interval level must be in [0.5, 1), got {level}")
    n, d, loss = (runs[c].to_numpy(float) for c in ("N", "D", "loss"))
    data = RunData(n, d, loss)
    full = chinchilla.fit(data)
    boot = bootstrap_fit(data, full, n_resamples=n_resamples, seed=seed)
    n_range = [float(n.min()), float(n.max())]
    d_range = [float(d.min()), float(d.max())]
    low = check_positive(full.law.theta, n_range, d_range, "fitted law")
    check_positive(boot.theta, n_range, d_range, "a bootstrap law")
    # Percentiles commute with exp, so intervals are taken on (a, b, e) and exponentiated: a term
    # the runs cannot resolve (flat data) may have A or B beyond float range, written as null.
    with np.errstate(over="ignore"):
        nat_iv = to_natural(percentile_interval(boot.theta, level))
    exp_point = exponents(full.law.theta)[0]
    exp_iv = percentile_interval(exponents(boot.theta), level)
    return {
        "format": FORMAT,
        "form": FORM,
        "params": {k: finite_or_none(v) for k, v in full.law.natural().items()},
        "log_params": {"a": full.law.a, "b": full.law.b, "e": full.law.e},
        "intervals": {
            k: [finite_or_none(nat_iv[0, i]), finite_or_none(nat_iv[1, i])]
            for i, k in enumerate(NATURAL)
        },
        "ci_level": level,
        "objective": full.objective,
        "huber_delta": HUBER_DELTA,
        "n_runs": full.n_runs,
        "n_inits": full.n_inits,
        "n_inits_converged": full.n_converged,
        "range": {"N": n_range, "D": d_range, "loss": [float(loss.min()), float(loss.max())]},
        "min_predicted_loss_in_range": low,
        "fit_quality": fit_quality(full.law.theta, n, d, loss),
        "frontier": {
            "n_opt_exponent": finite_or_none(exp_point[0]),
            "n_opt_exponent_interval": [finite_or_none(v) for v in exp_iv[:, 0]],
            "d_opt_exponent": finite_or_none(exp_point[1]),
            "d_opt_exponent_interval": [finite_or_none(v) for v in exp_iv[:, 1]],
            "n_undefined_samples": int(np.isnan(exponents(boot.theta)[:, 0]).sum()),
        },
        "bootstrap": {
            "n_resamples": n_resamples,
            "seed": seed,
            "starts_per_resample": boot.starts_per_resample,
            "n_converged": int(boot.converged.sum()),
            "theta_columns": list(THETA),
            "theta": boot.theta.tolist(),
        },
    }


@dataclass(frozen=True)
class LawFile:
    """A law JSON read back: the point law, its bootstrap laws and what it was fitted on."""

    law: Law
    samples: np.ndarray
    level: float
    record: dict[str, Any]


def load_law(path: str | os.PathLike[str]) -> LawFile:
    """Read a ``datalaws-law-v1`` file, checking it is one."""
    record = read_json(path)
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ValueError(f"{path}: not a law file (expected format {FORMAT!r})")
    p, lp = record["params"], record["log_params"]
    law = Law(lp["a"], lp["b"], lp["e"], p["alpha"], p["beta"])
    samples = np.asarray(record["bootstrap"]["theta"], dtype=float).reshape(-1, len(THETA))
    return LawFile(law=law, samples=samples, level=float(record["ci_level"]), record=record)


def _number(x: float | None) -> str:
    """A parameter for display; null marks a value beyond float range (an unresolved term)."""
    return "overflow" if x is None else f"{x:.4g}"


def format_law(record: dict[str, Any]) -> str:
    """A law record as a small text table."""
    pct = round(100 * record["ci_level"])
    n_boot = record["bootstrap"]["n_resamples"]
    lines = [f"{'param':<8}{'estimate':>12}  {pct}% interval ({n_boot} resamples)"]
    for k, v in record["params"].items():
        lo, hi = (_number(x) for x in record["intervals"][k])
        lines.append(f"{k:<8}{_number(v):>12}  [{lo}, {hi}]")
    fr = record["frontier"]
    if fr["n_opt_exponent"] is None:
        lines.append("N_opt ~ C^a: undefined (alpha or beta <= 0)")
    else:
        lo, hi = fr["n_opt_exponent_interval"]
        lines.append(f"N_opt ~ C^a, a = {fr['n_opt_exponent']:.3f}  [{lo:.3f}, {hi:.3f}]")
    lines.append(f"objective (summed Huber) {record['objective']:.6g} over {record['n_runs']} runs")
    quality = record.get("fit_quality")
    if quality:
        structure = quality["residual_structure"]
        flag = "  STRUCTURED RESIDUALS: the form misses a trend" if structure["flagged"] else ""
        lines.append(
            f"in-sample log RMSE {quality['rmse_log']:.4f}, largest |log residual| "
            f"{quality['max_abs_log_residual']:.4f}{flag}"
        )
    return "\n".join(lines)
