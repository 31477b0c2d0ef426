"""Robust fit of the repetition law, with bootstrap intervals.

The authors fit ``(a, b, tau)`` by exhaustive grid search because scipy was unstable for them.
The instability comes from the parameterisation: ``a`` spans orders of magnitude and couples to
``b`` through ``n^b``, ``tau`` enters through ``0.5^(1/tau)``, and unconstrained optimisers wander
into ``b > 0`` or ``d < 0``. Here the optimiser sees

    theta = (log a0, log(-b), d, log tau),    a0 = a n0^b  (reducible loss at n0 samples),

with ``n0`` the geometric mean of the budgets, so every coordinate is O(1) and the domain
``b < 0, d >= 0, tau > 0`` is a box. Residuals are ``log y_hat - log y`` (relative error, as
losses of different buckets live on one scale) under a soft-L1 loss so a diverged run does not
drag the fit. A coarse grid over ``(b, tau, d)`` with ``log a0`` solved in closed form picks the
starting points; ``scipy.optimize.least_squares`` (trust region, analytic Jacobian) refines the
best few. Intervals come from a bootstrap over runs, stratified by bucket.

``share`` ties ``a`` and/or ``d`` across buckets, as the authors do: the mixture theorem is
derived for pools that share them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from datalaws.qqt.law import PoolParams, log_increments
from datalaws.qqt.params import pools_to_obj
from datalaws.qqt.runs import validate_runs

PARAMS = ("a", "b", "d", "tau")
LN2 = np.log(2.0)
LOG_A0 = (-30.0, 30.0)
LOG_NEG_B = (np.log(1e-4), np.log(5.0))
LOG_TAU = (np.log(0.05), np.log(1e4))
RESAMPLE = ("runs", "residuals")


class FitError(ValueError):
    """The fit cannot be set up (bad option) or never converged."""


@dataclass(frozen=True)
class FitConfig:
    """Options of the fit; the defaults are what the workflow uses."""

    loss: str = "soft_l1"
    f_scale: float = 0.01
    grid_b: tuple[float, ...] = (0.02, 0.06, 0.2, 0.6, 1.5)
    grid_tau: tuple[float, ...] = (0.3, 1.0, 3.0, 10.0, 30.0, 300.0)
    grid_dfrac: tuple[float, ...] = (0.0, 0.5, 0.8, 0.95)
    refine: int = 6
    n_boot: int = 200
    boot_refine: int = 2
    seed: int = 0
    share: tuple[str, ...] = ()
    level: float = 0.95
    resample: str = "runs"  # bootstrap over runs, or over each bucket's log residuals

    def __post_init__(self) -> None:
        if self.loss not in ("linear", "soft_l1", "huber", "cauchy", "arctan"):
            raise FitError(f"loss must be a scipy least_squares loss, got {self.loss!r}")
        if not self.f_scale > 0:
            raise FitError(f"f_scale must be > 0, got {self.f_scale}")
        if self.refine < 1 or self.boot_refine < 0 or self.n_boot < 0:
            raise FitError("refine >= 1, boot_refine >= 0 and n_boot >= 0 are required")
        unknown = set(self.share) - {"a", "d"}
        if unknown:
            raise FitError(f"share may name 'a' and 'd' only, got {sorted(unknown)}")
        if not 0 < self.level < 1:
            raise FitError(f"level must lie in (0, 1), got {self.level}")
        if self.resample not in RESAMPLE:
            raise FitError(f"resample must be one of {RESAMPLE}, got {self.resample!r}")


@dataclass
class _Bucket:
    name: str
    n: np.ndarray
    size: np.ndarray
    logy: np.ndarray
    incs: np.ndarray
    steps: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.steps = np.arange(self.incs.shape[1], dtype=float)

    @property
    def ymin(self) -> float:
        return float(np.exp(self.logy.min()))


def _bucket(name: str, rows: pd.DataFrame, n0: float) -> _Bucket:
    n = rows["samples_seen"].to_numpy(float)
    size = rows["unique_samples"].to_numpy(float)
    return _Bucket(
        name, n, size, np.log(rows["loss"].to_numpy(float)), log_increments(n / n0, size / n0)
    )


def _predict_parts(theta4: np.ndarray, bucket: _Bucket) -> tuple:
    log_a0, log_nb, d, log_tau = theta4
    tau = np.exp(log_tau)
    beta = -np.exp(log_nb) * np.exp(-LN2 * bucket.steps / tau)
    reducible = np.exp(log_a0 + bucket.incs @ beta)
    return beta, tau, reducible, reducible + d


class _Problem:
    """Buckets plus the map from a global parameter vector to each bucket's four.

    A bucket's own slot 0 is ``log a0``; a shared slot 0 is ``log a`` in the paper's units
    (curves meet at one sample, as with a common initialisation), and the bucket's ``log a0``
    follows as ``log a + b log n0``.
    """

    def __init__(self, buckets: Sequence[_Bucket], share: Sequence[str], log_n0: float = 0.0):
        self.buckets = list(buckets)
        self.log_n0 = log_n0
        self.shared_a = "a" in share
        slots, lower, upper = [], [], []
        ymin = min(bucket.ymin for bucket in self.buckets)
        shared = {}
        if "a" in share:
            shared[0] = len(lower)
            lower.append(LOG_A0[0])
            upper.append(LOG_A0[1] + np.exp(LOG_NEG_B[1]) * abs(log_n0))
        if "d" in share:
            shared[2] = len(lower)
            lower.append(0.0)
            upper.append(ymin)
        for bucket in self.buckets:
            row = []
            for slot in range(4):
                if slot in shared:
                    row.append(shared[slot])
                    continue
                row.append(len(lower))
                low, high = (LOG_A0, LOG_NEG_B, (0.0, bucket.ymin), LOG_TAU)[slot]
                lower.append(low)
                upper.append(high)
            slots.append(row)
        self.index = np.array(slots, dtype=int)
        self.lower = np.array(lower)
        self.upper = np.array(upper)
        self.size = len(lower)

    def local(self, theta: np.ndarray, j: int) -> np.ndarray:
        """Bucket ``j``'s ``(log a0, log(-b), d, log tau)``."""
        theta4 = theta[self.index[j]].copy()
        if self.shared_a:
            theta4[0] -= np.exp(theta4[1]) * self.log_n0
        return theta4

    def residuals(self, theta: np.ndarray) -> np.ndarray:
        out = []
        for j, bucket in enumerate(self.buckets):
            y_hat = _predict_parts(self.local(theta, j), bucket)[3]
            out.append(np.log(y_hat) - bucket.logy)
        return np.concatenate(out)

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        rows = []
        for j, bucket in enumerate(self.buckets):
            theta4 = self.local(theta, j)
            beta, tau, reducible, y_hat = _predict_parts(theta4, bucket)
            share = reducible / y_hat
            d_log_nb = bucket.incs @ beta
            if self.shared_a:
                d_log_nb = d_log_nb - np.exp(theta4[1]) * self.log_n0
            local = np.column_stack(
                [
                    share,
                    share * d_log_nb,
                    1.0 / y_hat,
                    share * (bucket.incs @ (beta * LN2 * bucket.steps / tau)),
                ]
            )
            block = np.zeros((len(y_hat), self.size))
            for slot in range(4):
                block[:, self.index[j, slot]] += local[:, slot]
            rows.append(block)
        return np.vstack(rows)

    def solve(self, starts: Sequence[np.ndarray], config: FitConfig):
        """Best local optimum over ``starts`` (by robust cost)."""
        best = None
        span = self.upper - self.lower
        for start in starts:
            x0 = np.clip(start, self.lower + 1e-9 * span, self.upper - 1e-9 * span)
            result = least_squares(
                self.residuals,
                x0,
                jac=self.jacobian,
                bounds=(self.lower, self.upper),
                loss=config.loss,
                f_scale=config.f_scale,
                x_scale="jac",
            )
            if np.isfinite(result.cost) and (best is None or result.cost < best.cost):
                best = result
        if best is None:
            raise FitError("no starting point converged to a finite cost")
        return best


