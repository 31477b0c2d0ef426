"""The corpus stage: token documents -> context-length sequences -> shards with sidecars.

Documents are concatenated in order, each followed by the boundary id, and cut into rows of
``context`` tokens (the tail shorter than a row is dropped and counted). The rows are then put in
a seeded order, so that the first ``budget`` tokens a training run reads are a sample of the whole
split rather than its first files, and the first ``data.train_tokens`` (rounded up to whole rows,
as for the grammars) are split into the same shards as a grammar's. A split too small for its
tokens is refused, naming the dataset and the numbers, unless ``repeat`` allows further passes
over the training rows (each pass in a fresh seeded order); validation is never repeated.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from datalaws.corpus import CorpusError, shard_documents, shard_seed, write_tokens
from datalaws.datasets import DatasetError

ENCODE_BATCH = 512


@dataclass(frozen=True)
class CorpusRequest:
    """Everything besides the documents that determines a dataset's shards."""

    spec: dict
    seed: int
    context: int
    train_tokens: int
    val_tokens: int
    shards: int

    @property
    def where(self) -> str:
        return f"datasets[{self.spec['name']}]"


def pack(docs: Iterable[np.ndarray], boundary: int | None, context: int) -> tuple[np.ndarray, int]:
    """Rows (n, context) of the documents' ids, each document followed by ``boundary`` (if any),
    and the number of tokens left over in the last, partial row."""
    parts: list[np.ndarray] = []
    end = np.array([] if boundary is None else [boundary], dtype=np.uint32)
    for doc in docs:
        parts += [np.asarray(doc, dtype=np.uint32), end]
    stream = np.concatenate(parts) if parts else np.zeros(0, np.uint32)
    n_rows = stream.size // context
    return stream[: n_rows * context].reshape(n_rows, context), int(stream.size - n_rows * context)


def draw_rows(
    rows: np.ndarray, needed: int, request: CorpusRequest, split: str
) -> tuple[np.ndarray, float]:
    """``needed`` rows in a seeded order, and how many passes over the split they make."""
    available = len(rows)
    tokens = f"{available * request.context} tokens ({available} sequences of {request.context})"
    if available < needed and split == "val":
        raise DatasetError(
            f"{request.where}: the validation split holds {tokens} after tokenisation, fewer than "
            f"data.val_tokens = {request.val_tokens}; raise val_fraction, add data, or lower "
            "data.val_tokens"
        )
    if available < needed and not request.spec["repeat"]:
        raise DatasetError(
            f"{request.where}: the training split holds {tokens} after tokenisation, fewer than "
            f"data.train_tokens = {request.train_tokens} (which must cover the largest budget); "
            "add data, lower data.train_tokens and train.budgets, or set repeat: true"
        )
    if available == 0:
        raise DatasetError(f"{request.where}: the {split} split holds no complete sequence")
    passes = -(-needed // available)
    order = np.concatenate(
        [
            np.random.default_rng(shard_seed(request.seed, split, p)).permutation(available)
            for p in range(passes)
        ]
    )
    return rows[order[:needed]], needed / available


def write_splits(
    request: CorpusRequest,
    token_docs: dict[str, Iterable[np.ndarray]],
    ids: dict[str, int | None],
    provenance: dict,
    train_paths: list[str | Path],
    val_path: str | Path,
) -> dict:
    """Pack both splits and write the training shards and the validation file; a summary back.

    ``ids`` holds the vocabulary size and the boundary and separator ids (None where absent).
    """
    if len(train_paths) != request.shards:
        raise ValueError(f"{len(train_paths)} shard paths for {request.shards} shards")
    dtype = None if request.spec["dtype"] == "auto" else request.spec["dtype"]
    summary = {}
    for split in ("train", "val"):
        rows, leftover = pack(token_docs[split], ids["boundary"], request.context)
        tokens = request.train_tokens if split == "train" else request.val_tokens
        chosen, passes = draw_rows(rows, -(-tokens // request.context), request, split)
        meta = provenance | {"available_tokens": int(rows.size), "dropped_tokens": leftover}
        meta |= {"epochs": passes, "repeat": request.spec["repeat"]}
        common = {"split": split, "seed": request.seed, "separator": ids["separator"]}
        common["dataset"] = meta
        vocab = int(ids["vocab_size"])
        try:
            if split == "val":
                write_tokens(chosen, val_path, vocab, dtype, **common)
            else:
                counts = shard_documents(tokens, request.context, request.shards)
                starts = np.cumsum([0, *counts])
                for shard, path in enumerate(train_paths):
                    part = chosen[starts[shard] : starts[shard + 1]]
                    write_tokens(part, path, vocab, dtype, shard=shard, **common)
        except CorpusError as err:
            raise DatasetError(f"{request.where}: {err}") from None
        summary[split] = {"available_tokens": int(rows.size), "epochs": passes}
    return summary


def batched(texts: Iterable[str], size: int = ENCODE_BATCH) -> Iterator[list[str]]:
    batch: list[str] = []
    for text in texts:
        batch.append(text)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
