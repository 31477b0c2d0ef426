"""How each law parameter moves with gzip compressibility H, across grammars.

Per parameter x in (E, A, B, alpha, beta): the least-squares line x = m H + n through the per-
grammar point estimates, with scipy's slope p-value and correlation r (n_grammars - 2 degrees of
freedom), and a bootstrap interval for slope and intercept that carries each grammar's fit
uncertainty: line b goes through the b-th bootstrap law of every grammar. A source whose estimate
of a parameter is unresolved (beyond float range: A or B of a law with no gain from size or data)
is left out of that parameter's line and named; a line needs two distinct H.

A and B also get a line in log10 (``params[A]["log10"]``): they are positive and span decades, so
the paper's line in natural units is dominated by the largest grammar's value and can go negative
between grammars; the log-linear line is the one a log axis shows (figure 4) and matches the joint
H-law, where log A and log B are linear in H.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from datalaws.laws.bootstrap import percentile_interval
from datalaws.laws.chinchilla import NATURAL, to_natural
from datalaws.laws.lawfile import LawFile, finite_or_none

MIN_GRAMMARS = 3
LOG_LINES = ("A", "B")


def lines_through(h: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares slope and intercept of each row of y (B, G) against h (G,); NaN for rows
    with a non-finite value (an unresolved bootstrap law)."""
    hc = h - h.mean()
    with np.errstate(invalid="ignore", over="ignore"):
        slope = (y - y.mean(axis=1, keepdims=True)) @ hc / (hc @ hc)
        icpt = y.mean(axis=1) - slope * h.mean()
    bad = ~np.isfinite(y).all(axis=1)
    return np.where(bad, np.nan, slope), np.where(bad, np.nan, icpt)


def _interval(samples: np.ndarray, level: float) -> list[float | None]:
    if not np.isfinite(samples).any():
        return [None, None]
    return [finite_or_none(v) for v in percentile_interval(samples, level)]


Lines = tuple[float, float, np.ndarray, np.ndarray]  # slope, intercept, bootstrap both


def _line(
    h: np.ndarray, y: np.ndarray, boot: np.ndarray, level: float
) -> tuple[dict, Lines | None]:
    """One parameter's line through the sources where it is resolved."""
    if np.unique(h).size < 2:
        fields = ("slope", "intercept", "p_value", "r", "stderr")
        intervals = {"slope_interval": [None, None], "intercept_interval": [None, None]}
        return dict.fromkeys(fields) | intervals, None
    fit = stats.linregress(h, y)
    b_slope, b_icpt = lines_through(h, boot)
    record = {
        "slope": finite_or_none(fit.slope),
        "intercept": finite_or_none(fit.intercept),
        "p_value": finite_or_none(fit.pvalue),
        "r": finite_or_none(fit.rvalue),
        "stderr": finite_or_none(fit.stderr),
        "slope_interval": _interval(b_slope, level),
        "intercept_interval": _interval(b_icpt, level),
    }
    return record, (fit.slope, fit.intercept, b_slope, b_icpt)


def h_regression(laws: dict[str, LawFile], h: dict[str, float], level: float = 0.95) -> dict:
    """Regress every law parameter on H; also where the alpha and beta lines cross."""
    names = sorted(laws, key=lambda g: h[g])
    if len(names) < MIN_GRAMMARS:
        raise ValueError(f"h_regression: need at least {MIN_GRAMMARS} grammars, got {len(names)}")
    hs = np.array([h[g] for g in names])
    if np.unique(hs).size < 2:
        raise ValueError("h_regression: all grammars have the same H; nothing to regress on")
    with np.errstate(over="ignore"):
        points = np.vstack([to_natural(laws[g].law.theta) for g in names])  # (G, 5)
        n_boot = min(laws[g].samples.shape[0] for g in names)
        boot = np.stack([to_natural(laws[g].samples[:n_boot]) for g in names], axis=1)  # (B,G,5)
    params, lines = {}, {}
    for i, key in enumerate(NATURAL):
        ok = np.isfinite(points[:, i])
        params[key], lines[key] = _line(hs[ok], points[ok, i], boot[:, ok, i], level)
        params[key]["unresolved"] = [g for g, good in zip(names, ok, strict=True) if not good]
        if key in LOG_LINES:
            with np.errstate(divide="ignore", invalid="ignore"):  # an underflowed 0 is unresolved
                logs, log_boot = np.log10(points[ok, i]), np.log10(boot[:, ok, i])
            params[key]["log10"] = _line(hs[ok], logs, log_boot, level)[0]
    cross, cross_interval = _crossing(lines["alpha"], lines["beta"], level)
    return {
        "grammars": names,
        "H": hs.tolist(),
        "points": {key: [finite_or_none(v) for v in points[:, i]] for i, key in enumerate(NATURAL)},
        "params": params,
        "alpha_beta_crossing_H": cross,
        "alpha_beta_crossing_H_interval": cross_interval,
        "ci_level": level,
        "n_resamples": int(n_boot),
        "degrees_of_freedom": len(names) - 2,
    }


def _crossing(
    alpha: Lines | None, beta: Lines | None, level: float
) -> tuple[float | None, list[float | None]]:
    """Where the alpha and beta lines cross, with its bootstrap interval (None where a line is
    missing or the lines are parallel)."""
    if alpha is None or beta is None:
        return None, [None, None]
    ma, na, ba, bna = alpha
    mb, nb, bb, bnb = beta
    with np.errstate(divide="ignore", invalid="ignore"):
        cross = (nb - na) / (ma - mb)
        b_cross = (bnb - bna) / (ba - bb)
    b_cross = np.where(np.isfinite(b_cross), b_cross, np.nan)
    return finite_or_none(cross), _interval(b_cross, level)
