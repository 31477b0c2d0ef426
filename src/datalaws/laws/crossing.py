"""Where data-dependent frontiers cross Chinchilla's: the H at which tokens per parameter agree.

At compute C the H-conditioned law gives tokens per parameter tpp(H, C) = D_opt / N_opt;
Chinchilla's constants give tpp_C(C). The crossing H*(C) is the first root of log tpp(H, C) - log
tpp_C(C), found on a fine H grid over [0, 1] (sign change, then linear interpolation), and flagged
when it lies outside the range of H the law was fitted on. Each bootstrap H-law gives its own H*,
hence an interval; resamples without a root in [0, 1] are counted, not hidden. The per-grammar laws
give a model-free check: interpolate between adjacent grammars (ordered by H) whose log ratio
changes sign."""

from __future__ import annotations

import numpy as np

from datalaws.laws.bootstrap import percentile_interval
from datalaws.laws.chinchilla import CHINCHILLA_LAW
from datalaws.laws.frontier import log_n_opt
from datalaws.laws.hlaw import at_h

H_GRID = np.linspace(0.0, 1.0, 1001)


def log_tpp(theta: np.ndarray, compute: float) -> np.ndarray:
    """log tokens per parameter at one compute level for each law (K,)."""
    return np.log(compute / 6.0) - 2.0 * log_n_opt(theta, np.array([compute]))[:, 0]


def first_root(x: np.ndarray, y: np.ndarray) -> float:
    """First sign change of y(x), linearly interpolated; NaN if none (or y undefined there)."""
    s = np.sign(y)
    idx = np.flatnonzero((s[:-1] * s[1:] < 0) | (s[:-1] == 0))
    if idx.size == 0:
        return float("nan")
    i = idx[0]
    if y[i] == 0:
        return float(x[i])
    return float(x[i] - y[i] * (x[i + 1] - x[i]) / (y[i + 1] - y[i]))


def h_law_crossing(theta_h: np.ndarray, h_ref: float, compute: float) -> np.ndarray:
    """H* for each H-law (rows of theta_h, shape (K, 10)) at one compute level."""
    target = log_tpp(CHINCHILLA_LAW.theta, compute)[0]
    out = np.empty(len(np.atleast_2d(theta_h)))
    for k, th in enumerate(np.atleast_2d(theta_h)):
        diff = log_tpp(at_h(th, H_GRID, h_ref), compute) - target
        out[k] = first_root(H_GRID, diff)
    return out


def crossing_summary(
    theta_h: np.ndarray,
    samples: np.ndarray,
    h_ref: float,
    h_range: tuple[float, float],
    compute: float,
    level: float = 0.95,
) -> dict:
    """H* of the point H-law at ``compute``, its bootstrap interval and where it lies."""
    point = h_law_crossing(theta_h, h_ref, compute)[0]
    boot = h_law_crossing(samples, h_ref, compute)
    found = np.isfinite(boot)
    iv = percentile_interval(boot, level) if found.any() else np.array([np.nan, np.nan])
    return {
        "compute": float(compute),
        "chinchilla_tokens_per_param": float(np.exp(log_tpp(CHINCHILLA_LAW.theta, compute)[0])),
        "H_cross": point if np.isfinite(point) else None,
        "H_cross_interval": [float(v) for v in iv] if np.isfinite(iv).all() else None,
        "fraction_of_resamples_crossing": float(found.mean()),
        "inside_fitted_range": bool(np.isfinite(point) and h_range[0] <= point <= h_range[1]),
    }


def grammar_crossings(h: np.ndarray, theta: np.ndarray, compute: float) -> list[float]:
    """H between adjacent grammars where per-grammar tpp crosses Chinchilla's (interpolated)."""
    order = np.argsort(h)
    diff = log_tpp(theta[order], compute) - log_tpp(CHINCHILLA_LAW.theta, compute)[0]
    hs = np.asarray(h, float)[order]
    out = []
    for i in range(len(hs) - 1):
        if np.isfinite(diff[i]) and np.isfinite(diff[i + 1]) and diff[i] * diff[i + 1] < 0:
            out.append(float(hs[i] - diff[i] * (hs[i + 1] - hs[i]) / (diff[i + 1] - diff[i])))
    return out
