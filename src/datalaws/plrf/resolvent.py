"""The W-free deterministic equivalent of the spectral data of K = W^T D W.

K = (1/d) sum_j sigma_j g_j g_j^T with g_j ~ N(0, I_d) and sigma_j = j^(-2 alpha) is a weighted
sample-covariance matrix, so its resolvent has a deterministic equivalent in one scalar. Put
m(z) = z w(z); then w solves

    z w + (1/d) sum_j sigma_j w / (sigma_j w - 1) = 1                                     (1)

and S_mu(z) = tr (K - z)^-1 = -d w(z). For the target, b^T D W (K - z)^-1 W^T D b is equivalent to
g(z) = sum_j b_j^2 sigma_j^2 w / (sigma_j w - 1), so S_nu(z) = (g(z) - g(0)) / z. At z = 0, (1)
becomes sum_j sigma_j tau / (1 + sigma_j tau) = d with w(0) = -tau (the effective-dimension
equation of ridgeless regression) and P* = sum_j sigma_j b_j^2 / (1 + sigma_j tau).

Subtracting (1) at z = 0 from (1) at z gives, with Q(w) = (1/d) sum_j sigma_j /
((sigma_j w - 1)(sigma_j w0 - 1)),

    z w = (w - w0) Q(w),
    S_nu(z) = -(w / Q(w)) sum_j b_j^2 sigma_j^2 / ((sigma_j w - 1)(sigma_j w0 - 1)),

which is what is solved (Newton in w) and evaluated: no difference of nearly equal numbers, even
for |z| far below the smallest eigenvalue, where the late-time loss lives. The correct root is
the Stieltjes branch (Im S_mu and Im S_nu have the sign of Im z); it is reached by the
fixed-point iteration m <- 1 / (1 + (1/d) sum_j sigma_j / (sigma_j m - z)) and then followed by
continuation along each column of the z array.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq, minimize_scalar

from datalaws.plrf.model import PLRF
from datalaws.plrf.quadrature import index_quadrature

NEWTON_ITERS = 60
NEWTON_TOL = 1e-12
FIXED_POINT_ITERS = 3000


class ResolventError(RuntimeError):
    """The fixed-point equation of the deterministic equivalent did not converge."""


class AsymptoticSpectrum:
    """Deterministic equivalent of the spectral data, averaged over W, at (alpha, beta, v, d)."""

    def __init__(self, problem: PLRF) -> None:
        self.problem = problem
        self.d = problem.d
        j, q = index_quadrature(problem.v)
        self._q = q
        self._sig = j ** (-2.0 * problem.alpha)
        self._b2sig2 = j ** (-2.0 * float(problem.beta)) * self._sig**2
        self.trace = float(np.sum(q * self._sig))
        self.trace_d = self.trace
        b2sig = j ** (-2.0 * float(problem.beta)) * self._sig
        self.p0 = float(np.sum(q * b2sig))
        tau = self._tau()
        self._w0 = -tau
        self._a0 = -(self._sig * tau + 1.0)
        self.pstar = float(np.sum(q * b2sig / (self._sig * tau + 1.0)))
        self._edge: tuple[float, float] | None = None

    def _tau(self) -> float:
        def excess(tau: float) -> float:
            return float(np.sum(self._q * self._sig * tau / (1.0 + self._sig * tau))) - self.d

        hi = 1.0
        while excess(hi) < 0:
            hi *= 4.0
        return brentq(excess, 0.0, hi, xtol=1e-300, rtol=1e-15)

    def _q_terms(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a = self._sig * w[..., None] - 1.0
        t = self._q * self._sig / (a * self._a0)
        return a, t.sum(axis=-1) / self.d, -(t * self._sig / a).sum(axis=-1) / self.d

    def _newton(self, z: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ok = np.zeros(z.shape, dtype=bool)
        for _ in range(NEWTON_ITERS):
            _, q, dq = self._q_terms(w)
            delta = w - self._w0
            step = (z * w - delta * q) / (z - q - delta * dq)
            w = w - step
            ok = np.abs(step) <= NEWTON_TOL * np.abs(w)
            if ok.all():
                break
        return w, ok & np.isfinite(w)

    def _fixed_point(self, z: np.ndarray) -> np.ndarray:
        m = np.ones_like(z)
        weights = self._q * self._sig / self.d
        for _ in range(FIXED_POINT_ITERS):
            new = 1.0 / (1.0 + (weights / (self._sig * m[..., None] - z[..., None])).sum(axis=-1))
            if np.all(np.abs(new - m) <= 1e-10 * np.abs(new)):
                return new / z
            m = new
        return m / z

    def _solve_row(self, z: np.ndarray, guess: np.ndarray | None) -> np.ndarray:
        if guess is None:
            w, ok = self._newton(z, self._fixed_point(z))
        else:
            w, ok = self._newton(z, guess)
            w = np.where(ok & self._herglotz(z, w), w, np.nan)
        bad = ~(np.isfinite(w) & self._herglotz(z, w))
        if bad.any():
            w_bad, ok_bad = self._newton(z[bad], self._fixed_point(z[bad]))
            w[bad] = np.where(ok_bad, w_bad, np.nan)
        bad = ~(np.isfinite(w) & self._herglotz(z, w))
        if bad.any():
            raise ResolventError(
                f"deterministic equivalent did not converge at z = {z[bad][:3]} "
                f"(alpha={self.problem.alpha}, beta={self.problem.beta}, d={self.d})"
            )
        return w

    def _herglotz(self, z: np.ndarray, w: np.ndarray) -> np.ndarray:
        # Im S_mu = -d Im w must have the sign of Im z (up to rounding on the real axis).
        return np.imag(z) * np.imag(w) <= 1e-9 * np.abs(z * w) * np.abs(np.imag(z))

    def solve(self, z: np.ndarray) -> np.ndarray:
        """w(z) for a 2-d array of z, continuing down the rows (neighbouring rows must be close)."""
        z = np.atleast_2d(np.asarray(z, dtype=np.complex128))
        out = np.empty_like(z)
        guess = None
        for i, row in enumerate(z):
            guess = out[i] = self._solve_row(row, guess)
        return out

    def resolvent(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """S_mu(z), S_nu(z) for a 2-d z array ordered for continuation (see ``solve``)."""
        z = np.asarray(z, dtype=np.complex128)
        w = self.solve(z).reshape(z.shape)
        a, q, _ = self._q_terms(w)
        s_nu = -(w / q) * (self._q * self._b2sig2 / (a * self._a0)).sum(axis=-1)
        return -self.d * w, s_nu

    def _edge_data(self) -> tuple[float, float]:
        """Top edge of the support and the w where it sits: the minimum over w in (0, 1/sigma_1)
        of z(w) = (1 - h(w)) / w, the real inverse of (1) above the spectrum."""
        if self._edge is None:
            wmax = 1.0 / self._sig[0]
            res = minimize_scalar(
                lambda u: self._z_of_w(wmax * u),
                bounds=(1e-12, 1 - 1e-12),
                method="bounded",
                options={"xatol": 1e-13},
            )
            self._edge = (float(res.fun), float(wmax * res.x))
        return self._edge

    def _z_of_w(self, w: float) -> float:
        h = np.sum(self._q * self._sig * w / (self._sig * w - 1.0)) / self.d
        return float((1.0 - h) / w)

    @property
    def edge(self) -> float:
        """Top edge of the deterministic-equivalent spectrum of K."""
        return self._edge_data()[0]

    def stieltjes_real(self, x: float) -> float:
        """S_mu at a real point above the spectrum (on the branch that vanishes at infinity)."""
        edge, w_edge = self._edge_data()
        if x <= edge:
            raise ValueError(f"x = {x} is not above the spectrum edge {edge}")
        w = brentq(lambda u: self._z_of_w(u) - x, 1e-300, w_edge, xtol=1e-300, rtol=1e-14)
        return -self.d * w
