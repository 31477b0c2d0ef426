"""Random probabilistic context-free grammars of controlled complexity (Pandey 2024, section 3).

The generator follows the paper's code: every nonterminal gets ``randint(1, max_options)``
right-hand sides, each of length ``randint(1, max_length)`` with symbols drawn uniformly from
nonterminals and terminals, weighted by ``randint(1, 100)``; the start symbol picks a nonterminal
uniformly. Two things are done better than the paper's code: the draw is seeded, and terminals are
the token ids ``1..T`` so they never collide with the document separator ``0``.

A random grammar can be supercritical (each expansion spawns more than one nonterminal on average)
and then produces infinite sentences with positive probability. Such draws are detected through the
spectral radius of the expected-offspring matrix and redrawn with a derived seed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from datalaws import atomic

if TYPE_CHECKING:
    from nltk.grammar import PCFG

START = "S"
SEPARATOR = 0
FORMAT = "datalaws-grammar-v1"


class GrammarError(ValueError):
    """A grammar specification or file that cannot be used."""


@dataclass(frozen=True)
class GrammarSpec:
    """The paper's four complexity knobs."""

    nonterminals: int
    terminals: int
    max_options: int
    max_length: int

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise GrammarError(f"{name} must be an integer >= 1, got {value!r}")


