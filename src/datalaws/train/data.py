"""Which documents each optimizer step trains on, and each rank's share of them.

The order is a pure function of (seed, step): pass p over the pool visits the pool's documents in
the permutation seeded by (seed, p). A resumed run therefore sees exactly the batches it would have
seen, a second pass (training with repetition) gets a fresh order, and nothing about the order
depends on the number of ranks.
"""

from __future__ import annotations

import numpy as np
import torch

from datalaws.corpus import TokenShards

_ORDER_STREAM = 0x0D0C


class DocumentOrder:
    """Global document indices of every step: ``n_seen`` draws from a pool of ``n_pool`` docs.

    The pool is the first ``n_pool`` documents of the corpus in file order, so a smaller budget's
    documents are a subset of a larger one's.
    """

    def __init__(self, n_pool: int, n_seen: int, batch_size: int, seed: int) -> None:
        if n_pool < 1 or n_seen < 1 or batch_size < 1:
            raise ValueError(
                f"need n_pool, n_seen and batch_size >= 1, got {n_pool}, {n_seen}, {batch_size}"
            )
        self.n_pool, self.n_seen, self.batch_size, self.seed = n_pool, n_seen, batch_size, seed
        self.steps = -(-n_seen // batch_size)
        self._pass, self._perm = -1, np.empty(0, dtype=np.int64)

    def permutation(self, pass_index: int) -> np.ndarray:
        if pass_index != self._pass:
            rng = np.random.default_rng([self.seed, _ORDER_STREAM, pass_index])
            self._pass, self._perm = pass_index, rng.permutation(self.n_pool)
        return self._perm

    def batch(self, step: int) -> np.ndarray:
        """The documents of one global batch (the last batch may be smaller)."""
        if not 0 <= step < self.steps:
            raise IndexError(f"step {step} outside [0, {self.steps})")
        draws = np.arange(step * self.batch_size, min((step + 1) * self.batch_size, self.n_seen))
        passes, positions = np.divmod(draws, self.n_pool)
        out = np.empty(len(draws), dtype=np.int64)
        for p in np.unique(passes):
            mask = passes == p
            out[mask] = self.permutation(int(p))[positions[mask]]
        return out


def rank_share(rows: np.ndarray, rank: int, world: int) -> tuple[np.ndarray, np.ndarray]:
    """This rank's contiguous slice of a global batch, padded to the same length on every rank.

    Returns (rows, weights): padding repeats the batch's first row with weight 0. Equal lengths
    keep FSDP's collectives in step on every rank even when the batch does not divide evenly, and
    the weights keep padding out of the loss, so the global loss equals a single-process one.
    """
    per_rank = -(-len(rows) // world)
    mine = rows[rank * per_rank : (rank + 1) * per_rank]
    pad = per_rank - len(mine)
    weights = np.concatenate([np.ones(len(mine)), np.zeros(pad)]).astype(np.float32)
    return np.concatenate([mine, np.repeat(rows[:1], pad)]), weights


class Batches:
    """Token tensors for one rank: step -> (tokens (m, context) int64, row weights (m,) float32)."""

    def __init__(self, shards: TokenShards, order: DocumentOrder, rank: int, world: int) -> None:
        self.shards, self.order, self.rank, self.world = shards, order, rank, world

    def __call__(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        rows, weights = rank_share(self.order.batch(step), self.rank, self.world)
        return torch.from_numpy(self.shards.read(rows)), torch.from_numpy(weights)


def eval_batches(
    n_sequences: int, batch_size: int, rank: int, world: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The first ``n_sequences`` validation rows in fixed batches, each split across ranks."""
    return [
        rank_share(np.arange(start, min(start + batch_size, n_sequences)), rank, world)
        for start in range(0, n_sequences, batch_size)
    ]
