"""``datalaws dataset documents | tokenizer | corpus | tokens``: the dataset stages of data.smk.

Each takes the dataset's config entry as ``--spec`` JSON (the workflow passes only the keys the
stage depends on) and prints a one-line JSON summary with its wall time.
"""

from __future__ import annotations

import argparse
import json
import time

from datalaws.datasets.config import settings


def _spec(text: str) -> dict:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"--spec is not JSON ({err})") from None
    if not isinstance(raw, dict) or "name" not in raw:
        raise argparse.ArgumentTypeError("--spec must be a dataset entry with a name")
    return settings(raw)


def _request(args: argparse.Namespace):
    from datalaws.datasets.pack import CorpusRequest

    return CorpusRequest(
        spec=args.spec,
        seed=args.seed,
        context=args.context,
        train_tokens=args.train_tokens,
        val_tokens=args.val_tokens,
        shards=len(args.train),
    )


def _report(start: float, summary: dict, tokens: int | None = None) -> int:
    seconds = time.perf_counter() - start
    out = summary | {"seconds": round(seconds, 3)}
    if tokens:
        out["tokens_per_s"] = round(tokens / seconds)
    print(json.dumps(out, sort_keys=True))
    return 0


def cmd_documents(args: argparse.Namespace) -> int:
    from datalaws.datasets.stages import documents_stage

    start = time.perf_counter()
    record = documents_stage(
        args.spec, args.seed, {"train": args.train, "val": args.val}, args.manifest
    )
    summary = {k: record[k] for k in ("n_files", "documents", "bytes", "empty_documents")}
    return _report(start, summary | {"replaced_sequences": record["replaced_sequences"]})


def cmd_tokenizer(args: argparse.Namespace) -> int:
    from datalaws.datasets.stages import tokenizer_stage

    start = time.perf_counter()
    return _report(start, tokenizer_stage(args.spec, args.train_docs, args.output))


def cmd_corpus(args: argparse.Namespace) -> int:
    from datalaws.datasets.stages import corpus_stage

    start = time.perf_counter()
    docs = {"train": args.docs_train, "val": args.docs_val}
    summary = corpus_stage(
        _request(args), docs, args.tokenizer, args.manifest, args.train, args.val
    )
    return _report(start, summary, args.train_tokens + args.val_tokens)


def cmd_tokens(args: argparse.Namespace) -> int:
    from datalaws.datasets.stages import tokens_stage

    start = time.perf_counter()
    summary = tokens_stage(_request(args), args.manifest, args.train, args.val)
    return _report(start, summary, args.train_tokens + args.val_tokens)


def _corpus_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--context", type=int, required=True)
    p.add_argument("--train-tokens", type=int, required=True)
    p.add_argument("--val-tokens", type=int, required=True)
    p.add_argument("--train", nargs="+", required=True, help="training shard files to write")
    p.add_argument("--val", required=True, help="validation file to write")


def register(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser(
        "dataset",
        help="turn a local corpus into token shards (the dataset stages of the workflow)",
        description="Stages of a dataset (docs/datasets.md): documents -> tokenizer -> corpus for "
        "text, HTML, JSONL and Parquet; tokens for already-tokenised files.",
    )
    sub = group.add_subparsers(dest="stage", required=True, metavar="STAGE")

    p = sub.add_parser("documents", help="read, hash and split the sources by document")
    p.add_argument("--spec", type=_spec, required=True, help="the dataset's config entry (JSON)")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--train", required=True, help="training documents (JSONL) to write")
    p.add_argument("--val", required=True, help="validation documents (JSONL) to write")
    p.add_argument("--manifest", required=True, help="manifest (JSON) to write")
    p.set_defaults(func=cmd_documents)

    p = sub.add_parser("tokenizer", help="make the dataset's tokenizer.json (byte, bpe, file)")
    p.add_argument("--spec", type=_spec, required=True)
    p.add_argument("--train-docs", required=True, help="training documents (JSONL)")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=cmd_tokenizer)

    p = sub.add_parser("corpus", help="encode, pack and shard both splits")
    p.add_argument("--spec", type=_spec, required=True)
    p.add_argument("--docs-train", required=True)
    p.add_argument("--docs-val", required=True)
    p.add_argument("--tokenizer", required=True)
    p.add_argument("--manifest", required=True)
    _corpus_options(p)
    p.set_defaults(func=cmd_corpus)

    p = sub.add_parser("tokens", help="already-tokenised files: split, pack and shard")
    p.add_argument("--spec", type=_spec, required=True)
    p.add_argument("--manifest", required=True, help="manifest (JSON) to write")
    _corpus_options(p)
    p.set_defaults(func=cmd_tokens)
