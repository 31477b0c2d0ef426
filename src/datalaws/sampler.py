"""Sampling sentences and packed documents from a grammar.

Two samplers draw from the same distribution:

* ``NaiveSampler`` expands NLTK productions recursively: the obvious reference implementation,
  kept as the baseline for benchmarks and as the ground truth in the statistical tests.
* ``CompiledSampler`` runs a numba kernel over integer tables with an explicit stack. It stops
  expanding once the document is full: generation is leftmost, so the emitted prefix has exactly
  the distribution of "expand the whole sentence, then truncate", without paying for the tail.

The compiled sampler uses its own splitmix64 generator, so a seed gives the same bytes with any
numpy or numba version.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numba
import numpy as np

from datalaws.grammar import SEPARATOR, Grammar

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


@numba.njit(cache=True, inline="always")
def _uniform(state: np.ndarray) -> float:
    """splitmix64 step, mapped to [0, 1) with 53 random bits."""
    state[0] += _GOLDEN
    z = state[0]
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    z = z ^ (z >> _S31)
    return float(z >> _S11) * _TO_UNIT


@numba.njit(cache=True, inline="always")
def _expand(nt_offset, cum_prob, rhs_offset, rhs, start, state, stack, out_row, pos, counts):
    """Expand one sentence from ``start`` into ``out_row[pos:]``; return (pos, stack).

    With an empty ``out_row`` nothing is stored and the sentence is expanded completely (used to
    measure sentence lengths); otherwise expansion stops when the row is full.
    """
    store = out_row.shape[0] > 0
    stack[0] = start
    depth = 1
    while depth > 0 and (not store or pos < out_row.shape[0]):
        depth -= 1
        symbol = stack[depth]
        if symbol > 0:
            if store:
                out_row[pos] = symbol
            pos += 1
            continue
        nt = -symbol - 1
        u = _uniform(state)
        prod = nt_offset[nt]
        last = nt_offset[nt + 1] - 1
        while prod < last and cum_prob[prod] <= u:
            prod += 1
        counts[prod] += 1
        lo, hi = rhs_offset[prod], rhs_offset[prod + 1]
        if depth + hi - lo > stack.shape[0]:
            grown = np.empty(2 * (depth + hi - lo), dtype=stack.dtype)
            grown[:depth] = stack[:depth]
            stack = grown
        for i in range(hi - 1, lo - 1, -1):
            stack[depth] = rhs[i]
            depth += 1
    return pos, stack


@numba.njit(cache=True)
def _fill_documents(nt_offset, cum_prob, rhs_offset, rhs, start, seed, out, separator, counts):
    state = np.array([seed], dtype=np.uint64)
    stack = np.empty(1024, dtype=np.int64)
    context = out.shape[1]
    for d in range(out.shape[0]):
        row = out[d]
        pos = 0
        while pos < context:
            if pos > 0:
                row[pos] = separator
                pos += 1
                if pos == context:
                    break
            pos, stack = _expand(
                nt_offset, cum_prob, rhs_offset, rhs, start, state, stack, row, pos, counts
            )


@numba.njit(cache=True)
def _sentence_lengths(nt_offset, cum_prob, rhs_offset, rhs, start, seed, lengths, counts):
    state = np.array([seed], dtype=np.uint64)
    stack = np.empty(1024, dtype=np.int64)
    nothing = np.empty(0, dtype=np.int64)
    for s in range(lengths.shape[0]):
        lengths[s], stack = _expand(
            nt_offset, cum_prob, rhs_offset, rhs, start, state, stack, nothing, 0, counts
        )


@dataclass(frozen=True)
class SampleStats:
    """Sentence lengths and how often each production fired, for distribution tests."""

    lengths: np.ndarray
    production_counts: np.ndarray


def production_list(grammar: Grammar) -> list[tuple[int, tuple[int, ...], float]]:
    """All productions as (lhs, rhs, probability), grouped by lhs in order 0..k.

    The start symbol is lhs ``k`` (``S -> N_i`` at 1/k). This is the order of the compiled tables
    and of every production-count array.
    """
    productions = []
    for i, options in enumerate(grammar.rules):
        for p, (_, rhs) in zip(grammar.probabilities(i), options, strict=True):
            productions.append((i, rhs, float(p)))
    k = grammar.spec.nonterminals
    return productions + [(k, (-(i + 1),), 1.0 / k) for i in range(k)]


class CompiledSampler:
    """Integer-table sampler; start symbol is nonterminal index ``k`` with ``S -> N_i`` at 1/k."""

    def __init__(self, grammar: Grammar) -> None:
        self.productions = production_list(grammar)
        k = grammar.spec.nonterminals
        lhs = np.array([p[0] for p in self.productions])
        self.nt_offset = np.searchsorted(lhs, np.arange(k + 2)).astype(np.int64)
        cum = []
        for nt in range(k + 1):
            running = np.cumsum([p[2] for p in self.productions if p[0] == nt])
            running[-1] = 1.0
            cum.extend(running)
        self.cum_prob = np.asarray(cum, dtype=np.float64)
        self.rhs_offset = np.cumsum([0] + [len(p[1]) for p in self.productions]).astype(np.int64)
        self.rhs = np.asarray([s for p in self.productions for s in p[1]], dtype=np.int64)
        self.start = -(k + 1)
        self._tables = (self.nt_offset, self.cum_prob, self.rhs_offset, self.rhs, self.start)

    def documents(self, n_documents: int, context: int, seed: int) -> np.ndarray:
        """``n_documents`` packed documents of ``context`` tokens, as int64."""
        out = np.zeros((n_documents, context), dtype=np.int64)
        counts = np.zeros(len(self.productions), dtype=np.int64)
        _fill_documents(*self._tables, np.uint64(seed), out, SEPARATOR, counts)
        return out

    def sentence_stats(self, n_sentences: int, seed: int) -> SampleStats:
        lengths = np.zeros(n_sentences, dtype=np.int64)
        counts = np.zeros(len(self.productions), dtype=np.int64)
        _sentence_lengths(*self._tables, np.uint64(seed), lengths, counts)
        return SampleStats(lengths=lengths, production_counts=counts)


class NaiveSampler:
    """Recursive expansion over the NLTK ``PCFG``: the reference the compiled sampler must match."""

    def __init__(self, grammar: Grammar) -> None:
        from nltk.grammar import Nonterminal

        self._nonterminal = Nonterminal
        self.pcfg = grammar.to_nltk()
        self._options = {}
        self._index = {}
        position = {(lhs, rhs): i for i, (lhs, rhs, _) in enumerate(production_list(grammar))}
        k = grammar.spec.nonterminals
        for lhs in [self.pcfg.start()] + [Nonterminal(f"N{i}") for i in range(k)]:
            prods = self.pcfg.productions(lhs=lhs)
            self._options[lhs] = (prods, [p.prob() for p in prods])
            for p in prods:
                lhs_id = k if lhs == self.pcfg.start() else int(lhs.symbol()[1:])
                rhs = tuple(
                    -(int(s.symbol()[1:]) + 1) if isinstance(s, Nonterminal) else int(s)
                    for s in p.rhs()
                )
                self._index[p] = position[(lhs_id, rhs)]

    def sentence(self, rng: random.Random, counts: np.ndarray | None = None) -> list[int]:
        out: list[int] = []
        self._expand(self.pcfg.start(), rng, out, counts)
        return out

    def _expand(self, symbol, rng: random.Random, out: list[int], counts) -> None:
        prods, weights = self._options[symbol]
        production = rng.choices(prods, weights=weights)[0]
        if counts is not None:
            counts[self._index[production]] += 1
        for s in production.rhs():
            if isinstance(s, self._nonterminal):
                self._expand(s, rng, out, counts)
            else:
                out.append(int(s))

    def documents(self, n_documents: int, context: int, seed: int) -> np.ndarray:
        """Pack whole sentences, separator-joined, truncating the one that overflows."""
        rng = random.Random(seed)
        out = np.zeros((n_documents, context), dtype=np.int64)
        for d in range(n_documents):
            doc: list[int] = []
            while len(doc) < context:
                if doc:
                    doc.append(SEPARATOR)
                doc.extend(self.sentence(rng))
            out[d] = doc[:context]
        return out

    def sentence_stats(self, n_sentences: int, seed: int) -> SampleStats:
        rng = random.Random(seed)
        counts = np.zeros(len(self._index), dtype=np.int64)
        lengths = np.array([len(self.sentence(rng, counts)) for _ in range(n_sentences)])
        return SampleStats(lengths=lengths, production_counts=counts)
