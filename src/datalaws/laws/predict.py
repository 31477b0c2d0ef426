"""Predict a new dataset's law and compute-optimal allocation from its gzip compressibility.

The H-conditioned law fitted on the study's sources is evaluated at the dataset's H, bootstrap law
by bootstrap law, so the intervals carry the study's fit uncertainty. The prediction says what it
stands on, in words rather than in a footnote:

* the family the law was fitted on (grammars, real datasets, or both) and that family's H range;
* a warning when the dataset's H lies outside that range (an extrapolation of a line through a
  handful of sources), and when the dataset is of a kind the law was not fitted on (real text
  against a law of grammars, a BPE corpus against byte-level ones, ...);
* the scale of H. The law's H is the gzip ratio of 4-byte token ids. Text is therefore measured
  the way the study measures a byte-level dataset (UTF-8 bytes as ids, packed into ``context``-long
  sequences with document boundaries), never as raw bytes, whose gzip ratio lies on another scale
  (about three times higher); that raw-byte ratio is shown beside it, labelled as not comparable.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from datalaws.laws.frontier import allocation_table, flag_extrapolation, format_allocation
from datalaws.laws.hlaw import HLawFile, load_h_law
from datalaws.laws.lawfile import finite_or_none
from datalaws.laws.validity import box_of_sources, refuse_unphysical

GZIP_SEQUENCES = 1000
CONTEXT = 256
FAMILIES = {
    frozenset({"grammar"}): "grammars",
    frozenset({"dataset"}): "real datasets",
    frozenset({"grammar", "dataset"}): "grammars and real datasets",
}
KIND_WORDS = {
    "grammar": "PCFG grammar corpora",
    "dataset/byte": "real data tokenised at the byte level",
    "dataset/bpe": "real data tokenised with a BPE",
    "dataset/file": "real data tokenised with a user's tokenizer",
    "dataset/tokens": "already-tokenised real data",
    "unknown": "a token corpus whose sidecar names neither a grammar nor a dataset",
}


def _text_paths(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]


def measure_h(
    path: str | os.PathLike[str],
    seed: int = 0,
    context: int = CONTEXT,
    encoding_errors: str = "strict",
) -> tuple[float, dict[str, Any]]:
    """H on the law's scale (gzip of 4-byte token ids) of token shards or of text.

    Text files (or a folder of them, one document per file) are byte-level tokenised and packed as
    a byte-level dataset of the study is; the gzip ratio of their raw bytes rides along as
    ``text_bytes_H``, on its own scale.
    """
    from datalaws.compress import measure, pick_sequences, summarise, token_files, token_ratios

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if token_files([path]):
        stats = measure(path, n_sequences=GZIP_SEQUENCES, seed=seed)
        summary = {k: v for k, v in stats.items() if k != "ratios"}
        summary["data_kind"] = _kind(summary)
        return float(stats["median"]), summary
    from datalaws.datasets import BOUNDARY
    from datalaws.datasets.pack import pack
    from datalaws.datasets.sources import read_documents
    from datalaws.datasets.tokenizer import ByteTokenizer

    spec = {"name": str(path), "format": "text", "documents": "file"}
    docs, _ = read_documents(_text_paths(path), spec | {"encoding_errors": encoding_errors})
    rows, _ = pack(ByteTokenizer().encode([d.text for d in docs]), BOUNDARY, context)
    picked = pick_sequences(
        len(rows), GZIP_SEQUENCES, seed, f"{path} ({len(rows)} sequences of {context})"
    )
    stats = summarise(token_ratios(rows[picked]))
    summary = {k: v for k, v in stats.items() if k != "ratios"}
    summary |= {"unit": "token", "bytes_per_token": 4, "sequence_length": context, "seed": seed}
    summary |= {"source": str(path), "kind": "dataset", "tokenizer": "byte"}
    summary["data_kind"] = "dataset/byte"
    summary["text_bytes_H"] = measure(path, n_sequences=GZIP_SEQUENCES, seed=seed)["median"]
    return float(stats["median"]), summary


def _kind(stats: dict[str, Any]) -> str:
    kind = stats.get("kind", "unknown")
    return f"{kind}/{stats['tokenizer']}" if stats.get("tokenizer") else kind


def basis(hlaw: HLawFile) -> dict[str, Any]:
    """What the law was fitted on: each source's kind, the family, its H range."""
    sources = hlaw.record.get("grammars", {})
    kinds = {name: info.get("kind", "grammar") for name, info in sources.items()}
    family = FAMILIES.get(frozenset(k.split("/")[0] for k in kinds.values()), "unknown sources")
    return {
        "family": family,
        "H_range": list(hlaw.h_range),
        "source_kinds": kinds,
        "kinds": sorted(set(kinds.values())),
        "kinds_recorded": all("kind" in info for info in sources.values()),
    }


