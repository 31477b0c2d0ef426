"""Predict a mixture of pools from the pools' own laws (Goyal et al. 2024, Theorem 1).

Sampling uniformly from ``p`` equal pools, pool ``i`` recurs ``p`` times less often, so its
half-life in passes over the mixture is ``tau_hat_i = p tau_i``, and a pass over the mixture is
worth the average of the members' utilities: ``b_eff(k) = (1/p) sum_i b_i delta_hat_i^(k-1)``.
``b_eff`` replaces ``b delta^(k-1)`` in the repetition law, with passes of the mixture's size.

Pools of unequal size break the theorem's symmetry. With ``weight_by_size`` each pool enters
with its share ``w_i = S_i / sum S`` of the samples: ``tau_hat_i = tau_i / w_i`` and
``b_eff(k) = sum_i w_i b_i delta_hat_i^(k-1)``, which is the theorem when the shares are equal.
Without it unequal pools are refused.

The theorem is stated for pools that share ``a`` and ``d`` (the authors fit them jointly). For
pools fitted separately the mixture uses the share-weighted geometric mean of ``a`` (the log
reducible loss at the start of training is the mean of the members') and the weighted mean of
``d``; both reduce to the shared values when the pools agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from datalaws.qqt.law import LawDomainError, PoolParams, decay, loss_from_exponents


class MixtureError(ValueError):
    """A mixture the theorem cannot predict (no pools, missing or unequal pool sizes)."""


@dataclass(frozen=True)
class Mixture:
    """A uniform mixture of pools, predicted by the theorem without training on it."""

    name: str
    pools: tuple[PoolParams, ...]
    sizes: tuple[float, ...]

    @property
    def pool_size(self) -> float:
        return float(sum(self.sizes))

    @property
    def weights(self) -> np.ndarray:
        sizes = np.asarray(self.sizes, dtype=float)
        return sizes / sizes.sum()

    @property
    def taus(self) -> np.ndarray:
        """Half-lives in passes over the mixture: ``tau_i / w_i`` (``p tau_i`` if equal)."""
        return np.array([pool.tau for pool in self.pools]) / self.weights

    @property
    def a(self) -> float:
        return float(np.exp(self.weights @ np.log([pool.a for pool in self.pools])))

    @property
    def d(self) -> float:
        return float(self.weights @ np.array([pool.d for pool in self.pools]))

    @property
    def fraction(self) -> float | None:
        fractions = [pool.fraction for pool in self.pools]
        return None if None in fractions else float(sum(fractions))

    def exponents(self, passes: int) -> np.ndarray:
        """``b_eff(k)`` for ``k = 1..passes``."""
        b = np.array([pool.b for pool in self.pools])
        deltas = decay(self.taus)
        return (self.weights * b) @ (deltas[:, None] ** np.arange(passes)[None, :])

    def loss(self, samples_seen: np.ndarray | float) -> np.ndarray:
        return loss_from_exponents(samples_seen, self.pool_size, self.a, self.d, self.exponents)


def mix(
    pools: Sequence[PoolParams],
    pool_size: float | None = None,
    *,
    name: str | None = None,
    weight_by_size: bool = False,
) -> Mixture:
    """Mix ``pools``; ``pool_size`` overrides every member's own size (equal pools)."""
    if not pools:
        raise MixtureError("a mixture needs at least one pool")
    if pool_size is not None and not (np.isfinite(pool_size) and pool_size > 0):
        raise LawDomainError(f"pool_size must be > 0, got {pool_size}")
    sizes = [pool.pool_size if pool_size is None else float(pool_size) for pool in pools]
    missing = [pool.name for pool, size in zip(pools, sizes, strict=True) if size is None]
    if missing:
        raise MixtureError(f"pool_size unknown for {missing}: give --pool-size or pool_size")
    if not weight_by_size and not np.allclose(sizes, sizes[0], rtol=1e-9):
        raise MixtureError(
            f"pools of unequal size {dict(zip([p.name for p in pools], sizes, strict=True))}: "
            "the theorem assumes equal pools; weight_by_size (--weight-by-size) weights by size"
        )
    label = name or "+".join(pool.name or "?" for pool in pools)
    return Mixture(label, tuple(pools), tuple(float(s) for s in sizes))


def ranked(pools: Sequence[PoolParams]) -> list[PoolParams]:
    """Pools that take part in top-k mixtures, in the given (quality) order, controls left out."""
    return [pool for pool in pools if not pool.control]


def parse_mix(spec: str, pools: Sequence[PoolParams]) -> list[PoolParams]:
    """``topK`` (the first K ranked pools) or names joined by ``+``."""
    spec = spec.strip()
    ordered = ranked(pools)
    if spec.lower().startswith("top") and spec[3:].isdigit():
        k = int(spec[3:])
        if not 1 <= k <= len(ordered):
            raise MixtureError(f"mixture {spec!r}: k must lie in 1..{len(ordered)}")
        return ordered[:k]
    by_name = {pool.name: pool for pool in pools}
    names = [part.strip() for part in spec.split("+")]
    unknown = [part for part in names if part not in by_name]
    if unknown:
        raise MixtureError(f"mixture {spec!r}: unknown pools {unknown}; known {list(by_name)}")
    if len(set(names)) != len(names):
        raise MixtureError(f"mixture {spec!r} names a pool twice")
    return [by_name[part] for part in names]


def mixtures(
    specs: Sequence[str] | None,
    pools: Sequence[PoolParams],
    pool_size: float | None = None,
    *,
    weight_by_size: bool = False,
) -> list[Mixture]:
    """The mixtures named by ``specs``; all top-k (k = 1..K) when ``specs`` is None."""
    if specs is None:
        specs = [f"top{k}" for k in range(1, len(ranked(pools)) + 1)]
    if not specs:
        raise MixtureError("no mixtures requested")
    return [
        mix(parse_mix(spec, pools), pool_size, name=spec.strip(), weight_by_size=weight_by_size)
        for spec in specs
    ]
