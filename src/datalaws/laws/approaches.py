"""Chinchilla Approaches 1 and 2 on a grid of (N, D) runs, beside Approach 3's exponent.

A grid of final losses is not a set of IsoFLOP sweeps, so both approaches work on interpolated
slices. For each model size, log loss is interpolated linearly in log tokens between that size's
own budgets; nothing is extrapolated beyond a size's smallest or largest budget. Compute levels are
log-spaced over the runs' range of C = 6 N D.

- Approach 1 (lower envelope): at each level, the size with the lowest interpolated loss among the
  sizes whose budgets reach that compute. A winner that is the smallest or largest size available
  there is censored (a smaller or larger model, not trained, might be better), so the level is
  dropped. The exponent is the least-squares slope of log N_opt on log C over the remaining levels.
- Approach 2 (IsoFLOP parabolas): at each level, the interpolated losses of all sizes that reach it
  form an IsoFLOP slice; a parabola in log N is fitted to it (loss against log N, as Hoffmann et
  al.), and N_opt is its vertex, kept only if the slice has at least ``min_points`` sizes, the
  parabola opens upward, and its vertex lies inside the slice's range of N at a positive loss.
  The exponent is again the slope of log N_opt on log C.

Intervals come from the same bootstrap over runs as the law fit (same seed, same resamples): a
resample keeps the runs it drew at least once, since a repeated run adds nothing to an
interpolation. Losing about a third of the runs per resample makes these intervals conservative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from datalaws.laws.bootstrap import percentile_interval


@dataclass(frozen=True)
class Grid:
    """Runs as one row per model size: log N, and each size's log D and log loss by budget."""

    log_n: np.ndarray  # (S,)
    log_d: list[np.ndarray]
    log_l: list[np.ndarray]

    @classmethod
    def from_runs(cls, n: np.ndarray, d: np.ndarray, loss: np.ndarray) -> Grid:
        frame = pd.DataFrame({"ln": np.log(n), "ld": np.log(d), "ll": np.log(loss)})
        frame = frame.groupby(["ln", "ld"], as_index=False)["ll"].mean()  # repeated runs: average
        log_n, log_d, log_l = [], [], []
        for ln, part in frame.groupby("ln", sort=True):
            part = part.sort_values("ld")
            log_n.append(ln)
            log_d.append(part["ld"].to_numpy())
            log_l.append(part["ll"].to_numpy())
        return cls(np.array(log_n), log_d, log_l)

    def slices(self, log_c: np.ndarray) -> np.ndarray:
        """Interpolated log loss of each size at each compute level: (S, M), NaN where unreached."""
        out = np.full((self.log_n.size, log_c.size), np.nan)
        for j, (ln, ld, ll) in enumerate(zip(self.log_n, self.log_d, self.log_l, strict=True)):
            if ld.size < 2:
                continue
            x = log_c - np.log(6.0) - ln  # log D on this size's IsoFLOP line
            inside = (x >= ld[0]) & (x <= ld[-1])
            out[j, inside] = np.interp(x[inside], ld, ll)
        return out


def compute_levels(n: np.ndarray, d: np.ndarray, count: int) -> np.ndarray:
    """``count`` log-spaced compute levels spanning the runs' C = 6 N D."""
    c = 6.0 * np.asarray(n, float) * np.asarray(d, float)
    return np.geomspace(c.min(), c.max(), count)


def envelope_optima(grid: Grid, log_c: np.ndarray) -> np.ndarray:
    """Approach 1: log N of the lowest-loss size per level; NaN where censored or unreached."""
    loss = grid.slices(log_c)
    out = np.full(log_c.size, np.nan)
    for m in range(log_c.size):
        avail = np.flatnonzero(np.isfinite(loss[:, m]))
        if avail.size < 2:
            continue
        best = avail[np.argmin(loss[avail, m])]
        if avail[0] < best < avail[-1]:
            out[m] = grid.log_n[best]
    return out


