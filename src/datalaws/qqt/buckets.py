"""Quality buckets by score percentile, a random control, and the top-k mixtures, as token files.

Bucket ``j`` holds the documents ranked ``[j S, (j + 1) S)`` by score (best first, ties broken by
document index), ``S = round(fraction * pool)``: equal sizes, disjoint by construction. The
random control draws ``S`` documents uniformly from the whole pool. Mixture ``topK`` is the union
of the first ``K`` buckets. Every file lists its documents in a seeded random order, because a
run whose budget is below one pass trains on the file's first documents
(``datalaws.train``): in shuffled order those are a uniform sample of the pool, also for a
mixture, whose first documents would otherwise all come from its best bucket.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from datalaws.corpus import TokenShards, write_tokens

CONTROL = "random"


class BucketError(ValueError):
    """Buckets that cannot be cut from this pool."""


def bucket_name(index: int, fraction: float) -> str:
    """``top00-10`` for the best decile, ``top10-20`` for the next, ... (percent of the pool)."""
    low, high = round(100 * index * fraction), round(100 * (index + 1) * fraction)
    return f"top{low:02d}-{high:02d}"


def bucket_size(n_documents: int, fraction: float) -> int:
    if not 0 < fraction <= 1:
        raise BucketError(f"fraction must lie in (0, 1], got {fraction}")
    size = round(fraction * n_documents)
    if size < 1:
        raise BucketError(f"a {fraction:g} bucket of {n_documents} documents would be empty")
    return size


def percentile_buckets(scores: np.ndarray, fraction: float, count: int) -> list[np.ndarray]:
    """Document indices of the ``count`` best equal-size buckets (lower score = better)."""
    scores = np.asarray(scores, dtype=float)
    if not np.all(np.isfinite(scores)):
        raise BucketError("scores must be finite")
    size = bucket_size(len(scores), fraction)
    if count < 1 or count * size > len(scores):
        raise BucketError(
            f"{count} buckets of {size} documents do not fit in a pool of {len(scores)}"
        )
    order = np.argsort(scores, kind="stable")
    return [np.sort(order[j * size : (j + 1) * size]) for j in range(count)]


def random_bucket(n_documents: int, fraction: float, seed: int) -> np.ndarray:
    size = bucket_size(n_documents, fraction)
    return np.sort(np.random.default_rng(seed).choice(n_documents, size, replace=False))


def pools(
    scores: np.ndarray, fraction: float, count: int, mixtures: Sequence[int], seed: int
) -> dict[str, np.ndarray]:
    """Every pool the study trains on: buckets best first, the control, then the mixtures."""
    buckets = percentile_buckets(scores, fraction, count)
    bad = [k for k in mixtures if not 2 <= k <= count]
    if bad:
        raise BucketError(f"mixtures top-k need 2 <= k <= {count} buckets, got {bad}")
    out = {bucket_name(j, fraction): idx for j, idx in enumerate(buckets)}
    out[CONTROL] = random_bucket(len(scores), fraction, seed)
    for k in mixtures:
        out[f"top{k}"] = np.sort(np.concatenate(buckets[:k]))
    return out


def write_pools(
    pool_path: str | os.PathLike[str],
    members: dict[str, np.ndarray],
    out_dir: str | os.PathLike[str],
    seed: int,
) -> dict[str, str]:
    """Write each pool as ``out_dir/<name>.bin`` (corpus format), documents in shuffled order."""
    source = TokenShards([pool_path])
    meta = {key: source.metas[0][key] for key in ("grammar", "qqt") if key in source.metas[0]}
    paths = {}
    for i, (name, idx) in enumerate(members.items()):
        order = idx[np.random.default_rng([seed, i]).permutation(len(idx))]
        path = Path(out_dir) / f"{name}.bin"
        write_tokens(
            source.read(order),
            path,
            source.vocab_size,
            split=f"qqt-{name}",
            documents=[int(d) for d in order],
            **meta,
        )
        paths[name] = str(path)
    return paths
