"""Documents from local source files, each file hashed so that a changed source is detected.

Formats: ``text`` (UTF-8 files; one document per file, blank-line paragraph or line), ``html``
(the same after HTML-to-text), ``jsonl`` (one JSON object per line, the document in ``field``) and
``parquet`` (the document in ``column``, read with pyarrow). Invalid UTF-8 is refused with the
file and byte offset, or, with ``encoding_errors: replace``, replaced by U+FFFD and counted.
Documents that are empty or only white space are skipped and counted; a source left with no
document at all is refused.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from datalaws.datasets import DatasetError
from datalaws.datasets.html_text import html_to_text

REPLACEMENT = "\ufffd"


@dataclass(frozen=True)
class Document:
    text: str
    source: str
    index: int


@dataclass
class FileRecord:
    """A source file as read: its identity (path, sha256, bytes) and what it gave."""

    path: str
    sha256: str
    bytes: int
    documents: int = 0
    empty: int = 0
    replaced: int = 0
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        out = asdict(self)
        out.update(out.pop("extra"))
        return out


def decode_utf8(data: bytes, path: Path, policy: str) -> tuple[str, int]:
    """UTF-8 text and the number of invalid sequences replaced (0 under ``strict``)."""
    try:
        return data.decode("utf-8"), 0
    except UnicodeDecodeError as err:
        if policy != "replace":
            raise DatasetError(
                f"{path}: not valid UTF-8 at byte {err.start} ({err.reason}); fix the file, or "
                "replace invalid bytes with U+FFFD (encoding_errors: replace in a dataset's "
                "config, --encoding-errors replace for datalaws predict)"
            ) from None
    text = data.decode("utf-8", errors="replace")
    return text, text.count(REPLACEMENT) - data.count(REPLACEMENT.encode())


def split_text(text: str, mode: str) -> list[str]:
    """One file's text as documents: the whole file, its paragraphs, or its lines."""
    if mode == "file":
        return [text]
    if mode == "paragraphs":
        return re.split(r"\n(?:[ \t]*\n)+", text)
    return text.split("\n")


def _json_documents(text: str, path: Path, key: str) -> list[str | None]:
    docs: list[str | None] = []
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise DatasetError(f"{path}:{lineno}: not valid JSON ({err.msg})") from None
        if not isinstance(record, dict):
            raise DatasetError(f"{path}:{lineno}: a JSON object expected, got {type(record)}")
        if key not in record:
            found = ", ".join(sorted(map(str, record))) or "none"
            raise DatasetError(f"{path}:{lineno}: no field {key!r} (fields: {found})")
        value = record[key]
        if value is not None and not isinstance(value, str):
            raise DatasetError(
                f"{path}:{lineno}: field {key!r} holds {type(value).__name__}, not a string"
            )
        docs.append(value)
    return docs


def _parquet_documents(path: Path, column: str) -> list[str | None]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (pa.ArrowInvalid, OSError) as err:
        raise DatasetError(f"{path}: not a readable Parquet file ({err})") from None
    if column not in schema.names:
        found = ", ".join(schema.names) or "none"
        raise DatasetError(f"{path}: no column {column!r} (columns: {found})")
    kind = schema.field(column).type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        raise DatasetError(f"{path}: column {column!r} holds {kind}, not strings")
    return pq.read_table(path, columns=[column]).column(column).to_pylist()


def file_documents(path: Path, spec: dict) -> tuple[list[Document], FileRecord]:
    """The documents of one source file and its record (hash, counts)."""
    data = path.read_bytes()
    record = FileRecord(str(path), hashlib.sha256(data).hexdigest(), len(data))
    fmt = spec["format"]
    if fmt == "parquet":
        texts = _parquet_documents(path, spec["column"])
    else:
        text, record.replaced = decode_utf8(data, path, spec["encoding_errors"])
        if fmt == "jsonl":
            texts = _json_documents(text, path, spec["field"])
        else:
            texts = split_text(html_to_text(text) if fmt == "html" else text, spec["documents"])
    docs = []
    for i, text in enumerate(texts):
        if text is None or not text.strip():
            record.empty += 1
        else:
            docs.append(Document(text, str(path), i))
    record.documents = len(docs)
    return docs, record


Reader = Callable[[Path, dict], tuple[list, FileRecord]]


def read_documents(
    files: list[Path], spec: dict, reader: Reader | None = None
) -> tuple[list, list[FileRecord]]:
    """Every document of the source files, in file order, and each file's record."""
    reader = reader or file_documents
    docs, records = [], []
    for path in files:
        if not path.is_file():
            raise DatasetError(f"{path}: source file not found (was it removed after planning?)")
        file_docs, record = reader(path, spec)
        docs.extend(file_docs)
        records.append(record)
    if not docs:
        raise DatasetError(
            f"datasets[{spec['name']}]: its {len(files)} source file(s) hold no document "
            f"(every one empty or white space; first file {files[0]})"
        )
    return docs, records
