"""Data commands: draw a grammar, sample a corpus shard, measure gzip compressibility."""

from __future__ import annotations

import argparse
import json
import sys
import time

from datalaws import atomic
from datalaws.compress import measure
from datalaws.corpus import ShardRequest, shard_documents, write_shard
from datalaws.grammar import GrammarSpec, load_grammar, random_grammar, save_grammar


def cmd_grammar(args: argparse.Namespace) -> int:
    spec = GrammarSpec(args.nonterminals, args.terminals, args.max_options, args.max_length)
    grammar = random_grammar(spec, args.seed, args.max_redraws, args.max_radius)
    pcfg = grammar.to_nltk()
    save_grammar(grammar, args.output)
    print(
        json.dumps(
            {
                "output": args.output,
                "attempt": grammar.attempt,
                "nltk_productions": len(pcfg.productions()),
                "spectral_radius": round(grammar.spectral_radius(), 4),
                "expected_sentence_length": round(grammar.expected_sentence_length(), 3),
            }
        )
    )
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    if args.tokens < 1:
        raise ValueError(f"--tokens must be >= 1, got {args.tokens}")
    if not 0 <= args.shard < args.shards:
        raise ValueError(f"--shard must lie in [0, --shards={args.shards}), got {args.shard}")
    grammar = load_grammar(args.grammar)
    n_docs = shard_documents(args.tokens, args.context, args.shards)[args.shard]
    start = time.perf_counter()
    request = ShardRequest(
        grammar=grammar,
        grammar_name=args.name or str(args.grammar),
        seed=args.seed,
        split=args.split,
        shard=args.shard,
        n_documents=n_docs,
        context=args.context,
    )
    meta = write_shard(request, args.output)
    seconds = time.perf_counter() - start
    report = {k: meta[k] for k in ("n_tokens", "n_sequences", "sha256", "split")}
    report |= {"seconds": round(seconds, 3), "tokens_per_s": round(meta["n_tokens"] / seconds)}
    print(json.dumps(report))
    return 0


def cmd_gzip(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    stats = measure(args.paths, n_sequences=args.sequences, seed=args.seed, level=args.level)
    print(
        f"measured {stats['n_sequences']} sequences in {time.perf_counter() - start:.3f} s",
        file=sys.stderr,
    )
    if args.output:
        atomic.write_json(args.output, stats)
    shown = stats if args.ratios else {k: v for k, v in stats.items() if k != "ratios"}
    print(json.dumps(shown, indent=2, sort_keys=True))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "grammar",
        help="draw a random PCFG (the paper's generator, seeded)",
        description="Draw a random PCFG with the paper's four knobs; supercritical draws are "
        "redrawn with derived seeds.",
    )
    p.add_argument("--nonterminals", "-k", type=int, required=True)
    p.add_argument("--terminals", "-T", type=int, required=True)
    p.add_argument("--max-options", type=int, required=True)
    p.add_argument("--max-length", type=int, required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--max-redraws", type=int, default=100)
    p.add_argument(
        "--max-radius",
        type=float,
        default=1.0,
        help="reject draws whose offspring spectral radius reaches this (default 1)",
    )
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=cmd_grammar)

    p = subparsers.add_parser(
        "sample",
        help="sample packed documents from a grammar into a token shard",
        description="Write shard SHARD of SHARDS of a corpus of TOKENS tokens (rounded up to whole "
        "documents) as a little-endian token file plus a JSON sidecar.",
    )
    p.add_argument("grammar", help="grammar JSON written by 'datalaws grammar'")
    p.add_argument("--tokens", type=int, required=True, help="total tokens over all shards")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--split", choices=["train", "val"], default="train")
    p.add_argument("--shard", type=int, default=0)
    p.add_argument("--shards", type=int, default=1)
    p.add_argument("--context", type=int, default=256)
    p.add_argument("--name", help="grammar name recorded in the sidecar")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=cmd_sample)

    p = subparsers.add_parser(
        "gzip",
        help="measure gzip compressibility of a token corpus or text",
        description="Median gzip ratio (and spread) over randomly chosen sequences: token shards "
        "(.bin, or a folder of them) as 4-byte big-endian ints, or text files as UTF-8 "
        "bytes in 256-byte windows. Prints JSON.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--sequences", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--level", type=int, default=9, choices=range(1, 10), metavar="1..9")
    p.add_argument("--ratios", action="store_true", help="also print every per-sequence ratio")
    p.add_argument("-o", "--output", help="also write the full JSON (with ratios) here")
    p.set_defaults(func=cmd_gzip)