@dataclass(frozen=True)
class Grammar:
    """A drawn grammar in integer form; ``rules[i]`` lists ``(weight, rhs)`` for nonterminal i.

    Symbols in a right-hand side are ints: ``t >= 1`` is terminal (token id) t, and ``-(i + 1)``
    is nonterminal i. Integer weights make the file reload to bit-identical probabilities.
    """

    spec: GrammarSpec
    seed: int
    attempt: int
    rules: tuple[tuple[tuple[int, tuple[int, ...]], ...], ...]

    @property
    def vocab_size(self) -> int:
        """Token ids run over the separator 0 and the terminals 1..T."""
        return self.spec.terminals + 1

    def probabilities(self, nonterminal: int) -> np.ndarray:
        weights = np.array([w for w, _ in self.rules[nonterminal]], dtype=np.float64)
        return weights / weights.sum()

    def offspring_matrix(self) -> np.ndarray:
        """M[i, j]: expected number of nonterminal j in one expansion of nonterminal i."""
        k = self.spec.nonterminals
        matrix = np.zeros((k, k))
        for i, options in enumerate(self.rules):
            for p, (_, rhs) in zip(self.probabilities(i), options, strict=True):
                for symbol in rhs:
                    if symbol < 0:
                        matrix[i, -symbol - 1] += p
        return matrix

    def spectral_radius(self) -> float:
        """Below 1 the branching process dies out with finite expected sentence length."""
        return float(np.max(np.abs(np.linalg.eigvals(self.offspring_matrix()))))

    def expected_lengths(self) -> np.ndarray:
        """Expected terminal count of a sentence from each nonterminal: (I - M) x = terminals."""
        k = self.spec.nonterminals
        direct = np.zeros(k)
        for i, options in enumerate(self.rules):
            for p, (_, rhs) in zip(self.probabilities(i), options, strict=True):
                direct[i] += p * sum(1 for s in rhs if s > 0)
        return np.linalg.solve(np.eye(k) - self.offspring_matrix(), direct)

    def expected_sentence_length(self) -> float:
        """The start symbol picks a nonterminal uniformly, so the mean is the plain average."""
        return float(self.expected_lengths().mean())

    def to_nltk(self) -> PCFG:
        """The same grammar as an NLTK ``PCFG``, with start production ``S -> N_i`` at 1/k.

        NLTK checks that every left-hand side's probabilities sum to one, so building it is also
        the grammar's validation. (Imported here: NLTK takes over a second to import, which every
        corpus-sampling job would otherwise pay without using it.)
        """
        from nltk.grammar import PCFG, Nonterminal, ProbabilisticProduction

        k = self.spec.nonterminals
        nts = [Nonterminal(f"N{i}") for i in range(k)]
        start = Nonterminal(START)
        productions = [ProbabilisticProduction(start, [nt], prob=1.0 / k) for nt in nts]
        for i, options in enumerate(self.rules):
            for p, (_, rhs) in zip(self.probabilities(i), options, strict=True):
                symbols = [nts[-s - 1] if s < 0 else str(s) for s in rhs]
                productions.append(ProbabilisticProduction(nts[i], symbols, prob=float(p)))
        return PCFG(start, productions)

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "spec": asdict(self.spec),
            "seed": self.seed,
            "attempt": self.attempt,
            "separator": SEPARATOR,
            "vocab_size": self.vocab_size,
            "spectral_radius": self.spectral_radius(),
            "expected_sentence_length": self.expected_sentence_length(),
            "rules": [[[w, list(rhs)] for w, rhs in options] for options in self.rules],
        }

    def sha256(self) -> str:
        """Content hash of the rules, recorded in corpus sidecars to tie data to its grammar."""
        payload = json.dumps([asdict(self.spec), self.to_dict()["rules"]], sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()


def _draw_rules(spec: GrammarSpec, rng: np.random.Generator) -> tuple:
    """One draw of the paper's generator; identical right-hand sides are merged (same law)."""
    n_symbols = spec.nonterminals + spec.terminals
    rules = []
    for _ in range(spec.nonterminals):
        merged: dict[tuple[int, ...], int] = {}
        for _ in range(int(rng.integers(1, spec.max_options, endpoint=True))):
            length = int(rng.integers(1, spec.max_length, endpoint=True))
            draws = rng.integers(0, n_symbols, size=length)
            rhs = tuple(
                int(-(s + 1)) if s < spec.nonterminals else int(s - spec.nonterminals + 1)
                for s in draws
            )
            merged[rhs] = merged.get(rhs, 0) + int(rng.integers(1, 100, endpoint=True))
        rules.append(tuple((w, rhs) for rhs, w in merged.items()))
    return tuple(rules)


def random_grammar(
    spec: GrammarSpec, seed: int, max_redraws: int = 100, max_radius: float = 1.0
) -> Grammar:
    """Draw a subcritical grammar, redrawing with seeds derived from ``seed`` if needed.

    ``max_radius`` may be set below 1 to also reject near-critical grammars, whose sentences are
    finite but so long that every document is a single truncated sentence.
    """
    radii = []
    for attempt in range(max_redraws + 1):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(attempt,)))
        grammar = Grammar(spec=spec, seed=seed, attempt=attempt, rules=_draw_rules(spec, rng))
        radius = grammar.spectral_radius()
        if radius < max_radius:
            return grammar
        radii.append(radius)
    raise GrammarError(
        f"every one of {max_redraws + 1} draws of {spec} with seed {seed} was supercritical "
        f"(spectral radius of the expected-offspring matrix >= {max_radius}; smallest seen "
        f"{min(radii):.3f}): each expansion spawns too many nonterminals on average, so sentences "
        f"need not terminate. Lower max_length or max_options, or raise the number of terminals."
    )


def save_grammar(grammar: Grammar, path: str | Path) -> None:
    atomic.write_json(path, grammar.to_dict())


def load_grammar(path: str | Path) -> Grammar:
    """Reload a grammar file exactly, checking its structure so a damaged file fails here."""
    data = atomic.read_json(path)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise GrammarError(f"{path}: not a datalaws grammar file (format {FORMAT!r} expected)")
    spec = GrammarSpec(**data["spec"])
    rules = []
    for i, options in enumerate(data["rules"]):
        parsed = []
        for weight, rhs in options:
            bad = [s for s in rhs if s == 0 or s > spec.terminals or s < -spec.nonterminals]
            if weight < 1 or not rhs or bad:
                raise GrammarError(f"{path}: malformed production for nonterminal {i}: {rhs}")
            parsed.append((int(weight), tuple(int(s) for s in rhs)))
        rules.append(tuple(parsed))
    if len(rules) != spec.nonterminals:
        raise GrammarError(f"{path}: {len(rules)} rule sets for {spec.nonterminals} nonterminals")
    return Grammar(
        spec=spec, seed=int(data["seed"]), attempt=int(data["attempt"]), rules=tuple(rules)
    )
