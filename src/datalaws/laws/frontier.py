"""Compute-optimal allocation under a Chinchilla law, with C = 6 N D.

Minimising A/N^alpha + B/D^beta on the line 6 N D = C gives N_opt = G (C/6)^(beta/(alpha+beta)),
G = (alpha A / (beta B))^(1/(alpha+beta)), D_opt = C / (6 N_opt). A law with alpha <= 0 or beta <= 0
has no interior optimum; its allocations are NaN rather than a misleading number, and summaries
count how many bootstrap laws were like that.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from datalaws.laws.bootstrap import percentile_interval
from datalaws.laws.validity import FittedBox, extrapolation, extrapolation_warning


def log_n_opt(theta: np.ndarray, compute: np.ndarray) -> np.ndarray:
    """log N_opt for every law (rows of theta) and compute level: shape (K, M); NaN if undefined."""
    theta = np.atleast_2d(theta)
    a, b, alpha, beta = theta[:, 0], theta[:, 1], theta[:, 3], theta[:, 4]
    ok = (alpha > 0) & (beta > 0)
    al = np.where(ok, alpha, 1.0)
    be = np.where(ok, beta, 1.0)
    log_g = (np.log(al) + a - np.log(be) - b) / (al + be)
    out = log_g[:, None] + (be / (al + be))[:, None] * np.log(np.asarray(compute, float) / 6.0)
    return np.where(ok[:, None], out, np.nan)


def allocation(theta: np.ndarray, compute: np.ndarray) -> dict[str, np.ndarray]:
    """N_opt, D_opt and tokens per parameter, each (K, M)."""
    compute = np.atleast_1d(np.asarray(compute, float))
    if np.any(~np.isfinite(compute)) or np.any(compute <= 0):
        raise ValueError(f"compute: must be positive and finite FLOPs, got {compute.tolist()}")
    n_opt = np.exp(log_n_opt(theta, compute))
    d_opt = compute[None, :] / (6.0 * n_opt)
    return {"n_opt": n_opt, "d_opt": d_opt, "tokens_per_param": d_opt / n_opt}


def exponents(theta: np.ndarray) -> np.ndarray:
    """(K, 2): the exponents of N_opt ~ C^a and D_opt ~ C^b, a = beta/(alpha+beta), b = 1 - a."""
    theta = np.atleast_2d(theta)
    alpha, beta = theta[:, 3], theta[:, 4]
    ok = (alpha > 0) & (beta > 0)
    a = np.where(ok, beta / np.where(ok, alpha + beta, 1.0), np.nan)
    return np.stack([a, 1.0 - a], axis=1)


def allocation_table(
    theta: np.ndarray, samples: np.ndarray, compute: np.ndarray, level: float = 0.95
) -> list[dict[str, float]]:
    """Point allocation of the law ``theta`` at each compute level, with bootstrap intervals."""
    point = allocation(theta, compute)
    boot = allocation(samples, compute)
    rows = []
    for j, c in enumerate(np.atleast_1d(compute)):
        row: dict[str, float] = {"compute": float(c)}
        for key in ("n_opt", "d_opt", "tokens_per_param"):
            lo, hi = percentile_interval(boot[key][:, j], level)
            row[key] = float(point[key][0, j])
            row[f"{key}_lo"] = float(lo)
            row[f"{key}_hi"] = float(hi)
        row["n_valid_samples"] = int(np.isfinite(boot["n_opt"][:, j]).sum())
        rows.append(row)
    return rows


def _with_interval(value: float | None, lo: float | None, hi: float | None) -> str:
    if value is None or not np.isfinite(value):
        return "undefined (alpha or beta <= 0)"
    bounds = "" if lo is None or hi is None else f"  [{lo:.4g}, {hi:.4g}]"
    return f"{value:.4g}{bounds}"


def format_allocation(rows: list[dict], level: float) -> str:
    """Allocation rows as text, one block per compute level."""
    pct = round(100 * level)
    lines = []
    for row in rows:
        lines.append(f"compute C = {row['compute']:.4g} FLOPs ({pct}% intervals)")
        for key, label in (
            ("n_opt", "N_opt (parameters)"),
            ("d_opt", "D_opt (tokens)"),
            ("tokens_per_param", "tokens per parameter"),
        ):
            value = _with_interval(row[key], row[f"{key}_lo"], row[f"{key}_hi"])
            lines.append(f"  {label:<22}{value}")
    return "\n".join(lines)


def flag_extrapolation(rows: list[dict[str, Any]], box: FittedBox) -> list[str]:
    """Record in each row how far outside the fitted box it lies; return the warnings."""
    warnings = []
    for row in rows:
        row["extrapolation_decades"] = extrapolation(row, box)
        line = extrapolation_warning(row, box)
        if line:
            warnings.append(line)
    return warnings
