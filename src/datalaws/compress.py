"""gzip compressibility, the paper's single summary of how hard a dataset is to predict.

For token data each sampled sequence is serialised as 4-byte big-endian signed ints (the paper's
choice, so ratios are comparable with its numbers), gzipped at level 9 with mtime 0 (so the output
is deterministic), and the ratio is compressed bytes over raw bytes. For real text the same measure
runs on raw UTF-8 bytes in fixed windows. H is the median ratio. The two scales differ: a text's
bytes compress far less than the same text as 4-byte token ids, whose three high bytes are mostly
zero, so an H measured on text must never be compared with an H measured on token corpora.

The gzip framing (header and trailer) is a fixed cost that inflates every ratio by the same
amount; it is reported so readers can compare with deflate-only ratios from other tools.

Beyond gzip, :mod:`datalaws.compressors` compresses the same sampled sequences with zstd, bz2 and
lzma and takes their unigram entropy, on the token ids and on the sequences' text.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from datalaws.corpus import CorpusError, TokenShards

LEVEL = 9
TOKEN_BYTES = 4
TEXT_WINDOW = 256


def gzip_size(raw: bytes, level: int = LEVEL) -> int:
    return len(gzip.compress(raw, compresslevel=level, mtime=0))


def framing_bytes(level: int = LEVEL) -> int:
    """gzip's fixed header + trailer: an empty gzip stream minus an empty raw deflate stream."""
    deflate = zlib.compressobj(level, zlib.DEFLATED, -15)
    empty_deflate = len(deflate.compress(b"") + deflate.flush())
    return gzip_size(b"", level) - empty_deflate


def token_ratios(sequences: np.ndarray, level: int = LEVEL) -> np.ndarray:
    """Per-row gzip ratio of token rows serialised as big-endian int32."""
    raw = np.ascontiguousarray(sequences, dtype=">i4")
    row_bytes = raw.shape[1] * TOKEN_BYTES
    blob = raw.tobytes()
    sizes = [gzip_size(blob[i : i + row_bytes], level) for i in range(0, len(blob), row_bytes)]
    return np.array(sizes) / row_bytes


def byte_ratios(windows: list[bytes], level: int = LEVEL) -> np.ndarray:
    return np.array([gzip_size(w, level) / len(w) for w in windows])


def spread(values: np.ndarray) -> dict:
    """Median, mean, sample standard deviation and quartiles of per-sequence ratios."""
    values = np.asarray(values, dtype=float)
    q25, median, q75 = np.quantile(values, [0.25, 0.5, 0.75])
    return {
        "median": float(median),
        "mean": float(values.mean()),
        "std": float(values.std(ddof=1)) if values.size > 1 else 0.0,
        "q25": float(q25),
        "q75": float(q75),
    }


def summarise(ratios: np.ndarray, level: int = LEVEL) -> dict:
    return spread(ratios) | {
        "min": float(ratios.min()),
        "max": float(ratios.max()),
        "n_sequences": int(ratios.size),
        "level": level,
        "header_bytes": framing_bytes(level),
        "ratios": [float(r) for r in ratios],
    }


def pick_sequences(available: int, requested: int, seed: int, what: str) -> np.ndarray:
    """``requested`` distinct row indices of ``available`` (seeded): what every measure reads."""
    if requested < 1:
        raise ValueError(f"sequences must be >= 1, got {requested}")
    if requested > available:
        raise ValueError(
            f"asked for {requested} sequences but {what} holds only {available}; give more "
            "data (or, with `datalaws gzip` and `datalaws compress`, ask for fewer --sequences)"
        )
    return np.random.default_rng(seed).choice(available, size=requested, replace=False)


def corpus_kind(meta: dict) -> dict:
    """What made a token corpus, from its sidecar: a grammar, or a dataset and its tokenizer."""
    if "dataset" in meta:
        return {"kind": "dataset", "tokenizer": meta["dataset"]["tokenizer"]["kind"]}
    if "grammar" in meta:
        return {"kind": "grammar", "tokenizer": None}
    return {"kind": "unknown", "tokenizer": None}


def sample_rows(corpus: TokenShards, n_sequences: int, seed: int, source: str) -> np.ndarray:
    """The row indices every compressibility measure of a corpus reads (seeded, no repeats)."""
    return pick_sequences(corpus.n_sequences, n_sequences, seed, source)


def token_files(paths: list[Path]) -> list[Path]:
    """Token shards among ``paths``: ``.bin`` files, and sidecar-carrying ``*.bin`` in folders."""
    found = []
    for path in paths:
        if path.is_file() and path.suffix == ".bin":
            found.append(path)
        elif path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.bin") if Path(f"{p}.json").exists()))
    return found


def text_bytes(paths: list[Path]) -> bytes:
    """All bytes of the text files, and of every file under folders, in sorted path order."""
    files = []
    for path in paths:
        files.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    return b"".join(p.read_bytes() for p in files)


def measure(
    path: str | Path | list[str | Path], n_sequences: int = 1000, seed: int = 0, level: int = LEVEL
) -> dict:
    """gzip statistics of a token corpus (``.bin`` shards) or of text, per the module docstring."""
    paths = [Path(p) for p in (path if isinstance(path, list) else [path])]
    for p in paths:
        if not p.exists():
            raise FileNotFoundError(f"{p}: no such file or folder")
    source = " ".join(str(p) for p in paths)
    shards = token_files(paths)
    if shards:
        corpus = TokenShards(shards, verify=True)
        rows = sample_rows(corpus, n_sequences, seed, f"{source} ({len(shards)} shards)")
        stats = summarise(token_ratios(corpus.read(rows), level), level)
        stats |= {
            "unit": "token",
            "bytes_per_token": TOKEN_BYTES,
            "sequence_length": corpus.context,
            **corpus_kind(corpus.metas[0]),
        }
    else:
        data = text_bytes(paths)
        if not data:
            raise CorpusError(f"{source}: no data to measure")
        n_windows = len(data) // TEXT_WINDOW
        rows = pick_sequences(n_windows, n_sequences, seed, f"{source} ({len(data)} bytes)")
        windows = [data[r * TEXT_WINDOW : (r + 1) * TEXT_WINDOW] for r in rows]
        stats = summarise(byte_ratios(windows, level), level)
        stats |= {"unit": "byte", "bytes_per_token": 1, "sequence_length": TEXT_WINDOW}
        stats |= {"kind": "text", "tokenizer": None}
    return stats | {"seed": seed, "source": source}
