"""The repetition law of Goyal et al. (2024), in the paper's form.

One pool of ``S`` unique samples, seen ``n`` times in total, so ``k = ceil(n / S)`` passes. The
loss above its floor ``d`` follows ``dy/dn = b_k (y - d) / n`` inside pass ``k``, with the utility
exponent decaying by a factor ``delta = 0.5 ** (1 / tau)`` per repetition: ``b_k = b delta^(k-1)``.
Integrating pass by pass gives the paper's law

    y(n) = a * n_1^(b_1) * prod_{j=2..k} (n_j / n_{j-1})^(b_j) + d,    n_j = min(j S, n).

Taking ``n_j = min(j S, n)`` is how a fractional last pass is handled: the last factor runs from
the start of the pass to ``n`` with that pass's exponent, which is the exact solution of the
per-pass equation above, so the curve is continuous in ``n`` and agrees with the closed form at
every whole pass. (The authors' code does the same for the last pass but multiplies ``d`` into the
product and raises ``a n`` rather than ``n`` to the power; see docs/qqt.md.)

Everything is computed in log space as ``log(y - d) = log a + L @ beta`` where ``L[i, j]`` is the
log growth of samples seen during pass ``j + 1`` for point ``i`` and ``beta`` the per-pass
exponents, so fitting and mixing share one fast matrix product.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

HALF = 0.5


class LawDomainError(ValueError):
    """A parameter or an input of the law lies outside its domain."""


def decay(tau: float | np.ndarray) -> float | np.ndarray:
    """Per-repetition decay of the utility exponent; ``tau`` passes halve it."""
    return HALF ** (1.0 / np.asarray(tau, dtype=float))


def pass_exponents(b: float, tau: float, passes: int) -> np.ndarray:
    """``b_k = b * delta^(k-1)`` for ``k = 1..passes``: what a sample is worth on its k-th visit."""
    return b * decay(tau) ** np.arange(passes)


def check_samples(samples_seen: np.ndarray | float, pool_size: np.ndarray | float) -> tuple:
    """Return ``(n, S)`` as float arrays broadcast together, refusing what the law cannot take."""
    n = np.atleast_1d(np.asarray(samples_seen, dtype=float))
    size = np.atleast_1d(np.asarray(pool_size, dtype=float))
    if not np.all(np.isfinite(n)) or np.any(n <= 0):
        raise LawDomainError(f"samples_seen must be finite and > 0, got {n[~(n > 0)][:3]}")
    if not np.all(np.isfinite(size)) or np.any(size <= 0):
        raise LawDomainError(f"pool_size must be finite and > 0, got {size[~(size > 0)][:3]}")
    return np.broadcast_arrays(n, size)


def n_passes(samples_seen: np.ndarray | float, pool_size: np.ndarray | float) -> np.ndarray:
    """Number of passes begun: ``ceil(n / S)``, so n = S is one pass and n = S + 1 two."""
    n, size = check_samples(samples_seen, pool_size)
    return np.maximum(np.ceil(n / size - 1e-12), 1).astype(int)


def log_increments(samples_seen: np.ndarray | float, pool_size: np.ndarray | float) -> np.ndarray:
    """Matrix ``L`` with ``L[i, 0] = log n_1`` and ``L[i, j] = log(n_{j+1} / n_j)``.

    Passes a point has not reached contribute zero, so one matrix serves points with different
    numbers of passes.
    """
    n, size = check_samples(samples_seen, pool_size)
    width = int(n_passes(n, size).max())
    ends = np.minimum(size[:, None] * np.arange(1, width + 1)[None, :], n[:, None])
    starts = size[:, None] * np.arange(0, width)[None, :]
    out = np.empty_like(ends)
    out[:, 0] = np.log(ends[:, 0])
    out[:, 1:] = np.log(np.maximum(ends[:, 1:], starts[:, 1:]) / starts[:, 1:])
    return out


@dataclass(frozen=True)
class PoolParams:
    """Fitted law of one pool: ``y = a n^b + d`` in its first pass, half-life ``tau`` in passes.

    ``a`` is in the paper's units (samples seen, not normalised). ``pool_size`` and ``fraction``
    (share of the unfiltered pool) are optional facts about the pool, ``control`` marks a
    reference bucket (e.g. a random sample) that top-k mixtures leave out.
    """

    a: float
    b: float
    d: float
    tau: float
    name: str = ""
    pool_size: float | None = None
    fraction: float | None = None
    control: bool = False

    def __post_init__(self) -> None:
        label = f"pool {self.name!r}: " if self.name else ""
        values = {"a": self.a, "b": self.b, "d": self.d, "tau": self.tau}
        for key, value in values.items():
            if not np.isfinite(value):
                raise LawDomainError(f"{label}{key} must be finite, got {value}")
        if self.a <= 0:
            raise LawDomainError(f"{label}a must be > 0, got {self.a}")
        if self.b >= 0:
            raise LawDomainError(
                f"{label}utility b must be < 0 (loss falls with data), got {self.b}"
            )
        if self.d < 0:
            raise LawDomainError(f"{label}d (irreducible loss) must be >= 0, got {self.d}")
        if self.tau <= 0:
            raise LawDomainError(f"{label}half-life tau must be > 0 passes, got {self.tau}")
        if self.pool_size is not None and not (np.isfinite(self.pool_size) and self.pool_size > 0):
            raise LawDomainError(f"{label}pool_size must be > 0, got {self.pool_size}")
        if self.fraction is not None and not 0 < self.fraction <= 1:
            raise LawDomainError(f"{label}fraction must lie in (0, 1], got {self.fraction}")

    @property
    def delta(self) -> float:
        return float(decay(self.tau))

    def exponents(self, passes: int) -> np.ndarray:
        return pass_exponents(self.b, self.tau, passes)

    def loss(self, samples_seen: np.ndarray | float, pool_size: float | None = None) -> np.ndarray:
        size = self.pool_size if pool_size is None else pool_size
        if size is None:
            raise LawDomainError(f"pool {self.name!r}: pool_size is needed to predict repetition")
        return loss_from_exponents(samples_seen, size, self.a, self.d, self.exponents)


def loss_from_exponents(
    samples_seen: np.ndarray | float,
    pool_size: np.ndarray | float,
    a: float,
    d: float,
    exponents: Callable[[int], np.ndarray],
) -> np.ndarray:
    """The law for any per-pass exponent sequence (a pool's ``b delta^(k-1)`` or a mixture's)."""
    n, size = check_samples(samples_seen, pool_size)
    passes = n_passes(n, size)
    beta = np.asarray(exponents(int(passes.max())), dtype=float)
    return a * np.exp(log_growth(n, size, passes, beta)) + d


def log_growth(n: np.ndarray, size: np.ndarray, passes: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """``log((y - d) / a)``, i.e. ``log_increments(n, size) @ beta`` in O(points + passes).

    Whole passes ``j >= 2`` contribute ``b_j log(j / (j - 1))``, which does not depend on the
    pool size, so one cumulative sum serves every point; only the pass in progress is partial.
    """
    j = np.arange(2, len(beta) + 1)
    whole = np.concatenate([[0.0, 0.0], np.cumsum(beta[1:] * np.log(j / (j - 1)))])
    first = beta[0] * np.log(np.minimum(n, size))
    done = np.maximum(passes - 1, 1)
    last = np.where(passes >= 2, beta[passes - 1] * np.log(n / (done * size)), 0.0)
    return first + whole[done] + last


def loss(
    samples_seen: np.ndarray | float,
    pool_size: np.ndarray | float,
    a: float,
    b: float,
    d: float,
    tau: float,
) -> np.ndarray:
    """Loss after ``samples_seen`` samples drawn pass by pass from a pool of ``pool_size``."""
    params = PoolParams(a, b, d, tau)
    return loss_from_exponents(samples_seen, pool_size, a, d, params.exponents)


def utility(
    samples_seen: np.ndarray | float,
    pool_size: np.ndarray | float,
    a: float,
    b: float,
    d: float,
    tau: float,
) -> np.ndarray:
    """Instantaneous utility ``dy/dn = b_k (y - d) / n`` of the next sample (pass ``k``).

    The paper writes ``b y / n`` for a loss without floor; with the floor ``d`` added afterwards
    only the reducible part shrinks. At a pass boundary the next sample is a repeat, so ``k``
    counts the pass it opens.
    """
    n, size = check_samples(samples_seen, pool_size)
    k = np.floor(n / size + 1e-12).astype(int) + 1
    b_k = b * decay(tau) ** (k - 1)
    return b_k * (loss(n, size, a, b, d, tau) - d) / n
