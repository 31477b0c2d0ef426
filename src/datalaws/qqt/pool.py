"""An unfiltered pool whose documents differ in quality by construction.

Clean documents come from one of the study's grammars (``datalaws.sampler``); document ``i`` then
gets a corruption rate ``r_i ~ Beta(alpha, beta)`` (clipped to ``max_rate``) and exactly
``round(r_i * context)`` of its positions, chosen uniformly without replacement, are overwritten by
uniformly random terminals. A corrupted token is noise the model must spend capacity on and that
never occurs in the clean validation data, so low-``r`` documents are worth more per sample; the
spread of ``r`` makes the best decile small, so repeating it wears it out. The rates are the
oracle: scorers never see them, they are kept only to check the scorers.

Randomness is seeded per document (``default_rng([seed, i])``), so document ``i`` is corrupted the
same way whatever the pool size, and the rates come from their own stream.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from datalaws import atomic
from datalaws.corpus import write_tokens
from datalaws.grammar import Grammar
from datalaws.sampler import CompiledSampler

RATE_STREAM = 1 << 20  # spawn key of the rates, far from any document index's stream


class PoolError(ValueError):
    """A pool setting out of range."""


@dataclass(frozen=True)
class Corruption:
    """Per-document corruption rate ``r ~ Beta(alpha, beta)`` clipped to ``[0, max_rate]``."""

    alpha: float = 0.7
    beta: float = 2.5
    max_rate: float = 0.9

    def __post_init__(self) -> None:
        if not (self.alpha > 0 and self.beta > 0):
            raise PoolError(f"corruption alpha and beta must be > 0, got {self.alpha}, {self.beta}")
        if not 0 < self.max_rate <= 1:
            raise PoolError(f"corruption max_rate must lie in (0, 1], got {self.max_rate}")

    def rates(self, n_documents: int, seed: int) -> np.ndarray:
        rng = np.random.default_rng([seed, RATE_STREAM])
        return np.minimum(rng.beta(self.alpha, self.beta, n_documents), self.max_rate)


def corrupt(
    documents: np.ndarray, rates: np.ndarray, terminals: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Overwrite ``round(r_i * context)`` positions of row ``i`` with uniform terminals ``1..T``.

    Returns the corrupted copy and the number of positions overwritten per row. A replacement may
    draw the token it replaces (probability ``1/T``); the position still counts as corrupted,
    since the draw ignored the grammar.
    """
    if documents.ndim != 2 or len(rates) != len(documents):
        raise PoolError(
            f"need one rate per document row, got {len(rates)} rates for shape {documents.shape}"
        )
    if terminals < 1:
        raise PoolError(f"terminals must be >= 1, got {terminals}")
    if np.any(~np.isfinite(rates)) or np.any((rates < 0) | (rates > 1)):
        raise PoolError("corruption rates must lie in [0, 1]")
    out = np.array(documents, dtype=np.int64, copy=True)
    context = out.shape[1]
    counts = np.rint(np.asarray(rates) * context).astype(np.int64)
    for i, count in enumerate(counts):
        rng = np.random.default_rng([seed, i])
        positions = rng.permutation(context)[:count]
        out[i, positions] = rng.integers(1, terminals + 1, count)
    return out, counts


@dataclass(frozen=True)
class PoolSpec:
    """Everything that determines the pool's bytes (and the clean reference sample's)."""

    documents: int
    reference_documents: int
    clean_documents: int
    context: int
    seed: int
    corruption: Corruption

    def __post_init__(self) -> None:
        if self.documents < 10:
            raise PoolError(f"pool documents must be >= 10 (deciles), got {self.documents}")
        if self.reference_documents < 1:
            raise PoolError(f"reference_documents must be >= 1, got {self.reference_documents}")
        if self.clean_documents < 0:
            raise PoolError(f"clean_documents must be >= 0, got {self.clean_documents}")
        if self.context < 2:
            raise PoolError(f"context must be >= 2, got {self.context}")


STREAMS = ("pool", "reference", "clean", "corruption")


def sample_seeds(seed: int) -> dict[str, int]:
    """Independent 63-bit seeds for the pool's documents, the reference sample, the clean anchor
    sample and the corruption."""
    state = np.random.SeedSequence(seed).generate_state(len(STREAMS), dtype=np.uint64)
    return dict(zip(STREAMS, (int(s >> np.uint64(1)) for s in state), strict=True))


def build_pool(grammar: Grammar, spec: PoolSpec) -> dict[str, np.ndarray | pd.DataFrame]:
    """``pool`` (corrupted), ``reference`` and ``clean`` (uncorrupted samples of the grammar,
    disjoint streams) and ``oracle`` (table with ``document, rate, corrupted``)."""
    seeds = sample_seeds(spec.seed)
    sampler = CompiledSampler(grammar)
    documents = sampler.documents(spec.documents, spec.context, seeds["pool"])
    reference = sampler.documents(spec.reference_documents, spec.context, seeds["reference"])
    clean = sampler.documents(spec.clean_documents, spec.context, seeds["clean"])
    rates = spec.corruption.rates(spec.documents, seeds["corruption"])
    pool, counts = corrupt(documents, rates, grammar.spec.terminals, seeds["corruption"])
    oracle = pd.DataFrame(
        {
            "document": np.arange(spec.documents),
            "rate": rates,
            "corrupted": counts,
            "corrupted_fraction": counts / spec.context,
        }
    )
    return {"pool": pool, "reference": reference, "clean": clean, "oracle": oracle}


def write_pool(
    grammar: Grammar, grammar_name: str, spec: PoolSpec, out: dict[str, str | os.PathLike[str]]
) -> dict:
    """Build the pool and write ``out['pool']``, ``out['reference']``, ``out['clean']`` (corpus
    format; ``clean`` only if ``spec.clean_documents``) and ``out['oracle']`` (CSV)."""
    built = build_pool(grammar, spec)
    meta = {
        "grammar": {"name": grammar_name, "sha256": grammar.sha256()},
        "qqt": {**asdict(spec), "corruption": asdict(spec.corruption)},
    }
    for name in ("reference", "clean"):
        if len(built[name]):
            write_tokens(built[name], out[name], grammar.vocab_size, split=f"qqt-{name}", **meta)
    atomic.write_text(out["oracle"], built["oracle"].to_csv(index=False))
    return write_tokens(built["pool"], out["pool"], grammar.vocab_size, split="qqt-pool", **meta)
