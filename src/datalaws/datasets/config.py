"""The ``datasets`` config section: defaults, seeds, local sources, and checks before any job.

What a JSON schema cannot see is checked here, so a bad dataset is refused with its name, the key
or file, and the problem before Snakemake starts a job: a URL (nothing is downloaded at run time),
a source that matches no file or holds no bytes, a vocabulary that does not fit the dtype, a
tokenizer file without its boundary token, and a source too small for ``data.train_tokens``
(unless ``repeat`` allows repetition).
"""

from __future__ import annotations

import glob
import json
import re
from pathlib import Path
from typing import Any

import yaml

from datalaws.config import SCHEMA as MAIN_SCHEMA
from datalaws.config import derive_seed
from datalaws.datasets import BYTE_VOCAB, DatasetError

URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
SCHEMA = MAIN_SCHEMA.parent / "datasets.schema.yaml"


def _schema_defaults(properties: dict) -> dict[str, Any]:
    return {k: v["default"] for k, v in properties.items() if "default" in v}


# The schema is the one copy of every default; those that depend on the format or the tokenizer
# kind (field, column, a BPE's settings) are applied by ``settings``.
_ITEM = yaml.safe_load(SCHEMA.read_text())["items"]["properties"]
DEFAULTS = _schema_defaults(_ITEM)
TOKENIZER_DEFAULTS = _schema_defaults(_ITEM["tokenizer"]["properties"])
TOKENIZER_KEYS = {
    "byte": {"kind"},
    "bpe": {"kind", "vocab_size", "min_frequency", "boundary"},
    "file": {"kind", "path", "boundary"},
}
FIELD_DEFAULTS = {"jsonl": ("field", "text"), "parquet": ("column", "text")}
DTYPE_MAX_VOCAB = {"uint16": 1 << 16, "uint32": 1 << 32}
BPE_BOUNDARY = "<doc>"
BPE_SEPARATOR = "<sep>"
# Which keys each stage's output depends on: a stage reruns only when one of its own keys changes.
STAGE_KEYS = {
    "documents": (
        "name",
        "source",
        "format",
        "field",
        "column",
        "documents",
        "encoding_errors",
        "val_fraction",
        "tokens",
    ),
    "tokenizer": ("name", "tokenizer", "dtype"),
    "corpus": ("name", "format", "tokenizer", "dtype", "repeat"),
}
STAGE_KEYS["tokens"] = tuple(dict.fromkeys(STAGE_KEYS["documents"] + STAGE_KEYS["corpus"]))


def entries(config: dict) -> list[dict]:
    return list(config.get("datasets") or [])


def names(config: dict) -> list[str]:
    return [d["name"] for d in entries(config)]


def settings(raw: dict) -> dict:
    """One dataset entry with every default filled in (format-specific ones included)."""
    out = DEFAULTS | raw
    if out["format"] in FIELD_DEFAULTS:
        key, default = FIELD_DEFAULTS[out["format"]]
        out.setdefault(key, default)
    if out["format"] != "tokens":
        kind = (raw.get("tokenizer") or {}).get("kind", TOKENIZER_DEFAULTS["kind"])
        given = {"kind": kind} | (raw.get("tokenizer") or {})
        if kind == "bpe":
            given = {"min_frequency": TOKENIZER_DEFAULTS["min_frequency"]} | given
            given.setdefault("boundary", BPE_BOUNDARY)
        out["tokenizer"] = given
    return out


def entry(config: dict, name: str) -> dict:
    for raw in entries(config):
        if raw["name"] == name:
            return settings(raw)
    raise DatasetError(f"datasets: no dataset named {name!r}")


def dataset_seed(config: dict, name: str) -> int:
    """The dataset's seed (split and row order): given, or derived from the root seed and name."""
    return int(entry(config, name).get("seed", derive_seed(config["seed"], "dataset", name)))


def stage_spec(config: dict, name: str, stage: str) -> dict:
    """The keys of one dataset that one stage depends on."""
    spec = entry(config, name)
    return {k: spec[k] for k in STAGE_KEYS[stage] if k in spec}


def stage_json(config: dict, name: str, stage: str) -> str:
    """``stage_spec`` as canonical JSON: a rule's param, so only its own keys cause a rerun."""
    return json.dumps(stage_spec(config, name, stage), sort_keys=True, separators=(",", ":"))


def patterns(spec: dict) -> list[str]:
    source = spec["source"]
    return [source] if isinstance(source, str) else list(source)


def _where(spec: dict) -> str:
    return f"datasets[{spec['name']}]"


def refuse_urls(spec: dict) -> None:
    for pattern in patterns(spec):
        if URL.match(pattern):
            raise DatasetError(
                f"{_where(spec)}.source: {pattern!r} is a URL; datalaws never downloads at run "
                "time: fetch the data yourself and give the local file, folder or glob"
            )