def _grid_starts(bucket: _Bucket, config: FitConfig, top: int) -> list[np.ndarray]:
    """Rank a coarse grid of ``(b, tau, d)`` with ``log a0`` in closed form; keep the best."""
    nb, nt = np.meshgrid(config.grid_b, config.grid_tau, indexing="ij")
    nb, nt = nb.ravel(), nt.ravel()
    betas = -nb[None, :] * np.exp(-LN2 * bucket.steps[:, None] / nt[None, :])
    growth = bucket.incs @ betas
    candidates, costs = [], []
    for frac in config.grid_dfrac:
        d = frac * bucket.ymin
        target = np.log(np.exp(bucket.logy) - d)[:, None] - growth
        log_a0 = target.mean(axis=0)
        y_hat = np.exp(log_a0[None, :] + growth) + d
        costs.append(((np.log(y_hat) - bucket.logy[:, None]) ** 2).sum(axis=0))
        candidates.append(np.column_stack([log_a0, np.log(nb), np.full_like(nb, d), np.log(nt)]))
    costs_all = np.concatenate(costs)
    cands = np.vstack(candidates)
    return [cands[i] for i in np.argsort(costs_all, kind="stable")[:top]]


def _theta_to_pool(theta4: np.ndarray, n0: float) -> tuple[float, float, float, float]:
    log_a0, log_nb, d, log_tau = theta4
    b = -float(np.exp(log_nb))
    return float(np.exp(log_a0 - b * np.log(n0))), b, float(d), float(np.exp(log_tau))


