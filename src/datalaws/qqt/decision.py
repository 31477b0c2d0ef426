"""Which filtering level to train on, per compute budget, and how good the prediction was.

A budget is a number of samples seen (for one model size, compute is proportional to it).
Filtering level ``k`` means training on the top-k buckets, i.e. keeping their share of the pool.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from datalaws.qqt.law import LawDomainError, n_passes
from datalaws.qqt.mixture import Mixture, MixtureError

SIZE_RTOL = 0.01


def check_budgets(budgets: Sequence[float]) -> np.ndarray:
    values = np.asarray(budgets, dtype=float)
    if values.size == 0:
        raise LawDomainError("budgets: give at least one budget")
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise LawDomainError(f"budgets must be finite numbers of samples > 0, got {list(budgets)}")
    return values


def predict_table(mixtures: Sequence[Mixture], budgets: Sequence[float]) -> pd.DataFrame:
    """Predicted loss of every mixture at every budget, with the passes that budget implies."""
    values = check_budgets(budgets)
    rows = []
    for mixture in mixtures:
        losses = mixture.loss(values)
        passes = values / mixture.pool_size
        for budget, loss, epochs in zip(values, losses, passes, strict=True):
            rows.append(
                {
                    "mixture": mixture.name,
                    "pools": len(mixture.pools),
                    "fraction": mixture.fraction,
                    "pool_size": mixture.pool_size,
                    "budget": budget,
                    "epochs": epochs,
                    "loss": float(loss),
                }
            )
    return pd.DataFrame(rows)


def best_per_budget(table: pd.DataFrame) -> pd.DataFrame:
    """The mixture with the lowest predicted loss at each budget, and its margin over the next."""
    rows = []
    for budget, group in table.groupby("budget", sort=True):
        ranked = group.sort_values("loss", kind="stable")
        best = ranked.iloc[0]
        margin = float(ranked["loss"].iloc[1] - best["loss"]) if len(ranked) > 1 else np.nan
        rows.append(
            {
                "budget": budget,
                "best": best["mixture"],
                "pools": int(best["pools"]),
                "fraction": best["fraction"],
                "epochs": best["epochs"],
                "loss": best["loss"],
                "runner_up": ranked["mixture"].iloc[1] if len(ranked) > 1 else None,
                "margin": margin,
            }
        )
    return pd.DataFrame(rows)


def frontier(
    mixtures: Sequence[Mixture], low: float, high: float, points: int = 241
) -> pd.DataFrame:
    """Best mixture on a log-spaced grid of budgets: the Pareto frontier of level vs compute."""
    if not 0 < low < high:
        raise LawDomainError(f"frontier needs 0 < low < high, got {low}, {high}")
    grid = np.geomspace(low, high, points)
    return best_per_budget(predict_table(mixtures, grid))


def switch_points(front: pd.DataFrame) -> pd.DataFrame:
    """Budgets at which the best mixture changes (first grid budget of each new winner)."""
    changed = front["best"].ne(front["best"].shift())
    return front.loc[changed, ["budget", "best", "pools", "fraction"]].reset_index(drop=True)


def loosens_with_compute(best: pd.DataFrame) -> tuple[bool, str]:
    """Does the paper's qualitative result hold: the best level never tightens as budgets grow,
    and loosens at least once?"""
    levels = best.sort_values("budget")["pools"].to_numpy()
    if len(levels) < 2:
        return False, "one budget only: nothing to compare"
    steps = np.diff(levels)
    if np.any(steps < 0):
        return (
            False,
            f"best level tightens somewhere as compute grows: top-k with k = {levels.tolist()}",
        )
    if not np.any(steps > 0):
        return False, f"best level is the same (top{levels[0]}) at every budget"
    return True, f"best level loosens with compute: top-k with k = {levels.tolist()}"


def compare_measured(mixtures: Sequence[Mixture], runs: pd.DataFrame) -> pd.DataFrame:
    """Predicted against measured loss for mixtures that were trained for real.

    ``runs`` is a validated runs table whose ``bucket`` names the mixture; each run's unique
    samples must match the mixture's size, or the prediction would be for another pool.
    """
    by_name = {mixture.name: mixture for mixture in mixtures}
    unknown = sorted(set(runs["bucket"]) - set(by_name))
    if unknown:
        raise MixtureError(f"measured runs for unknown mixtures {unknown}; known {list(by_name)}")
    rows = []
    for run in runs.itertuples(index=False):
        mixture = by_name[run.bucket]
        if abs(run.unique_samples / mixture.pool_size - 1) > SIZE_RTOL:
            raise MixtureError(
                f"mixture {run.bucket}: run has {run.unique_samples:g} unique samples, the "
                f"mixture of {len(mixture.pools)} pools has {mixture.pool_size:g}"
            )
        predicted = float(mixture.loss(run.samples_seen)[0])
        rows.append(
            {
                "mixture": run.bucket,
                "samples_seen": run.samples_seen,
                "epochs": run.epochs,
                "passes": int(n_passes(run.samples_seen, mixture.pool_size)[0]),
                "measured": run.loss,
                "predicted": predicted,
                "error": predicted - run.loss,
                "rel_error": predicted / run.loss - 1,
            }
        )
    return pd.DataFrame(rows)