def parabola_optima(
    grid: Grid, log_c: np.ndarray, min_points: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """Approach 2: vertex log N of the parabola per IsoFLOP slice (NaN if invalid); coefficients."""
    loss = np.exp(grid.slices(log_c))
    out = np.full(log_c.size, np.nan)
    coefs = np.full((log_c.size, 3), np.nan)
    for m in range(log_c.size):
        avail = np.isfinite(loss[:, m])
        if avail.sum() < min_points:
            continue
        x = grid.log_n[avail]
        c2, c1, c0 = np.polyfit(x, loss[avail, m], 2)
        coefs[m] = (c2, c1, c0)
        if c2 <= 0:
            continue
        vertex = -c1 / (2.0 * c2)
        # A vertex outside the slice is an extrapolation, and one below zero loss is no law.
        if x.min() <= vertex <= x.max() and np.polyval((c2, c1, c0), vertex) > 0:
            out[m] = vertex
    return out, coefs


def power_law(log_c: np.ndarray, log_n_opt: np.ndarray, min_levels: int) -> tuple[float, float]:
    """Slope and intercept of log N_opt = k log C + c over levels with an optimum (NaN if too few).

    Also NaN when every kept level has the same optimum: a flat staircase says nothing about k.
    """
    ok = np.isfinite(log_n_opt)
    if ok.sum() < min_levels or np.unique(log_n_opt[ok]).size < 2:
        return float("nan"), float("nan")
    k, c = np.polyfit(log_c[ok], log_n_opt[ok], 1)
    return float(k), float(c)


def exponents(
    grid: Grid, log_c: np.ndarray, min_points: int = 3, min_levels: int = 3
) -> tuple[float, float]:
    """Approach-1 and Approach-2 exponents of N_opt ~ C^k for one set of runs."""
    k1, _ = power_law(log_c, envelope_optima(grid, log_c), min_levels)
    k2, _ = power_law(log_c, parabola_optima(grid, log_c, min_points)[0], min_levels)
    return k1, k2


def _summary(point: float, boot: np.ndarray, level: float) -> dict:
    lo, hi = percentile_interval(boot, level) if np.isfinite(boot).any() else (np.nan, np.nan)
    return {
        "exponent": point if np.isfinite(point) else None,
        "interval": [float(lo), float(hi)] if np.isfinite(lo) else None,
        "n_undefined_resamples": int((~np.isfinite(boot)).sum()),
    }


def compare(
    runs: pd.DataFrame,
    approach3: dict,
    weights: np.ndarray,
    *,
    n_levels: int = 40,
    min_points: int = 3,
    min_levels: int = 3,
    level: float = 0.95,
) -> dict:
    """Approaches 1, 2 (point, bootstrap interval, the optima behind them) and 3, side by side.

    ``approach3`` holds Approach 3's exponent and interval (from the law file); ``weights`` are the
    law's bootstrap resamples (resamples x runs), so all three approaches see the same resamples.
    Two approaches disagree when their intervals do not overlap.
    """
    n, d, loss = (runs[c].to_numpy(float) for c in ("N", "D", "loss"))
    log_c = np.log(compute_levels(n, d, n_levels))
    grid = Grid.from_runs(n, d, loss)
    env = envelope_optima(grid, log_c)
    par, coefs = parabola_optima(grid, log_c, min_points)
    k1, c1 = power_law(log_c, env, min_levels)
    k2, c2 = power_law(log_c, par, min_levels)
    boot = np.array(
        [
            exponents(
                Grid.from_runs(n[w > 0], d[w > 0], loss[w > 0]), log_c, min_points, min_levels
            )
            for w in weights
        ]
    )
    result = {
        "approach1": _summary(k1, boot[:, 0], level)
        | {
            "intercept": c1 if np.isfinite(c1) else None,
            "optima": [
                [float(np.exp(c)), float(np.exp(v))]
                for c, v in zip(log_c, env, strict=True)
                if v == v
            ],
        },
        "approach2": _summary(k2, boot[:, 1], level)
        | {
            "intercept": c2 if np.isfinite(c2) else None,
            "optima": [
                [float(np.exp(c)), float(np.exp(v))]
                for c, v in zip(log_c, par, strict=True)
                if v == v
            ],
            "parabolas": [
                {"compute": float(np.exp(c)), "coef": [float(x) for x in co]}
                for c, co, v in zip(log_c, coefs, par, strict=True)
                if v == v
            ],
        },
        "approach3": {
            "exponent": approach3["exponent"],
            "interval": approach3["interval"],
        },
        "n_levels": n_levels,
        "min_points": min_points,
        "ci_level": level,
        "n_resamples": len(weights),
    }
    result["disagreements"] = disagreements(result)
    result["disagree"] = any(x["disagree"] for x in result["disagreements"])
    return result


def disagreements(result: dict) -> list[dict]:
    """Each pair of approaches; flagged when both have intervals and these do not overlap."""
    out = []
    names = ("approach1", "approach2", "approach3")
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            ia, ib = result[a]["interval"], result[b]["interval"]
            known = ia is not None and ib is not None
            apart = known and (ia[1] < ib[0] or ib[1] < ia[0])
            out.append({"pair": [a, b], "comparable": known, "disagree": bool(apart)})
    return out