@dataclass
class BucketFit:
    """One bucket's estimate, its fit quality and bootstrap draws of ``(a, b, d, tau)``."""

    pool: PoolParams
    n_runs: int
    rmse_log: float
    at_bound: list[str]
    boot: np.ndarray

    def interval(self, level: float) -> dict[str, list[float]]:
        if len(self.boot) == 0:
            return {}
        tail = 100 * (1 - level) / 2
        low, high = np.percentile(self.boot, [tail, 100 - tail], axis=0)
        return {key: [float(low[i]), float(high[i])] for i, key in enumerate(PARAMS)}


@dataclass
class FitResult:
    buckets: list[BucketFit]
    config: FitConfig
    n0: float
    boot_ok: int
    boot_failed: int
    seconds: float

    @property
    def pools(self) -> list[PoolParams]:
        return [fit.pool for fit in self.buckets]

    def to_obj(self) -> dict:
        obj = pools_to_obj(
            self.pools,
            law="paper: y = a n_1^b_1 prod (n_j/n_{j-1})^b_j + d, b_j = b 0.5^((j-1)/tau)",
            samples_unit="samples seen (a is in these units)",
            fit={
                "loss": self.config.loss,
                "f_scale": self.config.f_scale,
                "share": list(self.config.share),
                "n_boot": self.config.n_boot,
                "resample": self.config.resample,
                "boot_ok": self.boot_ok,
                "boot_failed": self.boot_failed,
                "seed": self.config.seed,
                "level": self.config.level,
                "n0": self.n0,
                "seconds": round(self.seconds, 3),
            },
        )
        for entry, fit in zip(obj["buckets"], self.buckets, strict=True):
            entry.update(
                n_runs=fit.n_runs,
                rmse_log=fit.rmse_log,
                at_bound=fit.at_bound,
                interval=fit.interval(self.config.level),
                bootstrap=fit.boot.tolist(),
            )
        return obj


