"""Training throughput (tokens/s) of every tiny-ladder size on CPU, beside a plain eager baseline.

Run: python benchmarks/bench_train.py [--config config/tiny.yaml] [--budget 65536] [--threads 1]
                                      [--torchrun] [--json throughput.json]
For each size of the config's train ladder it measures
  * trainer: ``datalaws.train.train`` in one process, tokens / time spent in optimizer steps
    (``tokens_per_s`` of final.json; excludes start-up, validation and checkpoints), and the
    end-to-end rate over the whole call;
  * baseline: the same model, batch and AdamW in a bare loop over random corpus rows (no
    schedule, no loss weights, no checks, no logging): what the trainer's bookkeeping costs;
  * with --torchrun, the trainer under torchrun with 2 CPU ranks (FSDP2, gloo), end to end.
The corpus is a real PCFG sample (k20-T150-o10-l5 knobs). The machine is shared, so timings are
noisy: compare columns within one run. ``--json`` writes the trainer's tokens/s per size, the
throughput ``datalaws design`` costs a grid with.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import yaml

from datalaws.corpus import TokenShards, write_tokens
from datalaws.grammar import GrammarSpec, random_grammar
from datalaws.sampler import CompiledSampler
from datalaws.train import Arch, HyperParams, RunOptions, train
from datalaws.train.config import size_hyper
from datalaws.train.model import Transformer
from datalaws.train.shape import count_parameters

REPO = Path(__file__).resolve().parents[1]


def make_corpus(root: Path, tokens: int) -> tuple[list[str], str]:
    grammar = random_grammar(GrammarSpec(20, 150, 10, 5), seed=1)
    sampler = CompiledSampler(grammar)
    write_tokens(sampler.documents(tokens // 256, 256, 1), root / "train.bin", grammar.vocab_size)
    write_tokens(sampler.documents(64, 256, 2), root / "val.bin", grammar.vocab_size)
    return [str(root / "train.bin")], str(root / "val.bin")


def baseline(arch: Arch, shards: TokenShards, batch: int, lr: float, steps: int) -> float:
    """Tokens/s of a bare eager loop: forward, loss, backward, AdamW step."""
    torch.manual_seed(0)
    model = Transformer(arch.model(shards.vocab_size, shards.context))
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    rng = np.random.default_rng(0)

    def step() -> None:
        x = torch.from_numpy(shards.read(rng.integers(0, shards.n_sequences, batch)))
        logits = model(x[:, :-1])
        F.cross_entropy(logits.flatten(0, 1), x[:, 1:].flatten()).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    for _ in range(3):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * batch * shards.context / (time.perf_counter() - t0)


def torchrun_rate(train_paths, val, out, arch, budget, hyper, threads) -> float:
    shape = f"{arch.dim},{arch.ffn},{arch.layers},{arch.heads}"
    cmd = [
        sys.executable,
        "-m",
        "datalaws.train.launch",
        "--procs-per-node",
        "2",
        "--cpus",
        str(2 * threads),
        "--out",
        str(out),
        "--",
        "--train",
        *train_paths,
        "--val",
        val,
        "--shape",
        shape,
        "--budget",
        str(budget),
        "--batch-size",
        str(hyper.batch_size),
        "--lr",
        str(hyper.lr),
        "--eval-points",
        "1",
        "--val-sequences",
        "8",
        "--checkpoint-every",
        "0",
        "--progress",
        "off",
        "--device",
        "cpu",
    ]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    wall = time.perf_counter() - t0
    record = json.loads((Path(out) / "final.json").read_text())
    return record["tokens_per_s"], budget / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=65536, help="tokens per measured run")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
    parser.add_argument("--torchrun", action="store_true", help="also time 2 CPU ranks (FSDP2)")
    parser.add_argument("--config", default=str(REPO / "config" / "tiny.yaml"), help="study config")
    parser.add_argument("--json", help="write {size: trainer tokens/s} here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    tiny = yaml.safe_load(Path(args.config).read_text())["train"]
    rates = {}
    with tempfile.TemporaryDirectory() as tmp:
        train_paths, val = make_corpus(Path(tmp), max(args.budget, 65536))
        shards = TokenShards(train_paths)
        header = f"{'size':8} {'N_nonemb':>9} {'N_total':>8} {'trainer':>9} {'end2end':>9} "
        header += f"{'baseline':>9} {'ratio':>6}" + (
            f" {'2rk_step':>9} {'2rk_e2e':>8}" * args.torchrun
        )
        print(f"tokens/s on CPU, {args.threads} thread(s), budget {args.budget} tokens per run")
        print(header)
        for size in tiny["ladder"]:
            arch = Arch(**tiny["ladder"][size])
            hyper = size_hyper(tiny, size)
            hyper = HyperParams(**{**hyper.__dict__, "eval_points": 1, "val_sequences": 8})
            options = RunOptions(
                device="cpu", threads=args.threads, checkpoint_every=0, progress="off"
            )
            t0 = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                record = train(
                    train_paths,
                    val,
                    Path(tmp) / size,
                    arch=arch,
                    budget=args.budget,
                    hyper=hyper,
                    options=options,
                )
            e2e = args.budget / (time.perf_counter() - t0)
            rates[size] = record["tokens_per_s"]
            steps = max(8, args.budget // (hyper.batch_size * 256))
            base = baseline(arch, shards, hyper.batch_size, hyper.lr, steps)
            n = count_parameters(arch.model(shards.vocab_size, shards.context))
            line = (
                f"{size:8} {n['nonembedding']:9,d} {n['total']:8,d} "
                f"{record['tokens_per_s']:9,.0f} {e2e:9,.0f} {base:9,.0f} "
                f"{record['tokens_per_s'] / base:6.2f}"
            )
            if args.torchrun:
                step_rate, wall_rate = torchrun_rate(
                    train_paths,
                    val,
                    Path(tmp) / f"{size}-2rk",
                    arch,
                    args.budget,
                    hyper,
                    args.threads,
                )
                line += f" {step_rate:9,.0f} {wall_rate:8,.0f}"
            print(line, flush=True)
        print("trainer = optimizer-step time only; end2end = whole train() call incl. validation;")
        print("ratio = trainer / baseline (1.0 means the trainer's bookkeeping costs nothing).")
    if args.json:
        Path(args.json).write_text(json.dumps(rates, indent=2) + "\n")


if __name__ == "__main__":
    main()
