"""Held-out extrapolation: fit without the largest model size, then predict its losses.

The prediction interval has two parts, both from the bootstrap: the spread of the refitted laws'
predictions (parameter uncertainty, the confidence interval) plus a log residual of the training fit
drawn at random per resample (run-to-run scatter that no law removes). A truth inside the prediction
interval is what a well-calibrated extrapolation should deliver about ``level`` of the time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from datalaws.laws import chinchilla
from datalaws.laws.bootstrap import bootstrap_fit, percentile_interval
from datalaws.laws.chinchilla import log_loss
from datalaws.laws.lawfile import check_positive
from datalaws.laws.objective import RunData
from datalaws.laws.runs import RunsError, validate_runs


def holdout(
    runs: pd.DataFrame, *, n_resamples: int = 1000, seed: int = 0, level: float = 0.95
) -> dict:
    """Fit on all sizes but the largest and score the predictions for the largest."""
    largest = float(runs["N"].max())
    test = runs[runs["N"] == largest]
    train = runs[runs["N"] < largest]
    try:
        train = validate_runs(train, "runs without the largest size")
    except RunsError as err:
        raise RunsError(f"holdout: too few runs remain to fit ({err})") from err
    n, d, loss = (train[c].to_numpy(float) for c in ("N", "D", "loss"))
    data = RunData(n, d, loss)
    full = chinchilla.fit(data)
    boot = bootstrap_fit(data, full, n_resamples=n_resamples, seed=seed)
    n_range = [float(min(n.min(), runs["N"].min())), largest]
    d_range = [float(runs["D"].min()), float(runs["D"].max())]
    check_positive(full.law.theta, n_range, d_range, "holdout law")
    check_positive(boot.theta, n_range, d_range, "a bootstrap holdout law")
    residuals = data.log_l - log_loss(full.law.theta, data.log_n, data.log_d)[0]
    tn, td, tl = (test[c].to_numpy(float) for c in ("N", "D", "loss"))
    point = full.law.loss(tn, td)
    boot_log = log_loss(boot.theta, np.log(tn), np.log(td))
    noise = np.random.default_rng(seed + 1).choice(residuals, size=boot_log.shape)
    ci = np.exp(percentile_interval(boot_log, level))
    pi = np.exp(percentile_interval(boot_log + noise, level))
    inside = (tl >= pi[0]) & (tl <= pi[1])
    rel = (point - tl) / tl
    rows = [
        {
            "N": float(tn[i]),
            "D": float(td[i]),
            "loss": float(tl[i]),
            "predicted": float(point[i]),
            "ci": [float(ci[0, i]), float(ci[1, i])],
            "pi": [float(pi[0, i]), float(pi[1, i])],
            "inside_pi": bool(inside[i]),
            "relative_error": float(rel[i]),
        }
        for i in range(tl.size)
    ]
    return {
        "held_out_N": largest,
        "n_train_runs": len(train),
        "n_test_runs": int(tl.size),
        "train_law": full.law.natural(),
        "ci_level": level,
        "n_resamples": n_resamples,
        "seed": seed,
        "median_abs_relative_error": float(np.median(np.abs(rel))),
        "mean_abs_relative_error": float(np.mean(np.abs(rel))),
        "max_abs_relative_error": float(np.max(np.abs(rel))),
        "rmse_log": float(np.sqrt(np.mean(np.log(point / tl) ** 2))),
        "coverage": float(inside.mean()),
        "all_inside": bool(inside.all()),
        "runs": rows,
    }
