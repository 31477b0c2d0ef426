"""Data-loader throughput: is building batches ever the bottleneck of training?

Run: python benchmarks/bench_loader.py [--tokens 4194304] [--steps 2000]
Times ``datalaws.train.data.Batches`` (seeded document order, rank share, gather from memory-
mapped shards, tensor conversion) at the tiny config's batch (4) and the paper's (32), on 1 and
2 ranks, beside a simple baseline: contiguous slices of one in-memory array (the fastest a loader
could possibly be, with no shuffling). It then times a training step of the fastest tiny model
(d16-l1) in the same run and prints loader / training throughput, which must stay >= 20.
The machine is shared, so timings are noisy.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from datalaws.corpus import TokenShards, write_tokens
from datalaws.train.data import Batches, DocumentOrder
from datalaws.train.model import ModelConfig, Transformer

CONTEXT = 256


def loader_rate(shards: TokenShards, batch: int, world: int, steps: int) -> float:
    order = DocumentOrder(shards.n_sequences, shards.n_sequences, batch, seed=0)
    loaders = [Batches(shards, order, rank, world) for rank in range(world)]
    steps = min(steps, order.steps)
    t0 = time.perf_counter()
    for step in range(steps):
        for load in loaders:  # every rank's share: the whole global batch
            load(step)
    return steps * batch * CONTEXT / (time.perf_counter() - t0)


def slice_rate(tokens: np.ndarray, batch: int, steps: int) -> float:
    rows = tokens.reshape(-1, CONTEXT)
    t0 = time.perf_counter()
    for step in range(steps):
        start = step * batch % (len(rows) - batch)
        torch.from_numpy(rows[start : start + batch].astype(np.int64))
    return steps * batch * CONTEXT / (time.perf_counter() - t0)


def training_rate(vocab: int, batch: int, steps: int = 10) -> float:
    """Tokens/s of plain training steps of the smallest tiny model, the fastest consumer."""
    torch.manual_seed(0)
    model = Transformer(ModelConfig(16, 32, 1, 1, vocab, CONTEXT))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    x = torch.randint(0, vocab, (batch, CONTEXT))

    def step() -> None:
        F.cross_entropy(model(x[:, :-1]).flatten(0, 1), x[:, 1:].flatten()).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * batch * CONTEXT / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=4 * 2**20, help="corpus size on disk")
    parser.add_argument("--steps", type=int, default=2000, help="batches per measurement")
    args = parser.parse_args()
    torch.set_num_threads(1)
    vocab = 301
    tokens = np.random.default_rng(0).integers(0, vocab, args.tokens // CONTEXT * CONTEXT)
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, part in enumerate(np.array_split(tokens.reshape(-1, CONTEXT), 4)):
            write_tokens(part, Path(tmp) / f"{i:03d}.bin", vocab)
            paths.append(Path(tmp) / f"{i:03d}.bin")
        shards = TokenShards(paths)
        print(f"corpus: {shards.n_tokens:,} tokens in {len(paths)} memory-mapped shards")
        print(
            f"{'batch':>5} {'ranks':>5} {'loader tok/s':>13} {'slice tok/s':>12} "
            f"{'train tok/s':>12} {'loader/train':>12}"
        )
        for batch in (4, 32):
            train = training_rate(vocab, batch)
            base = slice_rate(tokens, batch, args.steps)
            for world in (1, 2):
                rate = loader_rate(shards, batch, world, args.steps)
                print(
                    f"{batch:5d} {world:5d} {rate:13,.0f} {base:12,.0f} {train:12,.0f} "
                    f"{rate / train:12.1f}"
                )
        print("train = plain steps of d16-l1 (the fastest tiny model) on one thread; the loader")
        print("must stay >= 20x faster than the fastest consumer so it is never the bottleneck.")


if __name__ == "__main__":
    main()
