"""Real corpora as first-class sources of the study, beside the grammars.

A dataset is a local source (text, HTML, JSONL, Parquet or already-tokenised files) that flows
through the same files as a grammar: tokenised shards with the corpus sidecar contract, gzip and
the other compressibility measures, training runs and laws. The stages, each a cached rule:
documents (read, hash, hold out validation by document) -> tokenizer (byte-level, a BPE trained on
the training split, or the user's tokenizer.json) -> corpus (encode, pack into context-length
sequences, shard). See docs/datasets.md.
"""

from __future__ import annotations

from datalaws.grammar import SEPARATOR

BOUNDARY = 1
"""Id that ends every document in byte-level and BPE corpora (the separator 0 stays reserved)."""
BYTE_OFFSET = 2
"""Byte b is token b + BYTE_OFFSET, so ids 0 and 1 never collide with text."""
BYTE_VOCAB = 256 + BYTE_OFFSET

__all__ = ["BOUNDARY", "BYTE_OFFSET", "BYTE_VOCAB", "SEPARATOR", "DatasetError"]


class DatasetError(ValueError):
    """A dataset whose source, tokenizer or size cannot make the requested corpus; the message
    names the file or key and the problem."""
