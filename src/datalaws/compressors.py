"""Compressibility beyond gzip: which summary of a corpus predicts its scaling law?

Every measure reads the same sequences as gzip H (the same seeded sample of rows, 1000 by
default), so they differ only in how they compress:

* ``gzip``, ``zstd`` (level 19), ``bz2`` (level 9), ``lzma`` (raw LZMA2, preset 9, a 64 KiB
  dictionary: a row is 1 KiB, and a larger dictionary only costs time): compressed bytes over raw
  bytes, per sequence;
* ``unigram``: the sequence's order-0 entropy over the bits a symbol takes raw (32 for a token id,
  8 for a byte), the ratio an ideal coder of single-symbol frequencies would reach, for free.

Each is taken on two forms of the sequence: ``tokens``, the ids as 4-byte big-endian ints (the
paper's gzip H is ``gzip_tokens``), and ``text``, the sequence's text as UTF-8: a dataset row
decoded by its tokenizer (special tokens dropped), a grammar row as its terminal ids written in
decimal, space-separated, one sentence per line (a PCFG has no other text). Already-tokenised
datasets have no text form; their text measures are null. Every ratio includes its compressor's
fixed framing, reported per compressor (the cost of compressing nothing).
"""

from __future__ import annotations

import bz2
import gzip
import lzma
from collections.abc import Callable
from pathlib import Path

import numpy as np

from datalaws.compress import LEVEL, TOKEN_BYTES, corpus_kind, sample_rows, spread
from datalaws.corpus import TokenShards
from datalaws.grammar import SEPARATOR

FORMAT = "datalaws-compress-v1"
FORMS = ("tokens", "text")
LZMA_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 9, "dict_size": 1 << 16}]
ZSTD_LEVEL = 19


def _zstd() -> Callable[[bytes], bytes]:
    import zstandard

    return zstandard.ZstdCompressor(
        level=ZSTD_LEVEL, write_checksum=False, write_content_size=False
    ).compress


def compressors() -> dict[str, Callable[[bytes], bytes]]:
    """Name -> deterministic one-shot compressor."""
    return {
        "gzip": lambda raw: gzip.compress(raw, compresslevel=LEVEL, mtime=0),
        "zstd": _zstd(),
        "bz2": lambda raw: bz2.compress(raw, 9),
        "lzma": lambda raw: lzma.compress(raw, format=lzma.FORMAT_RAW, filters=LZMA_FILTERS),
    }


def measure_names() -> list[str]:
    return [f"{name}_{form}" for form in FORMS for name in [*compressors(), "unigram"]]


def unigram_ratio(symbols: np.ndarray, bits_per_symbol: int) -> float:
    """Order-0 entropy of one sequence (plug-in estimate) over the raw bits per symbol."""
    _, counts = np.unique(symbols, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum() / bits_per_symbol)


def grammar_text(row: np.ndarray) -> bytes:
    """A grammar row as text: decimal terminal ids, space-separated, one sentence per line."""
    lines, words = [], []
    for token in np.asarray(row).tolist():
        if token == SEPARATOR:
            lines.append(" ".join(words) + "\n")
            words = []
        else:
            words.append(str(token))
    return ("".join(lines) + " ".join(words)).encode("ascii")


def text_renderer(meta: dict, tokenizer: str | Path | None) -> Callable[[np.ndarray], bytes] | None:
    """How a corpus row becomes text: by kind of corpus, None where there is no text form."""
    kind = corpus_kind(meta)
    if kind["kind"] == "grammar":
        return grammar_text
    if kind["kind"] != "dataset" or kind["tokenizer"] == "tokens":
        return None
    if tokenizer is None:
        raise ValueError(f"{meta['dataset']['name']}: a dataset's text measures need --tokenizer")
    from datalaws.datasets.tokenizer import text_decoder

    return text_decoder(tokenizer, meta["dataset"]["tokenizer"])


def row_measures(
    forms: dict[str, bytes | np.ndarray], table: dict[str, Callable[[bytes], bytes]]
) -> dict[str, float]:
    """Every measure of one sequence given its forms (token ids as int array, text as bytes) and
    the compressors (``compressors()``)."""
    out = {}
    for form, data in forms.items():
        raw = np.ascontiguousarray(data, dtype=">i4").tobytes() if form == "tokens" else data
        if not raw:
            continue
        for name, compress in table.items():
            out[f"{name}_{form}"] = len(compress(raw)) / len(raw)
        symbols = np.asarray(data) if form == "tokens" else np.frombuffer(raw, np.uint8)
        out[f"unigram_{form}"] = unigram_ratio(symbols, 8 * TOKEN_BYTES if form == "tokens" else 8)
    return out


def measure_all(
    paths: list[str | Path], n_sequences: int = 1000, seed: int = 0, tokenizer: str | None = None
) -> dict:
    """Every measure of a token corpus on the rows gzip H samples (same seed, same rows)."""
    corpus = TokenShards([Path(p) for p in paths], verify=True)
    rows = sample_rows(corpus, n_sequences, seed, f"{len(paths)} shard(s) from {paths[0]}")
    render = text_renderer(corpus.metas[0], tokenizer)
    values: dict[str, list[float]] = {name: [] for name in measure_names()}
    table = compressors()
    for row in corpus.read(rows):
        forms = {"tokens": row} | ({"text": render(row)} if render else {})
        for name, value in row_measures(forms, table).items():
            values[name].append(value)
    return {
        "format": FORMAT,
        "n_sequences": int(rows.size),
        "seed": seed,
        "sequence_length": corpus.context,
        "source": [str(p) for p in paths],
        **corpus_kind(corpus.metas[0]),
        "measures": {k: (spread(v) | {"n": len(v)} if v else None) for k, v in values.items()},
        "framing_bytes": {k: len(c(b"")) for k, c in table.items()},
    }
