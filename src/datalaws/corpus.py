"""Token corpora on disk: flat little-endian arrays of packed documents with a JSON sidecar.

A corpus is split into shards so that 100M tokens per grammar are made by parallel jobs. Every
shard is seeded from (corpus seed, split, shard index) alone, so any shard can be rebuilt by itself
and the same config gives byte-identical files. The sidecar records the sha256 of the data; readers
verify it, so a truncated or corrupted shard is refused instead of silently training on garbage.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from datalaws import atomic
from datalaws.grammar import SEPARATOR, Grammar

FORMAT = "datalaws-tokens-v1"
SPLITS = {"train": 0, "val": 1}
_HASH_CHUNK = 1 << 24


class CorpusError(ValueError):
    """A token file that is missing, corrupt, or inconsistent with its sidecar."""


def token_dtype(vocab_size: int) -> np.dtype:
    """The narrowest unsigned little-endian type that holds every token id."""
    return np.dtype("<u2") if vocab_size <= 1 << 16 else np.dtype("<u4")


def shard_seed(seed: int, split: str, shard: int) -> int:
    """A 64-bit seed for one shard; train and validation draw from disjoint streams."""
    if split not in SPLITS:
        raise CorpusError(f"split must be one of {sorted(SPLITS)}, got {split!r}")
    sequence = np.random.SeedSequence(seed, spawn_key=(SPLITS[split], shard))
    return int(sequence.generate_state(1, dtype=np.uint64)[0])


def shard_documents(n_tokens: int, context: int, n_shards: int) -> list[int]:
    """Documents per shard: ceil(n_tokens / context) split as evenly as possible."""
    total = -(-n_tokens // context)
    base, extra = divmod(total, n_shards)
    return [base + (i < extra) for i in range(n_shards)]


def sidecar_path(path: str | Path) -> Path:
    return Path(f"{path}.json")


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class ShardRequest:
    """Everything that determines one shard's bytes."""

    grammar: Grammar
    grammar_name: str
    seed: int
    split: str
    shard: int
    n_documents: int
    context: int


def write_shard(request: ShardRequest, path: str | Path) -> dict:
    """Sample one shard and write it with its sidecar; return the sidecar."""
    if request.context < 2:
        raise CorpusError(f"context must be >= 2 tokens, got {request.context}")
    if request.n_documents < 1:
        raise CorpusError(f"a shard needs at least one document, got {request.n_documents}")
    from datalaws.sampler import CompiledSampler  # numba: only sampling needs it, not reading

    seed = shard_seed(request.seed, request.split, request.shard)
    docs = CompiledSampler(request.grammar).documents(request.n_documents, request.context, seed)
    return write_tokens(
        docs,
        path,
        request.grammar.vocab_size,
        split=request.split,
        shard=request.shard,
        seed=request.seed,
        shard_seed=seed,
        grammar={
            "name": request.grammar_name,
            "sha256": request.grammar.sha256(),
            "seed": request.grammar.seed,
            "attempt": request.grammar.attempt,
            **vars(request.grammar.spec),
        },
    )


def storage_dtype(vocab_size: int, dtype: str | None = None) -> np.dtype:
    """``dtype`` (uint16 or uint32, little-endian) if it holds every id, else an error; the
    narrowest that does when ``dtype`` is None."""
    if dtype is None:
        return token_dtype(vocab_size)
    chosen = np.dtype(dtype).newbyteorder("<")
    if chosen.kind != "u" or vocab_size - 1 > np.iinfo(chosen).max:
        raise CorpusError(
            f"a vocabulary of {vocab_size} ids does not fit dtype {dtype} "
            f"(ids up to {np.iinfo(chosen).max if chosen.kind == 'u' else 'none'})"
        )
    return chosen


def write_tokens(
    tokens: np.ndarray,
    path: str | Path,
    vocab_size: int,
    dtype: str | None = None,
    **meta: object,
) -> dict:
    """Write any (n_sequences, context) token array in the corpus format, e.g. a filtered pool.

    ``dtype`` (uint16 or uint32) is the narrowest that holds the vocabulary unless given.
    """
    if tokens.ndim != 2:
        raise CorpusError(f"tokens must be 2-D (sequences, context), got shape {tokens.shape}")
    if tokens.size and (tokens.min() < 0 or tokens.max() >= vocab_size):
        raise CorpusError(
            f"token ids must lie in [0, {vocab_size}), got {tokens.min()}..{tokens.max()}"
        )
    dtype = storage_dtype(vocab_size, dtype)
    data = np.ascontiguousarray(tokens).astype(dtype).tobytes()
    atomic.write_bytes(path, data)
    sidecar = {
        "format": FORMAT,
        "dtype": dtype.name,
        "byteorder": "little",
        "context": int(tokens.shape[1]),
        "n_tokens": int(tokens.size),
        "n_sequences": int(tokens.shape[0]),
        "vocab_size": int(vocab_size),
        "separator": SEPARATOR,
        "sha256": hashlib.sha256(data).hexdigest(),
        **meta,
    }
    atomic.write_json(sidecar_path(path), sidecar)
    return sidecar


