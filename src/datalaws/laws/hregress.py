"""How each law parameter moves with gzip compressibility H, across grammars.

Per parameter x in (E, A, B, alpha, beta): the least-squares line x = m H + n through the per-
grammar point estimates, with scipy's slope p-value and correlation r (n_grammars - 2 degrees of
freedom), and a bootstrap interval for slope and intercept that carries each grammar's fit
uncertainty: line b goes through the b-th bootstrap law of every grammar.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from datalaws.laws.bootstrap import percentile_interval
from datalaws.laws.chinchilla import NATURAL, to_natural
from datalaws.laws.lawfile import LawFile, finite_or_none

MIN_GRAMMARS = 3


def lines_through(h: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares slope and intercept of each row of y (B, G) against h (G,)."""
    hc = h - h.mean()
    slope = (y - y.mean(axis=1, keepdims=True)) @ hc / (hc @ hc)
    return slope, y.mean(axis=1) - slope * h.mean()


def h_regression(laws: dict[str, LawFile], h: dict[str, float], level: float = 0.95) -> dict:
    """Regress every law parameter on H; also where the alpha and beta lines cross."""
    names = sorted(laws, key=lambda g: h[g])
    if len(names) < MIN_GRAMMARS:
        raise ValueError(f"h_regression: need at least {MIN_GRAMMARS} grammars, got {len(names)}")
    hs = np.array([h[g] for g in names])
    if np.unique(hs).size < 2:
        raise ValueError("h_regression: all grammars have the same H; nothing to regress on")
    points = np.vstack([to_natural(laws[g].law.theta) for g in names])  # (G, 5)
    n_boot = min(laws[g].samples.shape[0] for g in names)
    boot = np.stack([to_natural(laws[g].samples[:n_boot]) for g in names], axis=1)  # (B, G, 5)
    params = {}
    lines = {}
    for i, key in enumerate(NATURAL):
        fit = stats.linregress(hs, points[:, i])
        b_slope, b_icpt = lines_through(hs, boot[:, :, i])
        lines[key] = (fit.slope, fit.intercept, b_slope, b_icpt)
        s_iv = percentile_interval(b_slope, level)
        i_iv = percentile_interval(b_icpt, level)
        params[key] = {
            "slope": float(fit.slope),
            "intercept": float(fit.intercept),
            "p_value": finite_or_none(fit.pvalue),
            "r": finite_or_none(fit.rvalue),
            "stderr": finite_or_none(fit.stderr),
            "slope_interval": [float(v) for v in s_iv],
            "intercept_interval": [float(v) for v in i_iv],
        }
    ma, na, ba, bna = lines["alpha"]
    mb, nb, bb, bnb = lines["beta"]
    with np.errstate(divide="ignore", invalid="ignore"):
        cross = (nb - na) / (ma - mb)
        b_cross = (bnb - bna) / (ba - bb)
    b_cross = np.where(np.isfinite(b_cross), b_cross, np.nan)
    return {
        "grammars": names,
        "H": hs.tolist(),
        "points": {key: points[:, i].tolist() for i, key in enumerate(NATURAL)},
        "params": params,
        "alpha_beta_crossing_H": finite_or_none(cross),
        "alpha_beta_crossing_H_interval": [
            finite_or_none(v) for v in percentile_interval(b_cross, level)
        ],
        "ci_level": level,
        "n_resamples": int(n_boot),
        "degrees_of_freedom": len(names) - 2,
    }
