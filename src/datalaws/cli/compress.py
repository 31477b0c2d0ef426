"""``datalaws compress``: every compressibility measure of a token corpus (gzip, zstd, bz2, lzma,
unigram entropy; on token ids and on text), on the same sampled sequences as ``datalaws gzip``."""

from __future__ import annotations

import argparse
import json
import sys
import time

from datalaws import atomic


def cmd_compress(args: argparse.Namespace) -> int:
    from datalaws.compressors import measure_all

    start = time.perf_counter()
    stats = measure_all(args.paths, args.sequences, args.seed, args.tokenizer)
    seconds = time.perf_counter() - start
    print(f"measured {stats['n_sequences']} sequences in {seconds:.3f} s", file=sys.stderr)
    if args.output:
        atomic.write_json(args.output, stats)
    medians = {k: (v["median"] if v else None) for k, v in stats["measures"].items()}
    print(json.dumps({"kind": stats["kind"], "median": medians}, indent=2))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "compress",
        help="gzip, zstd, bz2, lzma and unigram entropy of a token corpus, on ids and text",
        description="Median compression ratio per measure over randomly chosen sequences of token "
        "shards (.bin with sidecar); the same sequences as `datalaws gzip` with the same seed. "
        "Text measures decode dataset rows with --tokenizer (the dataset's tokenizer.json); "
        "grammar rows are written as decimal ids.",
    )
    p.add_argument("paths", nargs="+", metavar="SHARD")
    p.add_argument("--tokenizer", help="tokenizer.json of a text dataset (for the text measures)")
    p.add_argument("--sequences", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", help="also write the full JSON here")
    p.set_defaults(func=cmd_compress)