def _resample(rows: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    return rows.iloc[rng.integers(0, len(rows), len(rows))]


def _perturb(rows: pd.DataFrame, log_fit: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """The bucket's runs with losses ``exp(log y_hat + e*)``, ``e*`` drawn from its own log
    residuals: every budget stays in the resample, so a bucket with four runs never drops below
    the three distinct budgets the law needs (resampling runs loses one most of the time)."""
    residuals = np.log(rows["loss"].to_numpy(float)) - log_fit
    draw = residuals[rng.integers(0, len(residuals), len(residuals))]
    return rows.assign(loss=np.exp(log_fit + draw))


def _solve_all(
    groups: Sequence[tuple[str, pd.DataFrame]],
    n0: float,
    config: FitConfig,
    warm: Sequence[np.ndarray] | None = None,
    top: int | None = None,
) -> tuple[_Problem, np.ndarray]:
    """Fit every bucket; ``warm`` (per-bucket 4-vectors) adds a start to each local solve."""
    buckets = [_bucket(name, rows, n0) for name, rows in groups]
    top = config.refine if top is None else top
    singles = []
    for j, bucket in enumerate(buckets):
        local = [] if warm is None else [warm[j]]
        if top:
            local += _grid_starts(bucket, config, top)
        singles.append(_Problem([bucket], ()).solve(local, config).x)
    singles = np.array(singles)
    if not config.share:
        return _Problem(buckets, ()), singles.ravel()
    joint = _Problem(buckets, config.share, np.log(n0))
    own = singles.copy()
    own[:, 0] += np.exp(own[:, 1]) * np.log(n0)  # log a in paper units
    guesses = []
    for pick in (np.median, np.min, np.max):
        guess = np.zeros(joint.size)
        for j, idx in enumerate(joint.index):
            guess[idx] = own[j] if joint.shared_a else singles[j]
        for slot in (0, 2):
            if len(set(joint.index[:, slot])) == 1:
                guess[joint.index[0, slot]] = pick(own[:, slot])
        guesses.append(guess)
    return joint, joint.solve(guesses, config).x


def fit_runs(
    runs: pd.DataFrame,
    config: FitConfig | None = None,
    *,
    order: Sequence[str] | None = None,
    controls: Sequence[str] = (),
    fraction: float | None = None,
) -> FitResult:
    """Fit ``(a, b, d, tau)`` per bucket of a runs table (see ``datalaws.qqt.runs``).

    ``order`` ranks the buckets (default: first appearance); ``controls`` marks buckets kept out
    of top-k mixtures; ``fraction`` is each bucket's share of the unfiltered pool, if known.
    """
    config = config or FitConfig()
    started = time.perf_counter()
    runs = validate_runs(runs)
    names = list(dict.fromkeys(runs["bucket"]))
    if order is not None:
        if sorted(order) != sorted(names):
            raise FitError(f"order {list(order)} must name each bucket {names} exactly once")
        names = list(order)
    groups = [(name, runs[runs["bucket"] == name]) for name in names]
    n0 = float(np.exp(np.log(runs["samples_seen"]).mean()))
    problem, theta = _solve_all(groups, n0, config)
    warm = [problem.local(theta, j) for j in range(len(names))]

    rng = np.random.default_rng(config.seed)
    log_fits = np.split(
        problem.residuals(theta) + np.concatenate([np.log(r["loss"]) for _, r in groups]),
        np.cumsum([len(rows) for _, rows in groups])[:-1],
    )
    draws, failed = [], 0
    for _ in range(config.n_boot):
        if config.resample == "residuals":
            sample = [
                (name, _perturb(rows, log_fits[j], rng)) for j, (name, rows) in enumerate(groups)
            ]
        else:
            sample = [(name, _resample(rows, rng)) for name, rows in groups]
        if any(rows["samples_seen"].nunique() < 3 for _, rows in sample):
            failed += 1
            continue
        try:
            boot_problem, boot_theta = _solve_all(sample, n0, config, warm, config.boot_refine)
        except FitError:
            failed += 1
            continue
        draws.append(
            [_theta_to_pool(boot_problem.local(boot_theta, j), n0) for j in range(len(names))]
        )
    boot = np.array(draws, dtype=float).reshape(len(draws), len(names), 4)

    residuals = problem.residuals(theta)
    fits, offset = [], 0
    for j, (name, rows) in enumerate(groups):
        idx = problem.index[j]
        a, b, d, tau = _theta_to_pool(problem.local(theta, j), n0)
        sizes = rows["unique_samples"].unique()
        pool = PoolParams(
            a,
            b,
            d,
            tau,
            name=name,
            pool_size=float(sizes[0]) if len(sizes) == 1 else None,
            fraction=None if name in controls else fraction,
            control=name in controls,
        )
        span = problem.upper[idx] - problem.lower[idx]
        near = (theta[idx] - problem.lower[idx] < 1e-6 * span) | (
            problem.upper[idx] - theta[idx] < 1e-6 * span
        )
        res = residuals[offset : offset + len(rows)]
        offset += len(rows)
        fits.append(
            BucketFit(
                pool=pool,
                n_runs=len(rows),
                rmse_log=float(np.sqrt(np.mean(res**2))),
                at_bound=[PARAMS[s] for s in range(4) if near[s]],
                boot=boot[:, j, :],
            )
        )
    return FitResult(fits, config, n0, len(draws), failed, time.perf_counter() - started)


def grid_search(
    runs: pd.DataFrame,
    points: int = 20,
    *,
    b_range: tuple[float, float] | None = None,
    tau_range: tuple[float, float] | None = None,
) -> tuple[PoolParams, float]:
    """The authors' method, for comparison: exhaustive grid, least squares on the loss itself.

    By default the grid spans the same box as the robust fit (``a0``, ``|b|``, ``tau``
    log-spaced; ``d`` linear below the smallest loss), ``points`` values per axis, one bucket at
    a time. ``b_range`` / ``tau_range`` give linear hand-picked ranges as the authors used. It is
    vectorised, so faster than the authors' Python loop, and still limited to the grid.
    """
    runs = validate_runs(runs)
    if runs["bucket"].nunique() != 1:
        raise FitError("grid_search fits one bucket at a time")
    n0 = float(np.exp(np.log(runs["samples_seen"]).mean()))
    bucket = _bucket(str(runs["bucket"].iloc[0]), runs, n0)
    y = np.exp(bucket.logy)
    log_a0 = np.linspace(np.log(y.min()) - 6, np.log(y.max()) + 1, points)
    if b_range is None:
        nb = np.exp(np.linspace(*LOG_NEG_B, points))
    else:
        nb = -np.linspace(*b_range, points)
    if np.any(nb <= 0):
        raise FitError(f"b_range must lie below 0, got {b_range}")
    tau = (
        np.exp(np.linspace(*LOG_TAU, points))
        if tau_range is None
        else np.linspace(*tau_range, points)
    )
    if np.any(tau <= 0):
        raise FitError(f"tau_range must lie above 0, got {tau_range}")
    d = np.linspace(0.0, bucket.ymin, points, endpoint=False)
    nb_grid, tau_grid = (axis.ravel() for axis in np.meshgrid(nb, tau, indexing="ij"))
    betas = -nb_grid[None, :] * np.exp(-LN2 * bucket.steps[:, None] / tau_grid[None, :])
    growth = np.exp(bucket.incs @ betas)[:, :, None]  # (runs, b x tau, 1)
    best_cost, best = np.inf, None
    for la in log_a0:  # one slab of (b, tau, d) per value of a0 keeps memory small
        cost = ((np.exp(la) * growth + d[None, None, :] - y[:, None, None]) ** 2).sum(axis=0)
        i, j = np.unravel_index(int(np.argmin(cost)), cost.shape)
        if cost[i, j] < best_cost:
            best_cost, best = float(cost[i, j]), (la, nb_grid[i], tau_grid[i], d[j])
    theta = np.array([best[0], np.log(best[1]), best[3], np.log(best[2])])
    a, b, d_hat, tau_hat = _theta_to_pool(theta, n0)
    return PoolParams(a, b, d_hat, tau_hat, name=bucket.name), best_cost
