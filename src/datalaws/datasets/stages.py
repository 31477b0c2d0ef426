"""The dataset stages as the workflow runs them, one function per rule (see data.smk):

documents (text-like formats) -> tokenizer -> corpus, or, for already-tokenised sources, tokens
(documents and corpus in one step, as there is nothing to train). Each reads its inputs, checks
them against what the earlier stage recorded, and writes its outputs atomically.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from datalaws import atomic
from datalaws.corpus import sha256_file
from datalaws.datasets import DatasetError
from datalaws.datasets.config import resolve_sources
from datalaws.datasets.documents import (
    hold_out,
    iter_texts,
    manifest,
    read_manifest,
    write_documents,
)
from datalaws.datasets.pack import CorpusRequest, batched, write_splits
from datalaws.datasets.sources import read_documents
from datalaws.datasets.token_files import token_file_documents
from datalaws.datasets.tokenizer import TextTokenizer, describe, load_tokenizer, write_tokenizer

SPLITS = ("train", "val")


def documents_stage(
    spec: dict, seed: int, out: dict[str, str | Path], manifest_path: str | Path
) -> dict:
    """Read the sources, hold out validation by document, write both splits and the manifest."""
    return write_documents(spec, resolve_sources(spec), seed, out, manifest_path)


def tokenizer_stage(spec: dict, train_docs: str | Path, out: str | Path) -> dict:
    """Train (BPE), copy (a user's file) or describe (bytes) the dataset's tokenizer."""
    return write_tokenizer(spec, iter_texts(train_docs), out)


def _encoded(tok: TextTokenizer, texts: Iterable[str]) -> Iterator[np.ndarray]:
    for batch in batched(texts):
        yield from tok.encode(batch)


def _provenance(spec: dict, record: dict, manifest_path: str | Path) -> dict:
    """What every shard's sidecar says about where its tokens came from."""
    return {
        "name": spec["name"],
        "format": spec["format"],
        "files": [{k: f[k] for k in ("path", "sha256", "bytes")} for f in record["files"]],
        "manifest": {"path": str(manifest_path), "sha256": sha256_file(manifest_path)},
        "documents": record["documents"],
    }


def corpus_stage(
    request: CorpusRequest,
    docs: dict[str, str | Path],
    tokenizer_path: str | Path,
    manifest_path: str | Path,
    train_paths: list[str | Path],
    val_path: str | Path,
) -> dict:
    """Encode both splits with the saved tokenizer, pack them and write the shards."""
    record = read_manifest(manifest_path)
    for split in SPLITS:
        if sha256_file(docs[split]) != record["sha256"][split]:
            raise DatasetError(
                f"{docs[split]}: sha256 differs from {manifest_path}; the documents changed after "
                "the manifest was written, rebuild the documents stage"
            )
    tok = load_tokenizer(tokenizer_path, request.spec)
    ids = {"vocab_size": tok.vocab_size, "boundary": tok.boundary_id}
    ids["separator"] = tok.separator_id
    provenance = _provenance(request.spec, record, manifest_path)
    provenance["tokenizer"] = describe(tok, tokenizer_path)
    token_docs = {split: _encoded(tok, iter_texts(docs[split])) for split in SPLITS}
    return write_splits(request, token_docs, ids, provenance, train_paths, val_path)


def tokens_stage(
    request: CorpusRequest,
    manifest_path: str | Path,
    train_paths: list[str | Path],
    val_path: str | Path,
) -> dict:
    """Already-tokenised sources: read, hold out by document, pack and shard in one step."""
    spec = request.spec
    docs, records = read_documents(resolve_sources(spec), spec, token_file_documents)
    sizes = np.array([d.size for d in docs], dtype=np.int64)
    val = hold_out(sizes, spec["val_fraction"], request.seed, request.where)
    splits = {
        "documents": {"train": int((~val).sum()), "val": int(val.sum())},
        "tokens": {"train": int(sizes[~val].sum()), "val": int(sizes[val].sum())},
    }
    atomic.write_json(manifest_path, manifest(spec, request.seed, records, splits))
    layout = spec["tokens"]
    ids = {"vocab_size": layout["vocab_size"], "boundary": layout.get("boundary")}
    ids["separator"] = None
    provenance = _provenance(spec, atomic.read_json(manifest_path), manifest_path)
    provenance["tokenizer"] = {"kind": "tokens", **ids}
    token_docs = {
        "train": (d for d, v in zip(docs, val, strict=True) if not v),
        "val": (d for d, v in zip(docs, val, strict=True) if v),
    }
    return write_splits(request, token_docs, ids, provenance, train_paths, val_path)
