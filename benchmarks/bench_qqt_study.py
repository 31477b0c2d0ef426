"""Throughput of the data-filtering study's own stages, each beside a simple baseline:

- corruption: per-document seeded positions (``datalaws.qqt.pool.corrupt``, so document i does
  not depend on the pool size) against one vectorised Bernoulli mask from a single generator;
- reference-loss scoring: per-document losses (``datalaws.qqt.scoring.document_losses``) against
  the training stage's whole-file ``evaluate`` on the same documents;
- gzip scoring (``datalaws.compress.token_ratios``), documents per second.

Training itself is benchmarked by bench_train.py. Run: python benchmarks/bench_qqt_study.py
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from datalaws.compress import token_ratios
from datalaws.corpus import write_tokens
from datalaws.grammar import GrammarSpec, random_grammar
from datalaws.qqt.pool import Corruption, corrupt
from datalaws.qqt.scoring import document_losses
from datalaws.sampler import CompiledSampler
from datalaws.train import Arch, HyperParams, RunOptions, evaluate, train


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def bernoulli_baseline(docs: np.ndarray, rates: np.ndarray, terminals: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    mask = rng.random(docs.shape) < rates[:, None]
    out = docs.copy()
    out[mask] = rng.integers(1, terminals + 1, int(mask.sum()))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=4000)
    parser.add_argument("--context", type=int, default=256)
    args = parser.parse_args()
    grammar = random_grammar(GrammarSpec(20, 150, 10, 5), seed=1)
    docs = CompiledSampler(grammar).documents(args.documents, args.context, 3)
    rates = Corruption().rates(args.documents, 4)
    n = args.documents

    seconds = timed(lambda: corrupt(docs, rates, 150, 5))
    base = timed(lambda: bernoulli_baseline(docs, rates, 150))
    print(
        f"corruption: {n / seconds:,.0f} docs/s per-document seeded, "
        f"{n / base:,.0f} docs/s one Bernoulli mask ({seconds / base:.1f}x slower)"
    )

    seconds = timed(lambda: token_ratios(docs), repeat=1)
    print(f"gzip scores: {n / seconds:,.0f} docs/s")

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_tokens(docs, root / "pool.bin", grammar.vocab_size)
        write_tokens(docs[:200], root / "ref.bin", grammar.vocab_size)
        train(
            [root / "ref.bin"],
            root / "ref.bin",
            root / "run",
            arch=Arch(16, 32, 1, 1),
            budget=200 * args.context,
            hyper=HyperParams(batch_size=4, lr=2e-2, eval_points=1, val_sequences=8),
            options=RunOptions(device="cpu", threads=1, checkpoint_every=0, progress="off"),
        )
        tokens = n * (args.context - 1)
        seconds = timed(lambda: document_losses(root / "run", docs), repeat=2)
        base = timed(lambda: evaluate(root / "run", root / "pool.bin", batch_size=64), repeat=2)
        print(f"reference-loss scores: {tokens / seconds:,.0f} tok/s per document, "
              f"{tokens / base:,.0f} tok/s whole-file evaluate (baseline), "
              f"ratio {base / seconds:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
