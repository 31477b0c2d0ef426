"""How well a fitted law follows its own runs, and whether what it misses has a shape.

The in-sample error is the root mean square of the log residuals, log L - log L_hat (about the
relative error). A good RMSE can still hide a law of the wrong form: a learning transition, or a
floor the small runs have not reached, leaves residuals that rise and fall smoothly with N and D
rather than scatter. So the residuals are regressed on a quadratic surface in (log N, log D) and the
law is flagged when that surface explains them (F-test, p below ``alpha``): such a law fits the
grid it saw and will not extrapolate.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from datalaws.laws.chinchilla import log_loss

STRUCTURE_ALPHA = 0.01


def residuals(theta: np.ndarray, n: np.ndarray, d: np.ndarray, loss: np.ndarray) -> np.ndarray:
    """log L - log L_hat of every run under one law."""
    return np.log(loss) - log_loss(theta, np.log(n), np.log(d))[0]


def _surface(n: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Design matrix of a quadratic surface in standardised log N and log D."""
    x, y = (np.log(v) for v in (n, d))
    x = (x - x.mean()) / (x.std() or 1.0)
    y = (y - y.mean()) / (y.std() or 1.0)
    return np.column_stack([np.ones_like(x), x, y, x * x, y * y, x * y])


def residual_structure(n: np.ndarray, d: np.ndarray, r: np.ndarray) -> dict:
    """F-test of the residuals against a quadratic surface in (log N, log D), with its R^2.

    The null is pure scatter around zero, so the intercept is part of the tested surface: a law
    that is off by a constant factor everywhere is also a law of the wrong form.
    """
    design = _surface(n, d)
    coef, *_ = np.linalg.lstsq(design, r, rcond=None)
    rss1 = float(np.sum((r - design @ coef) ** 2))
    rss0 = float(np.sum(r**2))
    p, dof = design.shape[1], r.size - design.shape[1]
    if dof < 1 or rss0 == 0:
        return {"r2": None, "p_value": None, "flagged": False}
    if rss1 == 0:
        return {"r2": 1.0, "p_value": 0.0, "flagged": True}
    f = ((rss0 - rss1) / p) / (rss1 / dof)
    p_value = float(stats.f.sf(f, p, dof))
    return {
        "r2": 1.0 - rss1 / rss0,
        "p_value": p_value,
        "flagged": p_value < STRUCTURE_ALPHA,
    }


def fit_quality(theta: np.ndarray, n: np.ndarray, d: np.ndarray, loss: np.ndarray) -> dict:
    """In-sample log RMSE, largest log residual, and the residual-structure test."""
    r = residuals(theta, n, d, loss)
    return {
        "rmse_log": float(np.sqrt(np.mean(r**2))),
        "max_abs_log_residual": float(np.max(np.abs(r))),
        "residual_structure": residual_structure(n, d, r),
    }
