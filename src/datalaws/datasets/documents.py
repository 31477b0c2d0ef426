"""The documents stage: read the sources, hold out validation by document, write both splits.

Validation is whole documents, chosen in a seeded order until they hold ``val_fraction`` of the
bytes, never a cut inside a document, so no text is in both splits. The splits are written as
JSONL (one document per line, with its file and index) beside a manifest of every source file's
sha256; the tokenizer is trained on the training split only, and every shard's sidecar carries
the manifest's file hashes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from datalaws import atomic
from datalaws.datasets import DatasetError
from datalaws.datasets.sources import Document, FileRecord, read_documents

FORMAT = "datalaws-documents-v1"


def hold_out(sizes: np.ndarray, fraction: float, seed: int, where: str) -> np.ndarray:
    """Boolean mask of validation documents: a seeded order, taken until ``fraction`` of the
    total size; at least one document on each side."""
    n = sizes.size
    if n < 2:
        raise DatasetError(
            f"{where}: {n} document(s); validation is held out by whole documents, so it needs "
            "at least 2 (give more files, or documents: paragraphs or lines)"
        )
    order = np.random.default_rng(seed).permutation(n)
    reach = np.cumsum(sizes[order])
    k = int(np.searchsorted(reach, fraction * reach[-1])) + 1
    mask = np.zeros(n, dtype=bool)
    mask[order[: min(max(k, 1), n - 1)]] = True
    return mask


def write_jsonl(path: str | Path, docs: list[Document]) -> str:
    """Documents as JSONL, atomically; returns the file's sha256."""
    digest = hashlib.sha256()
    with atomic.atomic_open(path) as handle:
        for doc in docs:
            line = json.dumps(
                {"source": doc.source, "index": doc.index, "text": doc.text}, ensure_ascii=False
            )
            data = (line + "\n").encode("utf-8")
            digest.update(data)
            handle.write(data)
    return digest.hexdigest()


def iter_documents(path: str | Path) -> Iterator[Document]:
    """The documents of a JSONL split, in order."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            yield Document(record["text"], record["source"], record["index"])


def iter_texts(path: str | Path) -> Iterator[str]:
    return (doc.text for doc in iter_documents(path))


def manifest(spec: dict, seed: int, records: list[FileRecord], splits: dict) -> dict:
    """What the split was made from (every file's sha256) and what it holds."""
    return {
        "format": FORMAT,
        "dataset": spec["name"],
        "spec": spec,
        "seed": seed,
        "files": [r.as_dict() for r in records],
        "n_files": len(records),
        "empty_documents": sum(r.empty for r in records),
        "replaced_sequences": sum(r.replaced for r in records),
        **splits,
    }


def write_documents(
    spec: dict, files: list[Path], seed: int, out: dict[str, str | Path], manifest_path: str | Path
) -> dict:
    """Read, hold out, write both splits and the manifest; returns the manifest."""
    docs, records = read_documents(files, spec)
    sizes = np.array([len(d.text.encode("utf-8")) for d in docs], dtype=np.int64)
    val = hold_out(sizes, spec["val_fraction"], seed, f"datasets[{spec['name']}]")
    splits: dict = {"documents": {}, "bytes": {}, "sha256": {}}
    for split, mask in (("train", ~val), ("val", val)):
        chosen = [d for d, keep in zip(docs, mask, strict=True) if keep]
        splits["sha256"][split] = write_jsonl(out[split], chosen)
        splits["documents"][split] = len(chosen)
        splits["bytes"][split] = int(sizes[mask].sum())
    record = manifest(spec, seed, records, splits)
    atomic.write_json(manifest_path, record)
    return record


def read_manifest(path: str | Path) -> dict:
    record = atomic.read_json(path)
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise DatasetError(f"{path}: not a datalaws documents manifest ({FORMAT!r} expected)")
    return record
