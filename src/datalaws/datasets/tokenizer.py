"""Tokenizers of text datasets, saved once as ``tokenizer.json`` and reused by every later stage.

* ``byte`` (default): UTF-8 bytes b as ids b + 2, beside the separator 0 (reserved, as in the
  grammar corpora) and the document boundary 1: 258 ids, nothing to train.
* ``bpe``: a byte-level BPE (Hugging Face ``tokenizers``) trained on the training split only, with
  ``<sep>`` and ``<doc>`` at ids 0 and 1. Training is deterministic (same documents, same merges,
  whatever the thread count); the file is written once and every later stage reads it.
* ``file``: the user's ``tokenizer.json``, copied byte for byte; its boundary token is named in
  the config.

Every kind encodes a batch of texts to id arrays and gives back a row's text as UTF-8 bytes
(special tokens dropped), which is what the raw-text compressibility measures read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from datalaws import atomic
from datalaws.datasets import BOUNDARY, BYTE_OFFSET, BYTE_VOCAB, SEPARATOR, DatasetError
from datalaws.datasets.config import BPE_BOUNDARY, BPE_SEPARATOR, check_vocab_fits

BYTE_FORMAT = "datalaws-byte-tokenizer-v1"


class TextTokenizer(Protocol):
    kind: str
    vocab_size: int
    boundary_id: int
    separator_id: int | None

    def encode(self, texts: list[str]) -> list[np.ndarray]: ...

    def text_bytes(self, ids: np.ndarray) -> bytes: ...


class ByteTokenizer:
    """UTF-8 bytes shifted past the two reserved ids."""

    kind = "byte"
    vocab_size = BYTE_VOCAB
    boundary_id = BOUNDARY
    separator_id = SEPARATOR

    def encode(self, texts: list[str]) -> list[np.ndarray]:
        return [
            np.frombuffer(t.encode("utf-8"), np.uint8).astype(np.uint32) + BYTE_OFFSET
            for t in texts
        ]

    def text_bytes(self, ids: np.ndarray) -> bytes:
        ids = np.asarray(ids)
        return (ids[ids >= BYTE_OFFSET] - BYTE_OFFSET).astype(np.uint8).tobytes()

    @staticmethod
    def description() -> dict[str, Any]:
        return {
            "format": BYTE_FORMAT,
            "kind": "byte",
            "vocab_size": BYTE_VOCAB,
            "separator": SEPARATOR,
            "boundary": BOUNDARY,
            "byte_offset": BYTE_OFFSET,
        }


class HFTokenizer:
    """A Hugging Face ``tokenizers`` tokenizer with a named document-boundary token."""

    def __init__(self, tok: Any, kind: str, boundary: str, separator: str | None) -> None:
        self.tok, self.kind = tok, kind
        vocab = tok.get_vocab(with_added_tokens=True)
        self.vocab_size = max(vocab.values()) + 1
        if boundary not in vocab:
            raise DatasetError(f"tokenizer has no boundary token {boundary!r}")
        self.boundary_id = vocab[boundary]
        self.separator_id = vocab.get(separator) if separator else None

    def encode(self, texts: list[str]) -> list[np.ndarray]:
        encoded = self.tok.encode_batch(texts, add_special_tokens=False)
        return [np.asarray(e.ids, dtype=np.uint32) for e in encoded]

    def text_bytes(self, ids: np.ndarray) -> bytes:
        return self.tok.decode(np.asarray(ids).tolist(), skip_special_tokens=True).encode("utf-8")


def train_bpe(texts: Iterable[str], vocab_size: int, min_frequency: int) -> Any:
    """A byte-level BPE with ``<sep>`` = 0 and ``<doc>`` = 1, every byte in its alphabet."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=[BPE_SEPARATOR, BPE_BOUNDARY],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return tok


def _load_hf(path: str | Path, where: str) -> Any:
    from tokenizers import Tokenizer

    try:
        return Tokenizer.from_file(str(path))
    except Exception as err:  # tokenizers raises its own Exception subclass for any bad file
        raise DatasetError(f"{where}: {path} is not a readable tokenizer.json ({err})") from None


def check_tokenizer_file(spec: dict) -> None:
    """A user's tokenizer.json: readable, holding its boundary token, fitting the dtype."""
    where = f"datasets[{spec['name']}].tokenizer"
    path = Path(spec["tokenizer"]["path"])
    if not path.is_file():
        raise DatasetError(f"{where}.path: {path} not found")
    loaded = _load_hf(path, where)
    try:
        tok = HFTokenizer(loaded, "file", spec["tokenizer"]["boundary"], None)
    except DatasetError as err:
        raise DatasetError(f"{where}: {path}: {err}") from None
    check_vocab_fits(spec, tok.vocab_size, f"tokenizer {path}")


def write_tokenizer(spec: dict, train_docs: Iterable[str], out: str | Path) -> dict:
    """Make the dataset's tokenizer.json (train, copy or describe it); returns a summary."""
    kind = spec["tokenizer"]["kind"]
    if kind == "byte":
        atomic.write_json(out, ByteTokenizer.description())
    elif kind == "bpe":
        tok = train_bpe(
            train_docs, spec["tokenizer"]["vocab_size"], spec["tokenizer"]["min_frequency"]
        )
        check_vocab_fits(spec, tok.get_vocab_size(with_added_tokens=True), "the trained BPE")
        atomic.write_text(out, tok.to_str())
    else:
        check_tokenizer_file(spec)
        atomic.write_bytes(out, Path(spec["tokenizer"]["path"]).read_bytes())
    loaded = load_tokenizer(out, spec)
    return {"kind": kind, "vocab_size": loaded.vocab_size, "sha256": sha256_of(out)}


def sha256_of(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_tokenizer(path: str | Path, spec: dict) -> TextTokenizer:
    """The tokenizer a dataset's stage wrote (``write_tokenizer``), checked against the dtype."""
    kind = spec["tokenizer"]["kind"]
    where = f"datasets[{spec['name']}].tokenizer"
    if kind == "byte":
        record = atomic.read_json(path)
        if record != ByteTokenizer.description():
            raise DatasetError(f"{where}: {path} is not the byte-level tokenizer {BYTE_FORMAT}")
        return ByteTokenizer()
    separator = BPE_SEPARATOR if kind == "bpe" else None
    loaded = _load_hf(path, where)
    try:
        tok = HFTokenizer(loaded, kind, spec["tokenizer"]["boundary"], separator)
    except DatasetError as err:
        raise DatasetError(f"{where}: {path}: {err}") from None
    check_vocab_fits(spec, tok.vocab_size, f"tokenizer {path}")
    return tok


def describe(tok: TextTokenizer, path: str | Path) -> dict:
    """What a shard's sidecar records of its tokenizer."""
    return {
        "kind": tok.kind,
        "vocab_size": tok.vocab_size,
        "boundary": tok.boundary_id,
        "separator": tok.separator_id,
        "path": str(path),
        "sha256": sha256_of(path),
    }


def text_decoder(path: str | Path, recorded: dict) -> Callable[[np.ndarray], bytes]:
    """Ids -> UTF-8 text bytes with the tokenizer a shard's sidecar names (``describe``),
    refusing a file whose sha256 is not the recorded one."""
    if sha256_of(path) != recorded["sha256"]:
        raise DatasetError(
            f"{path}: sha256 differs from the tokenizer the shards were made with; rebuild them"
        )
    if recorded["kind"] == "byte":
        return ByteTokenizer().text_bytes
    tok = _load_hf(path, str(path))
    return lambda ids: tok.decode(np.asarray(ids).tolist(), skip_special_tokens=True).encode()
