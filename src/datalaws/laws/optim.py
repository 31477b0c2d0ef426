"""Batched L-BFGS: thousands of small, independent minimisations advanced in lock-step.

A Chinchilla fit is a 5-parameter problem started from a grid of thousands of points, and its
bootstrap repeats that for every resample. Calling ``scipy.optimize.minimize`` once per start costs
milliseconds of Python overhead each; here every problem is one row of an array, the objective is
evaluated for all rows in one vectorised call, and each row keeps its own L-BFGS memory, step and
convergence state. Rows drop out of the active set as they converge, so slow starts do not make the
fast ones pay.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# fun(x, rows) -> (f, g): the objective and gradient for problems ``rows`` at points ``x``
# (x has shape (len(rows), P); f has shape (len(rows),); g has x's shape).
BatchedObjective = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class BatchResult:
    """Final point, value and status of every problem in the batch."""

    x: np.ndarray
    f: np.ndarray
    converged: np.ndarray
    n_iter: np.ndarray


def _direction(g: np.ndarray, s: np.ndarray, y: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Two-loop recursion, newest pair first; empty slots have rho = 0 and act as no-ops."""
    q = g.copy()
    m = s.shape[1]
    alphas = np.empty((g.shape[0], m))
    for i in range(m):
        alphas[:, i] = rho[:, i] * np.einsum("kp,kp->k", s[:, i], q)
        q -= alphas[:, i, None] * y[:, i]
    yy = np.einsum("kp,kp->k", y[:, 0], y[:, 0])
    sy = np.einsum("kp,kp->k", s[:, 0], y[:, 0])
    have = rho[:, 0] > 0
    gnorm = np.linalg.norm(g, axis=1)
    # Without curvature information the first step is capped at unit length, as scipy does.
    gamma = np.where(have, sy / np.where(have, yy, 1.0), 1.0 / np.maximum(gnorm, 1.0))
    r = gamma[:, None] * q
    for i in reversed(range(m)):
        beta = rho[:, i] * np.einsum("kp,kp->k", y[:, i], r)
        r += s[:, i] * (alphas[:, i] - beta)[:, None]
    return -r


def _line_search(
    fun: BatchedObjective,
    x: np.ndarray,
    f: np.ndarray,
    rows: np.ndarray,
    d: np.ndarray,
    slope: np.ndarray,
    max_steps: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weak Wolfe line search by bracketing (Lewis & Overton), one bracket per row.

    A step that decreases f enough (Armijo, c1 = 1e-4) but along which f still falls steeply
    (curvature, c2 = 0.9) is doubled; one that fails Armijo is bisected towards the last good one.
    Unlike plain backtracking this can take long steps, which L-BFGS needs to escape flat stretches
    of the objective, and it keeps s.y > 0 so the memory stays positive definite. Returns the step
    (NaN where no Armijo step was found), the new values and gradients.
    """
    n = rows.size
    lo = np.zeros(n)
    hi = np.full(n, np.inf)
    t = np.ones(n)
    best_t = np.full(n, np.nan)
    best_f = np.full(n, np.nan)
    best_g = np.zeros_like(d)
    pending = np.arange(n)
    for _ in range(max_steps):
        ft, gt = fun(x[rows[pending]] + t[pending, None] * d[pending], rows[pending])
        armijo = np.isfinite(ft) & (ft <= f[rows[pending]] + 1e-4 * t[pending] * slope[pending])
        steep = np.einsum("kp,kp->k", gt, d[pending]) < 0.9 * slope[pending]
        ok = pending[armijo]
        best_t[ok], best_f[ok], best_g[ok] = t[ok], ft[armijo], gt[armijo]
        fail = pending[~armijo]
        hi[fail] = t[fail]
        grow = pending[armijo & steep]
        lo[grow] = t[grow]
        pending = pending[~armijo | steep]
        if pending.size == 0:
            break
        t[pending] = np.where(
            np.isfinite(hi[pending]), 0.5 * (lo[pending] + hi[pending]), 2.0 * lo[pending]
        )
    return best_t, best_f, best_g


def minimize_batched(
    fun: BatchedObjective,
    x0: np.ndarray,
    *,
    memory: int = 10,
    max_iter: int = 1000,
    ftol: float = 1e-12,
    gtol: float = 1e-10,
    max_line_steps: int = 40,
) -> BatchResult:
    """Minimise K independent problems from the rows of ``x0`` (shape (K, P)).

    A row stops when its relative decrease falls below ``ftol``, its largest gradient component
    below ``gtol``, or its line search finds no decrease (a stall, which on the nearly
    piecewise-linear Huber objective is how a minimum at a kink shows itself). Every accepted step
    is a strict decrease, so the result is never worse than the start.
    """
    x = np.array(x0, dtype=float)
    k, p = x.shape
    f, g = fun(x, np.arange(k))
    s_mem = np.zeros((k, memory, p))
    y_mem = np.zeros((k, memory, p))
    rho = np.zeros((k, memory))
    n_iter = np.zeros(k, dtype=int)
    converged = np.zeros(k, dtype=bool)
    active = np.isfinite(f) & np.all(np.isfinite(g), axis=1)
    for _ in range(max_iter):
        rows = np.flatnonzero(active)
        if rows.size == 0:
            break
        n_iter[rows] += 1
        g_r = g[rows]
        d = _direction(g_r, s_mem[rows], y_mem[rows], rho[rows])
        slope = np.einsum("kp,kp->k", g_r, d)
        uphill = ~(slope < 0)
        if uphill.any():  # memory went bad: restart those rows from steepest descent
            rho[rows[uphill]] = 0.0
            gn = np.maximum(np.linalg.norm(g_r[uphill], axis=1), 1.0)
            d[uphill] = -g_r[uphill] / gn[:, None]
            slope[uphill] = np.einsum("kp,kp->k", g_r[uphill], d[uphill])
        step, f_new, g_new = _line_search(fun, x, f, rows, d, slope, max_line_steps)
        moved = np.isfinite(step)
        stalled = rows[~moved]
        active[stalled] = False
        converged[stalled] = True
        rows, d, step = rows[moved], d[moved], step[moved]
        f_new, g_new, g_old = f_new[moved], g_new[moved], g_r[moved]
        s = step[:, None] * d
        y = g_new - g_old
        sy = np.einsum("kp,kp->k", s, y)
        good = sy > 1e-12 * np.linalg.norm(s, axis=1) * np.linalg.norm(y, axis=1)
        upd = rows[good]
        s_mem[upd] = np.roll(s_mem[upd], 1, axis=1)
        y_mem[upd] = np.roll(y_mem[upd], 1, axis=1)
        rho[upd] = np.roll(rho[upd], 1, axis=1)
        s_mem[upd, 0] = s[good]
        y_mem[upd, 0] = y[good]
        rho[upd, 0] = 1.0 / sy[good]
        f_old = f[rows]
        x[rows] += s
        f[rows] = f_new
        g[rows] = g_new
        small_drop = (f_old - f_new) <= ftol * np.maximum(np.abs(f_old), np.finfo(float).tiny)
        flat = np.max(np.abs(g_new), axis=1) <= gtol
        done = rows[small_drop | flat]
        active[done] = False
        converged[done] = True
    return BatchResult(x=x, f=f, converged=converged, n_iter=n_iter)
