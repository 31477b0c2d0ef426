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
import pandas as pd
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


# What a study could have fitted instead of its defaults: each is a candidate cause of a law that
# does not extrapolate (docs/laws.md, "Why the tiny study's laws failed").
VARIANTS = {
    "as configured": {},
    "N = total parameters": {"N": "n_params"},
    "loss = final training loss": {"loss": "train_loss"},
    "without the smallest budget": {"drop_budgets": 1},
    "without the two smallest budgets": {"drop_budgets": 2},
}


def variant_runs(runs: pd.DataFrame, choice: dict) -> pd.DataFrame:
    """The runs table under one alternative choice of N, loss or budgets."""
    out = runs.copy()
    if "N" in choice:
        out["N"] = out[choice["N"]].astype(float)
    if "loss" in choice:
        out["loss"] = out[choice["loss"]].astype(float)
    if choice.get("drop_budgets"):
        kept = sorted(out["D"].unique())[choice["drop_budgets"] :]
        out = out[out["D"].isin(kept)]
    return out.reset_index(drop=True)


def compare_choices(runs: pd.DataFrame, n_resamples: int = 100, seed: int = 0) -> pd.DataFrame:
    """Fit and held-out check of one grammar's runs under every variant of ``VARIANTS``."""
    from datalaws.laws.holdout import holdout
    from datalaws.laws.lawfile import fit_law
    from datalaws.laws.runs import validate_runs

    rows = []
    for name, choice in VARIANTS.items():
        table = validate_runs(variant_runs(runs, choice), name)
        law = fit_law(table, n_resamples=n_resamples, seed=seed)
        held = holdout(table, n_resamples=n_resamples, seed=seed)
        a_lo, a_hi = law["frontier"]["n_opt_exponent_interval"]
        quality = law["fit_quality"]
        rows.append(
            {
                "variant": name,
                "runs": len(table),
                **{k: law["params"][k] for k in ("E", "alpha", "beta")},
                "n_opt_exponent": law["frontier"]["n_opt_exponent"],
                "n_opt_exponent_width": None if None in (a_lo, a_hi) else a_hi - a_lo,
                "rmse_log": quality["rmse_log"],
                "residuals_structured": quality["residual_structure"]["flagged"],
                "holdout_median_error": held["median_abs_relative_error"],
                "holdout_max_error": held["max_abs_relative_error"],
                "holdout_inside_pi": held["coverage"],
            }
        )
    return pd.DataFrame(rows)
