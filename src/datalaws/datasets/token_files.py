"""Already-tokenised sources (format ``tokens``): flat little-endian arrays or ``.npy`` files.

The config says the files' dtype and vocabulary, and optionally the id that ends each document;
without one, each file is one document. Every id is checked against the vocabulary, so a file
written for another tokenizer is refused (naming the file and the first bad position) instead of
training on ids the model's embedding does not have.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np

from datalaws.datasets import DatasetError
from datalaws.datasets.sources import FileRecord

DTYPES = {"uint16": np.dtype("<u2"), "uint32": np.dtype("<u4")}


def _array(data: bytes, path: Path, dtype: np.dtype) -> np.ndarray:
    if path.suffix == ".npy":
        try:
            arr = np.load(io.BytesIO(data), allow_pickle=False)
        except ValueError as err:
            raise DatasetError(f"{path}: not a readable .npy file ({err})") from None
        if arr.ndim != 1 or arr.dtype.kind not in "ui":
            raise DatasetError(f"{path}: a 1-D integer array expected, got {arr.dtype} {arr.shape}")
        if arr.size and arr.min() < 0:
            raise DatasetError(f"{path}: negative token id {arr.min()}")
        return arr.astype(np.uint32)
    if len(data) % dtype.itemsize:
        raise DatasetError(
            f"{path}: {len(data)} bytes is not a whole number of {dtype.itemsize}-byte tokens; "
            "is tokens.dtype right?"
        )
    return np.frombuffer(data, dtype=dtype).astype(np.uint32)


def token_file_documents(path: Path, spec: dict) -> tuple[list[np.ndarray], FileRecord]:
    """One token file's documents (split at the boundary id, which is dropped) and its record."""
    layout = spec["tokens"]
    data = path.read_bytes()
    record = FileRecord(str(path), hashlib.sha256(data).hexdigest(), len(data))
    ids = _array(data, path, DTYPES[layout["dtype"]])
    bad = np.flatnonzero(ids >= layout["vocab_size"])
    if bad.size:
        raise DatasetError(
            f"{path}: token id {ids[bad[0]]} at position {bad[0]} is outside tokens.vocab_size "
            f"{layout['vocab_size']}"
        )
    boundary = layout.get("boundary")
    pieces = [ids] if boundary is None else np.split(ids, np.flatnonzero(ids == boundary) + 1)
    if boundary is not None and len(pieces) > 1 and not pieces[-1].size:
        pieces.pop()  # the file ends with a boundary: nothing follows it
    docs = []
    for piece in pieces:
        doc = piece[:-1] if boundary is not None and piece.size and piece[-1] == boundary else piece
        if doc.size:
            docs.append(doc)
        else:
            record.empty += 1
    record.documents = len(docs)
    return docs, record