def _warnings(h: float, fitted: dict[str, Any], data_kind: str | None) -> list[str]:
    lo, hi = fitted["H_range"]
    out = []
    if not lo <= h <= hi:
        out.append(
            f"WARNING: H = {h:.4g} lies OUTSIDE the range the law was fitted on "
            f"[{lo:.4g}, {hi:.4g}]; this is an extrapolation and may be badly wrong."
        )
    if data_kind is None:
        out.append(
            "WARNING: H was given, not measured, so its kind and scale are unknown; it must be a "
            "gzip ratio of 4-byte token ids (as `datalaws gzip` measures token shards), not of "
            "text bytes, whose ratios lie on a higher scale."
        )
    elif data_kind not in fitted["kinds"]:
        words = KIND_WORDS.get(data_kind, data_kind)
        fitted_words = ", ".join(KIND_WORDS.get(k, k) for k in fitted["kinds"])
        out.append(
            f"WARNING: your data is {words}; the law was fitted on {fitted_words} only. "
            "The H-law has not been tested on this kind of data (see results/compare/transfer.json "
            "of a study with real datasets for how far it carries)."
        )
    return out


def predict(
    law_path: str | os.PathLike[str],
    h: float,
    compute: list[float] | np.ndarray,
    measurement: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Law parameters at H and the compute-optimal allocation at each compute level, with the
    basis of the law and every warning (``measurement``: what ``measure_h`` found, if it ran)."""
    if not Path(law_path).exists():
        raise FileNotFoundError(
            f"{law_path}: no H-conditioned law; run the workflow's laws stage "
            "(it writes results/laws/h_law.json) or pass --law"
        )
    hlaw = load_h_law(law_path)
    lo, hi = hlaw.h_range
    inside = lo <= h <= hi
    fitted = basis(hlaw)
    params = hlaw.natural_at(h)
    box = box_of_sources(hlaw.record["grammars"], hlaw.record.get("loss_max", np.inf))
    refuse_unphysical({k: v["value"] for k, v in params.items()}, box, f"the H-law at H = {h:.4g}")
    point, boot = hlaw.law_at(h)
    rows = allocation_table(point, boot, np.asarray(compute, float), hlaw.level)
    rows = [{k: finite_or_none(v) for k, v in r.items()} for r in rows]
    data_kind = measurement["data_kind"] if measurement else None
    notes = [
        f"The law was fitted on {fitted['family']} "
        f"({len(fitted['source_kinds'])} sources, H from {lo:.4g} to {hi:.4g}).",
        box.describe(),
    ]
    if not fitted["kinds_recorded"]:
        notes[0] += " (Source kinds not recorded: assumed grammars.)"
    if inside:
        notes.append(
            f"H = {h:.4g} lies inside the range the law was fitted on [{lo:.4g}, {hi:.4g}]."
        )
    if measurement and "text_bytes_H" in measurement:
        notes.append(
            f"H was measured on your text as byte-level token ids (4 bytes per id, as the study "
            f"measures its corpora). The gzip ratio of the raw text bytes, "
            f"{measurement['text_bytes_H']:.4g}, is on a different scale and is not comparable "
            "with the law's H."
        )
    warnings = _warnings(h, fitted, data_kind) + flag_extrapolation(rows, box)
    result = {
        "H": h,
        "law": str(law_path),
        "H_range": [lo, hi],
        "inside_range": inside,
        "basis": fitted,
        "data_kind": data_kind,
        "notes": notes,
        "warnings": warnings,
        "ci_level": hlaw.level,
        "params": params,
        "allocations": rows,
    }
    if measurement is not None:
        result["measurement"] = measurement
    return result


def format_prediction(result: dict[str, Any]) -> str:
    """The prediction as text: H, the basis and warnings, the law at H and the allocations."""
    pct = round(100 * result["ci_level"])
    lines = [f"gzip compressibility H = {result['H']:.4g} (4-byte token ids)"]
    lines += result["notes"] + result["warnings"]
    lines.append(f"law at this H ({pct}% intervals, from {result['law']}):")
    for k, v in result["params"].items():
        lo, hi = v["interval"]
        lines.append(f"  {k:<6}{v['value']:>12.4g}  [{lo:.4g}, {hi:.4g}]")
    lines.append(format_allocation(result["allocations"], result["ci_level"]))
    return "\n".join(lines)
