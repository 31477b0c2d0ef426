"""Corpus sampling throughput: compiled (numba tables) vs naive (recursive NLTK) on one core.

Run: python benchmarks/bench_sampler.py [--tokens N]
Both samplers fill the same number of 256-token documents from each of the paper's six grammars
(seeded as in config/config.yaml); the compiled kernel is warmed up first so compile time is not
counted.
"""

from __future__ import annotations

import argparse
import time

from datalaws.config import REPO_CONFIGS, grammar_seed, load_config
from datalaws.grammar import GrammarSpec, random_grammar
from datalaws.sampler import CompiledSampler, NaiveSampler

CONTEXT = 256


def throughput(sampler, n_docs: int) -> float:
    start = time.perf_counter()
    sampler.documents(n_docs, CONTEXT, seed=1)
    return n_docs * CONTEXT / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=500_000, help="tokens per naive run")
    args = parser.parse_args()
    config = load_config(REPO_CONFIGS / "config.yaml")
    naive_docs = max(1, args.tokens // CONTEXT)
    print(f"{'grammar':<22}{'naive tok/s':>14}{'compiled tok/s':>16}{'speed-up':>10}")
    for entry in config["grammars"][:6]:
        spec = GrammarSpec(
            *(entry[k] for k in ("nonterminals", "terminals", "max_options", "max_length"))
        )
        grammar = random_grammar(spec, grammar_seed(config, entry["name"]))
        compiled = CompiledSampler(grammar)
        compiled.documents(4, CONTEXT, seed=0)
        naive = throughput(NaiveSampler(grammar), naive_docs)
        fast = throughput(compiled, 20 * naive_docs)
        print(f"{entry['name']:<22}{naive:>14,.0f}{fast:>16,.0f}{fast / naive:>9.1f}x")


if __name__ == "__main__":
    main()