def read_sidecar(path: str | Path) -> dict:
    side = sidecar_path(path)
    if not side.exists():
        raise CorpusError(f"{path}: missing sidecar {side}")
    meta = atomic.read_json(side)
    if meta.get("format") != FORMAT:
        raise CorpusError(f"{side}: not a datalaws token sidecar (format {FORMAT!r} expected)")
    return meta


def open_shard(path: str | Path, verify: bool = True) -> tuple[np.ndarray, dict]:
    """Memory-map one shard as (n_sequences, context); check size and, if asked, sha256."""
    path = Path(path)
    if not path.exists():
        raise CorpusError(f"{path}: token file not found")
    meta = read_sidecar(path)
    dtype = np.dtype(meta["dtype"]).newbyteorder("<")
    expected = meta["n_tokens"] * dtype.itemsize
    if path.stat().st_size != expected:
        raise CorpusError(
            f"{path}: {path.stat().st_size} bytes on disk but the sidecar promises {expected}; "
            "the shard is truncated or corrupt, delete it and rebuild it"
        )
    if verify and sha256_file(path) != meta["sha256"]:
        raise CorpusError(
            f"{path}: sha256 does not match its sidecar; the shard is corrupt, delete it and "
            "rebuild it"
        )
    tokens = np.memmap(path, dtype=dtype, mode="r").reshape(-1, meta["context"])
    return tokens, meta


def _identity(path: Path) -> tuple[int, int, int, int]:
    """What changes when a file is rewritten or replaced: device, inode, size, mtime."""
    st = path.stat()
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


class TokenShards:
    """Several shards read as one table of sequences, rows numbered across shards in order."""

    def __init__(self, paths: list[str | Path], verify: bool = True) -> None:
        if not paths:
            raise CorpusError("no token shards given")
        opened = [open_shard(p, verify=verify) for p in paths]
        self.paths = [Path(p) for p in paths]
        self.verify = verify
        self._identity = [_identity(p) for p in self.paths]
        self.metas = [meta for _, meta in opened]
        self._arrays = [tokens for tokens, _ in opened]
        for key in ("context", "vocab_size"):
            values = {meta[key] for meta in self.metas}
            if len(values) > 1:
                raise CorpusError(f"shards disagree on {key}: {sorted(values)}")
        self.context = int(self.metas[0]["context"])
        self.vocab_size = int(self.metas[0]["vocab_size"])
        self.dtype = self._arrays[0].dtype
        self._starts = np.cumsum([0] + [len(a) for a in self._arrays])
        self.n_sequences = int(self._starts[-1])

    @property
    def n_tokens(self) -> int:
        return self.n_sequences * self.context

    def check_unchanged(self) -> None:
        """Reopen, and so verify again, every shard whose file changed since it was verified.

        Why: a shard replaced on disk mid-study (rebuilt, copied over, corrupted) must not be
        trained on unverified. A shard rewritten in place changes what the memory map reads, and
        one replaced by rename is a new file: both are caught here, a stat per shard, before the
        rows are read. Raises CorpusError naming the file if it no longer matches its sidecar.
        """
        for i, path in enumerate(self.paths):
            now = _identity(path)
            if now != self._identity[i]:
                tokens, meta = open_shard(path, verify=self.verify)
                if meta["sha256"] != self.metas[i]["sha256"]:
                    raise CorpusError(
                        f"{path}: replaced during the run by a different shard (sha256 "
                        f"{meta['sha256'][:12]}, was {self.metas[i]['sha256'][:12]}); the "
                        "results would mix two corpora. Rerun the data stage, then training"
                    )
                self._arrays[i], self._identity[i] = tokens, now

    def read(self, indices: np.ndarray) -> np.ndarray:
        """Gather rows by global index as int64, shape (len(indices), context), from shards
        verified unchanged (``check_unchanged``)."""
        self.check_unchanged()
        indices = np.asarray(indices, dtype=np.int64)
        if indices.size and (indices.min() < 0 or indices.max() >= self.n_sequences):
            raise IndexError(f"row index out of range [0, {self.n_sequences})")
        out = np.empty((indices.size, self.context), dtype=np.int64)
        shard_of = np.searchsorted(self._starts, indices, side="right") - 1
        for shard in np.unique(shard_of):
            mask = shard_of == shard
            out[mask] = self._arrays[shard][indices[mask] - self._starts[shard]]
        return out

    def max_token(self) -> int:
        """Largest id present, so trainers can refuse ids outside their vocabulary up front."""
        return int(max(int(a.max()) for a in self._arrays))