def resolve_sources(spec: dict) -> list[Path]:
    """The source files, sorted: globs expanded (``**`` recurses), folders read recursively.

    Relative patterns are read from the working directory, as every path of the workflow is.
    """
    refuse_urls(spec)
    found: set[Path] = set()
    for pattern in patterns(spec):
        matched = [Path(p) for p in glob.glob(pattern, recursive=True)]
        if not matched:
            raise DatasetError(
                f"{_where(spec)}.source: {pattern!r} matches no file or folder "
                f"(relative paths are read from {Path.cwd()})"
            )
        for path in matched:
            if path.is_dir():
                found.update(p for p in path.rglob("*") if p.is_file())
            elif path.is_file():
                found.add(path)
    if not found:
        raise DatasetError(f"{_where(spec)}.source: {patterns(spec)} holds no files")
    return sorted(found, key=str)


def dtype_capacity(spec: dict) -> int | None:
    """Largest vocabulary the configured dtype holds (None for auto: the corpus picks one)."""
    return DTYPE_MAX_VOCAB.get(spec["dtype"])


def check_vocab_fits(spec: dict, vocab_size: int, what: str) -> None:
    capacity = dtype_capacity(spec)
    if capacity is not None and vocab_size > capacity:
        raise DatasetError(
            f"{_where(spec)}: {what} has {vocab_size} token ids, but dtype {spec['dtype']} holds "
            f"ids up to {capacity - 1}; use dtype: uint32 or auto"
        )


def _check_tokenizer(spec: dict) -> None:
    if spec["format"] == "tokens":
        if "tokens" not in spec:
            raise DatasetError(f"{_where(spec)}.tokens: format tokens needs dtype and vocab_size")
        layout = spec["tokens"]
        if layout["vocab_size"] > DTYPE_MAX_VOCAB[layout["dtype"]]:
            raise DatasetError(
                f"{_where(spec)}.tokens: vocab_size {layout['vocab_size']} does not fit the "
                f"source dtype {layout['dtype']}"
            )
        boundary = layout.get("boundary")
        if boundary is not None and boundary >= layout["vocab_size"]:
            raise DatasetError(
                f"{_where(spec)}.tokens.boundary: {boundary} is not below vocab_size "
                f"{layout['vocab_size']}"
            )
        check_vocab_fits(spec, layout["vocab_size"], "the token files' vocabulary")
        return
    if "tokens" in spec:
        raise DatasetError(f"{_where(spec)}.tokens: only for format tokens")
    tok = spec["tokenizer"]
    kind = tok["kind"]
    extra = sorted(set(tok) - TOKENIZER_KEYS[kind])
    if extra:
        raise DatasetError(f"{_where(spec)}.tokenizer: {extra} do not apply to kind {kind}")
    if kind == "byte":
        check_vocab_fits(spec, BYTE_VOCAB, "the byte-level tokenizer")
    elif kind == "bpe":
        if "vocab_size" not in tok:
            raise DatasetError(f"{_where(spec)}.tokenizer.vocab_size: kind bpe needs one")
        check_vocab_fits(spec, tok["vocab_size"], "the BPE tokenizer")
    else:
        from datalaws.datasets.tokenizer import check_tokenizer_file

        for key in ("path", "boundary"):
            if key not in tok:
                raise DatasetError(f"{_where(spec)}.tokenizer.{key}: kind file needs one")
        refuse_urls({"name": spec["name"], "source": tok["path"]})
        check_tokenizer_file(spec)


def _check_format_keys(spec: dict) -> None:
    for key, fmt in (("field", "jsonl"), ("column", "parquet")):
        if key in spec and spec["format"] != fmt:
            raise DatasetError(f"{_where(spec)}.{key}: only for format {fmt}")


def source_bytes_bound(spec: dict, files: list[Path]) -> int | None:
    """An upper bound on the tokens a source can give, where one is cheap (no file is read).

    Text, HTML and JSONL with the byte-level or BPE tokenizer: every token covers at least one
    byte of the file, and each document boundary at least its delimiter (a file, a blank line, a
    newline, or a JSONL line's braces), so tokens <= file bytes + files. Token files: their size
    over the item size. None where no cheap bound exists (Parquet is compressed; a user's
    tokenizer may emit more tokens than bytes).
    """
    size = sum(p.stat().st_size for p in files)
    if spec["format"] == "tokens":
        return size // (2 if spec["tokens"]["dtype"] == "uint16" else 4)
    if spec["format"] == "parquet" or spec["tokenizer"]["kind"] == "file":
        return None
    return size + len(files)


def check_size(spec: dict, files: list[Path], data: dict) -> None:
    """Refuse a source that cannot hold ``data.train_tokens`` unless repetition is allowed."""
    bound = source_bytes_bound(spec, files)
    if spec["repeat"] or bound is None:
        return
    needed = data["train_tokens"]
    if bound < needed:
        raise DatasetError(
            f"{_where(spec)}: its {len(files)} source file(s) can give at most {bound} tokens, "
            f"fewer than data.train_tokens = {needed} (which must cover the largest budget); "
            "add data, lower data.train_tokens and train.budgets, or set repeat: true"
        )


def check_datasets(config: dict) -> None:
    """Every dataset's cross-key rules (see the module docstring); raises DatasetError."""
    for raw in entries(config):
        spec = settings(raw)
        _check_format_keys(spec)
        _check_tokenizer(spec)
        files = resolve_sources(spec)
        if sum(p.stat().st_size for p in files) == 0:
            raise DatasetError(
                f"{_where(spec)}.source: every matched file is empty ({len(files)} file(s), "
                f"first {files[0]})"
            )
        check_size(spec, files, config["data"])
