"""Runs drawn from known laws, for checking that the fit recovers what generated them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from datalaws.qqt.law import PoolParams


def synthetic_runs(
    pools: Sequence[PoolParams],
    budgets: Sequence[float],
    pool_size: float,
    *,
    noise: float = 0.0,
    seed: int = 0,
) -> pd.DataFrame:
    """One run per (pool, budget), loss times ``exp(noise * N(0, 1))``: relative noise."""
    rng = np.random.default_rng(seed)
    budgets = np.asarray(budgets, dtype=float)
    frames = []
    for pool in pools:
        clean = pool.loss(budgets, pool_size)
        frames.append(
            pd.DataFrame(
                {
                    "bucket": pool.name,
                    "samples_seen": budgets,
                    "epochs": budgets / pool_size,
                    "unique_samples": float(pool_size),
                    "loss": clean * np.exp(noise * rng.standard_normal(len(budgets))),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
