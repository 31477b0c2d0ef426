"""Spectral data of K = W^T D W that determine the expected SGD loss, for one draw of W.

Write theta* for the population minimiser, eps = theta - theta* and K = sum_i lambda_i q_i q_i^T.
For Gaussian x, Isserlis' theorem closes the second moment of one SGD step (batch B, step gamma):

    E[eps' eps'^T] = (I - gamma B K) S (I - gamma B K) + gamma^2 B (K S K + P K),

with S = E[eps eps^T],

and the diagonal s_i = q_i^T S q_i closes on itself:

    s_i' = rho_i s_i + gamma^2 B lambda_i P,
    rho_i = 1 - 2 gamma B lambda_i + gamma^2 B (B+1) lambda_i^2,
    P = P* + sum_i lambda_i s_i.

So the expected loss depends on W only through the eigenvalues lambda_i, the weights
nu_i = lambda_i s_i(0) = (q_i^T W^T D b)^2 / lambda_i (theta starts at 0) and P*. A spectrum object
exposes them through Stieltjes transforms, S_mu(z) = sum_i 1/(lambda_i - z) and
S_nu(z) = sum_i nu_i/(lambda_i - z), which is all the Volterra solver needs; the W-free
deterministic equivalent (``resolvent.AsymptoticSpectrum``) offers the same interface.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from datalaws.plrf.model import PLRF, feature_blocks


@dataclass(frozen=True)
class ExactSpectrum:
    """Eigen-data of K for one W: exact expected-loss dynamics for that W."""

    eigenvalues: np.ndarray
    weights: np.ndarray
    pstar: float
    p0: float
    trace_d: float

    @property
    def d(self) -> int:
        return int(self.eigenvalues.size)

    @property
    def trace(self) -> float:
        return float(self.eigenvalues.sum())

    @property
    def edge(self) -> float:
        """Largest eigenvalue of K."""
        return float(self.eigenvalues[-1])

    @classmethod
    def from_seed(cls, problem: PLRF, seed: int) -> ExactSpectrum:
        """Diagonalise K for the W drawn from ``seed``, streaming W so memory stays O(d^2)."""
        sig, b = problem.covariance(), problem.target()
        gram = np.zeros((problem.d, problem.d))
        proj = np.zeros(problem.d)
        start = 0
        for block in feature_blocks(problem.v, problem.d, seed):
            rows = slice(start, start + block.shape[0])
            gram += block.T @ (sig[rows, None] * block)
            proj += block.T @ (sig[rows] * b[rows])
            start = rows.stop
        lam, vecs = np.linalg.eigh(gram)
        if lam[0] <= 0:
            raise np.linalg.LinAlgError(f"K is singular (smallest eigenvalue {lam[0]:.3e})")
        coef = vecs.T @ proj
        theta_star = vecs @ (coef / lam)
        # P* from the residual W theta* - b directly, which keeps its relative accuracy when
        # P* is tiny (b^T D b - proj^T K^-1 proj would cancel).
        pstar, start = 0.0, 0
        for block in feature_blocks(problem.v, problem.d, seed):
            rows = slice(start, start + block.shape[0])
            resid = block @ theta_star - b[rows]
            pstar += float(np.sum(sig[rows] * resid * resid))
            start = rows.stop
        return cls(lam, coef**2 / lam, pstar, float(np.sum(sig * b * b)), float(sig.sum()))

    def resolvent(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """S_mu(z) and S_nu(z) for any array of complex z off the spectrum."""
        z = np.asarray(z, dtype=np.complex128)
        inv = 1.0 / (self.eigenvalues - z.reshape(-1, 1))
        return inv.sum(axis=1).reshape(z.shape), (inv @ self.weights).reshape(z.shape)

    def stieltjes_real(self, x: float) -> float:
        """S_mu at a real point above the spectrum."""
        return float(np.sum(1.0 / (self.eigenvalues - x)))
