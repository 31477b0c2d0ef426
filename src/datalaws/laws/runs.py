"""Runs tables: read and check a user's CSV, or build one from training runs' final.json files.

Every law in this package is fitted to a table with one row per training run and at least the
columns N (parameters), D (training tokens) and loss (nats per token). Bad tables are refused with a
message naming the column and rows, because a law fitted to a silently repaired table is worse than
no law.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from datalaws.atomic import read_json

REQUIRED = ("N", "D", "loss")
MIN_RUNS = 5
N_PARAM_KEYS = {"nonembedding": "n_params_nonembedding", "total": "n_params"}
LOSS_KEYS = {"val": "val_loss", "train": "train_loss"}


class RunsError(ValueError):
    """A runs table that cannot be fitted."""


def _rows(mask: np.ndarray) -> str:
    idx = np.flatnonzero(mask)
    shown = ", ".join(str(i + 2) for i in idx[:5])  # +2: header line, 1-based lines
    more = f" and {idx.size - 5} more" if idx.size > 5 else ""
    return f"line(s) {shown}{more}"


def validate_runs(table: pd.DataFrame, source: str = "runs") -> pd.DataFrame:
    """Check N, D, loss are present, numeric, finite and positive, with at least MIN_RUNS runs."""
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise RunsError(
            f"{source}: missing column(s) {', '.join(missing)}; "
            f"need {', '.join(REQUIRED)}, found {', '.join(map(str, table.columns)) or 'none'}"
        )
    out = table.copy()
    for col in REQUIRED:
        values = pd.to_numeric(out[col], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values)
        if bad.any():
            raise RunsError(
                f"{source}: column {col} is missing or not a finite number on {_rows(bad)}"
            )
        if (values <= 0).any():
            raise RunsError(
                f"{source}: column {col} must be positive, but is <= 0 on {_rows(values <= 0)}"
            )
        out[col] = values
    if len(out) < MIN_RUNS:
        raise RunsError(f"{source}: {len(out)} run(s); a law needs at least {MIN_RUNS}")
    for col in ("N", "D"):
        if out[col].nunique() < 2:
            raise RunsError(f"{source}: column {col} takes one value only; the law needs >= 2")
    return out


def read_runs_csv(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read and check a runs CSV (extra columns are kept and ignored by the fit)."""
    try:
        table = pd.read_csv(path)
    except pd.errors.EmptyDataError as err:
        raise RunsError(f"{path}: empty file, expected a CSV with columns N, D, loss") from err
    except pd.errors.ParserError as err:
        raise RunsError(f"{path}: not a readable CSV ({err})") from err
    return validate_runs(table, str(path))


def gzip_h(gzip_jsons: Iterable[str | os.PathLike[str]]) -> list[float]:
    """H (the median gzip ratio) from each gzip statistics file, refusing files without one."""
    out = []
    for path in gzip_jsons:
        stats = read_json(path)
        if "median" not in stats:
            raise RunsError(f"{path}: no 'median' key; not a gzip statistics file")
        out.append(float(stats["median"]))
    return out


def source_kind(gzip_json: str | os.PathLike[str]) -> str:
    """What a source is, from its gzip statistics: ``grammar``, or ``dataset/<tokenizer>``
    (statistics written before datasets existed are grammars')."""
    stats = read_json(gzip_json)
    kind = stats.get("kind", "grammar")
    return f"{kind}/{stats['tokenizer']}" if stats.get("tokenizer") else kind


def collect_runs(
    final_jsons: Iterable[str | os.PathLike[str]],
    gzip_json: str | os.PathLike[str],
    *,
    n_param: str = "nonembedding",
    loss: str = "val",
) -> pd.DataFrame:
    """One grammar's runs table from its final.json files and gzip statistics.

    N is the non-embedding or total parameter count (``n_param``), D the tokens actually trained,
    loss the final validation or training loss (``loss``); the other fields ride along for plots.
    """
    if n_param not in N_PARAM_KEYS:
        raise RunsError(f"n_param must be one of {sorted(N_PARAM_KEYS)}, got {n_param!r}")
    if loss not in LOSS_KEYS:
        raise RunsError(f"loss must be one of {sorted(LOSS_KEYS)}, got {loss!r}")
    (h,) = gzip_h([gzip_json])
    kind = source_kind(gzip_json)
    rows = []
    for path in final_jsons:
        run = read_json(path)
        needed = ["grammar", "size", "budget", "tokens", N_PARAM_KEYS[n_param], LOSS_KEYS[loss]]
        absent = [k for k in needed if k not in run]
        if absent:
            raise RunsError(f"{path}: missing key(s) {', '.join(absent)}")
        rows.append(
            {
                "grammar": run["grammar"],
                "size": run["size"],
                "budget": int(run["budget"]),
                "N": float(run[N_PARAM_KEYS[n_param]]),
                "D": float(run["tokens"]),
                "loss": float(run[LOSS_KEYS[loss]]),
                "H": h,
                "kind": kind,
                "n_params": run.get("n_params"),
                "n_params_nonembedding": run.get("n_params_nonembedding"),
                "train_loss": run.get("train_loss"),
                "val_loss": run.get("val_loss"),
                "source": Path(path).as_posix(),
            }
        )
    if not rows:
        raise RunsError(f"no final.json files given for {gzip_json}")
    table = pd.DataFrame(rows).sort_values(["N", "D"], kind="stable").reset_index(drop=True)
    return validate_runs(table, f"runs of grammar {rows[0]['grammar']}")
