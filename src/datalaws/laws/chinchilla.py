"""The Chinchilla law L(N, D) = E + A/N^alpha + B/D^beta and its Approach-3 fit.

The fit follows Hoffmann et al. (2022) as replicated by Besiroglu et al. (2024): parameters live in
log space, log L_hat = LSE(a - alpha log N, b - beta log D, e) with A = e^a, B = e^b, E = e^e, so
every law it can return predicts a positive loss; the objective is the Huber loss (delta 1e-3) of
log L - log L_hat summed over runs; L-BFGS is started from every point of a grid and the best end
point is kept. The grid starts run as one batch (:mod:`datalaws.laws.optim`), and the winner is
then polished with scipy's L-BFGS-B, so the reported optimum does not rest on our batched optimiser
alone.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from datalaws.laws.objective import RunData
from datalaws.laws.optim import minimize_batched

# Internal parameter order; every theta array in this package uses it.
THETA = ("a", "b", "e", "alpha", "beta")
NATURAL = ("E", "A", "B", "alpha", "beta")

# Chinchilla's own Approach-3 constants (Hoffmann et al. 2022).
CHINCHILLA = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}


def to_natural(theta: np.ndarray) -> np.ndarray:
    """Columns (a, b, e, alpha, beta) to (E, A, B, alpha, beta).

    A term the runs cannot resolve (a grammar learnt to its floor) can have a or b beyond
    log(float max); its A or B is then inf on purpose, which the law file writes as null.
    """
    theta = np.atleast_2d(theta)
    with np.errstate(over="ignore"):
        return np.stack(
            [
                np.exp(theta[:, 2]),
                np.exp(theta[:, 0]),
                np.exp(theta[:, 1]),
                theta[:, 3],
                theta[:, 4],
            ],
            axis=1,
        )


@dataclass(frozen=True)
class Law:
    """A Chinchilla law; E, A, B are held as their logs so that they cannot become non-positive."""

    a: float
    b: float
    e: float
    alpha: float
    beta: float

    @classmethod
    def from_theta(cls, theta: np.ndarray) -> Law:
        return cls(*(float(v) for v in np.ravel(theta)))

    @classmethod
    def from_natural(cls, E: float, A: float, B: float, alpha: float, beta: float) -> Law:
        if min(E, A, B) <= 0:
            raise ValueError(f"law: E, A and B must be positive, got E={E}, A={A}, B={B}")
        return cls(float(np.log(A)), float(np.log(B)), float(np.log(E)), alpha, beta)

    @property
    def theta(self) -> np.ndarray:
        return np.array([self.a, self.b, self.e, self.alpha, self.beta])

    def natural(self) -> dict[str, float]:
        """E, A, B, alpha, beta: the parameters as the literature writes them."""
        return {k: float(v) for k, v in zip(NATURAL, to_natural(self.theta)[0], strict=True)}

    def loss(self, n: np.ndarray | float, d: np.ndarray | float) -> np.ndarray:
        """Predicted loss; the log-sum-exp keeps it positive for any N, D > 0."""
        return np.exp(log_loss(self.theta, np.log(n), np.log(d))[0])


CHINCHILLA_LAW = Law.from_natural(**CHINCHILLA)


def log_loss(theta: np.ndarray, log_n: np.ndarray, log_d: np.ndarray) -> np.ndarray:
    """log L_hat for every (law, point) pair: theta (K, 5); result (K, *broadcast(log_n, log_d))."""
    theta = np.atleast_2d(theta)
    log_n, log_d = np.broadcast_arrays(np.asarray(log_n, float), np.asarray(log_d, float))
    t1 = theta[:, 0, None] - theta[:, 3, None] * log_n.ravel()[None, :]
    t2 = theta[:, 1, None] - theta[:, 4, None] * log_d.ravel()[None, :]
    out = np.logaddexp(np.logaddexp(t1, t2), theta[:, 2, None])
    return out.reshape((theta.shape[0], *log_n.shape))


def init_grid() -> np.ndarray:
    """The initialisation grid of Hoffmann et al. / Besiroglu et al.: 6*6*5*5*5 = 4500 starts.

    a, b in {0, 5, ..., 25}; e in {-1, -0.5, ..., 1}; alpha, beta in {0, 0.5, ..., 2}; columns in
    THETA order.
    """
    ab = np.arange(0.0, 25.1, 5.0)
    e = np.arange(-1.0, 1.01, 0.5)
    exps = np.arange(0.0, 2.01, 0.5)
    return np.array(list(itertools.product(ab, ab, e, exps, exps)))


def distinct_optima(
    x: np.ndarray, f: np.ndarray, data: RunData, limit: int, tol: float = 1e-3
) -> np.ndarray:
    """The best ``limit`` end points whose predictions on the runs differ by more than ``tol``.

    Compared by prediction, not by parameters: end points that run off along a flat direction
    (say E -> 0 while e drifts) are one optimum, and only truly different laws are worth keeping
    as warm starts.
    """
    kept: list[np.ndarray] = []
    preds: list[np.ndarray] = []
    for i in np.argsort(f):
        if not np.isfinite(f[i]):
            break
        pred = log_loss(x[i], data.log_n, data.log_d)[0]
        if all(np.max(np.abs(pred - p)) > tol for p in preds):
            kept.append(x[i])
            preds.append(pred)
            if len(kept) == limit:
                break
    return np.array(kept)


def polish(theta: np.ndarray, data: RunData) -> tuple[np.ndarray, float]:
    """Finish one optimum with scipy's L-BFGS-B at tight tolerances; never returns a worse point.

    The objective is divided by delta for scipy, whose stopping rule is absolute for values below 1.
    """
    scale = 1.0 / data.delta

    def fun(t: np.ndarray) -> tuple[float, np.ndarray]:
        f, g = data.evaluate(t[None, :])
        return float(f[0] * scale), g[0] * scale

    # Exponents are bounded below by 0 here (the batched search only penalises negative ones).
    bounds = [(None, None)] * 3 + [(0.0, None)] * 2 if theta.size == len(THETA) else None
    start = np.array(theta, dtype=float)
    if bounds:
        start[3:5] = np.maximum(start[3:5], 0.0)
    theta = start
    f0 = float(data.evaluate(theta[None, :])[0][0])
    res = minimize(
        fun,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 20000, "ftol": 1e-15, "gtol": 1e-10},
    )
    if np.isfinite(res.fun) and res.fun / scale < f0:
        return np.asarray(res.x, dtype=float), float(res.fun / scale)
    return np.asarray(theta, dtype=float), f0


@dataclass(frozen=True)
class FitResult:
    """Best law from a grid of starts, with what is needed to judge the search."""

    law: Law
    objective: float
    n_runs: int
    n_inits: int
    n_converged: int
    optima: np.ndarray  # distinct end points, best first: warm starts for bootstrap resamples


def fit(data: RunData, *, grid: np.ndarray | None = None, n_optima: int = 8) -> FitResult:
    """Approach-3 fit from every start of ``grid`` (default: the full 4500-point grid)."""
    starts = init_grid() if grid is None else np.atleast_2d(np.asarray(grid, dtype=float))
    res = minimize_batched(lambda x, rows: data.evaluate(x), starts)
    optima = distinct_optima(res.x, res.f, data, n_optima)
    if optima.size == 0:
        raise ValueError("fit: no start reached a finite objective; check the runs for bad values")
    best, f_best = polish(optima[0], data)
    optima[0] = best
    return FitResult(
        law=Law.from_theta(best),
        objective=f_best,
        n_runs=len(data),
        n_inits=len(starts),
        n_converged=int(res.converged.sum()),
        optima=optima,
    )
