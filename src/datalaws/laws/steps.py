"""File-level steps of the workflow's laws stage: each reads its inputs, calls the library and
writes its outputs atomically. Snakemake scripts (workflow/scripts/laws_*.py) only unpack paths
and call these, so every step can also be run, and tested, without Snakemake."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from datalaws.atomic import atomic_open, read_json, write_json
from datalaws.laws import PathArg
from datalaws.laws.approaches import compare
from datalaws.laws.bootstrap import law_resamples
from datalaws.laws.chinchilla import CHINCHILLA_LAW
from datalaws.laws.claim import claim_compute, measure_claim
from datalaws.laws.crossing import crossing_summary, grammar_crossings
from datalaws.laws.frontier import allocation, allocation_table
from datalaws.laws.hlaw import fit_h_law, load_h_law
from datalaws.laws.holdout import holdout
from datalaws.laws.hregress import h_regression
from datalaws.laws.lawfile import load_law
from datalaws.laws.runs import RunsError, collect_runs, gzip_h, read_runs_csv


def write_csv(path: PathArg, table: pd.DataFrame) -> None:
    with atomic_open(path) as handle:
        handle.write(table.to_csv(index=False).encode("utf-8"))


def collect(
    final_jsons: Sequence[PathArg], gzip_json: PathArg, out_csv: PathArg, **options
) -> None:
    """One grammar's runs table (options: n_param, loss)."""
    write_csv(out_csv, collect_runs(final_jsons, gzip_json, **options))


def combine(csvs: Sequence[PathArg], out_csv: PathArg) -> None:
    """All grammars' runs in one table."""
    write_csv(out_csv, pd.concat([read_runs_csv(p) for p in csvs], ignore_index=True))


def approaches(
    runs_csv: PathArg, law_json: PathArg, out_json: PathArg, level: float, **options
) -> None:
    """Approaches 1-3 for one grammar, on the law fit's own bootstrap resamples."""
    runs = read_runs_csv(runs_csv)
    law = load_law(law_json)
    boot = law.record["bootstrap"]
    if law.record["n_runs"] != len(runs):
        raise ValueError(f"{law_json} was fitted on {law.record['n_runs']} runs, not {runs_csv}")
    weights = law_resamples(runs["N"], runs["D"], boot["n_resamples"], boot["seed"])
    fr = law.record["frontier"]
    a3 = {"exponent": fr["n_opt_exponent"], "interval": fr["n_opt_exponent_interval"]}
    write_json(out_json, compare(runs, a3, weights, level=level, **options))


def held_out(runs_csv: PathArg, out_json: PathArg, **options) -> None:
    """Held-out extrapolation for one grammar; a grid too small to hold out is recorded, loudly."""
    try:
        result = holdout(read_runs_csv(runs_csv), **options)
    except RunsError as err:
        result = {"skipped": str(err)}
    write_json(out_json, result)


def merge(grammars: Sequence[str], jsons: Sequence[PathArg], out_json: PathArg) -> None:
    """Per-grammar JSON results under one file, keyed by grammar."""
    write_json(out_json, {g: read_json(p) for g, p in zip(grammars, jsons, strict=True)})


def regress_on_h(
    grammars: Sequence[str],
    law_jsons: Sequence[PathArg],
    gzip_jsons: Sequence[PathArg],
    out_json: PathArg,
    level: float,
) -> None:
    laws = {g: load_law(p) for g, p in zip(grammars, law_jsons, strict=True)}
    h = dict(zip(grammars, gzip_h(gzip_jsons), strict=True))
    write_json(out_json, h_regression(laws, h, level))


def h_law(
    runs_csv: PathArg,
    grammars: Sequence[str],
    law_jsons: Sequence[PathArg],
    out_json: PathArg,
    **options,
) -> None:
    thetas = {g: load_law(p).law.theta for g, p in zip(grammars, law_jsons, strict=True)}
    write_json(out_json, fit_h_law(read_runs_csv(runs_csv), thetas, **options))


def frontier_levels(runs: pd.DataFrame, n_points: int, extend_decades: float) -> np.ndarray:
    c = 6.0 * runs["N"].to_numpy(float) * runs["D"].to_numpy(float)
    span = 10.0**extend_decades
    return np.geomspace(c.min() / span, c.max() * span, n_points)


def frontiers(
    runs_csv: PathArg,
    grammars: Sequence[str],
    law_jsons: Sequence[PathArg],
    gzip_jsons: Sequence[PathArg],
    h_law_json: PathArg,
    out_csv: PathArg,
    out_json: PathArg,
    n_points: int,
    extend_decades: float,
) -> None:
    """Per-grammar frontiers beside Chinchilla's (CSV) and where they cross it (JSON)."""
    runs = read_runs_csv(runs_csv)
    levels = frontier_levels(runs, n_points, extend_decades)
    hs = gzip_h(gzip_jsons)
    laws = [load_law(p) for p in law_jsons]
    tables = []
    for g, h, law in zip(grammars, hs, laws, strict=True):
        part = pd.DataFrame(allocation_table(law.law.theta, law.samples, levels, law.level))
        tables.append(part.assign(grammar=g, H=h))
    chin = {k: v[0] for k, v in allocation(CHINCHILLA_LAW.theta, levels).items()}
    tables.append(pd.DataFrame({"compute": levels, **chin}).assign(grammar="chinchilla", H=np.nan))
    write_csv(out_csv, pd.concat(tables, ignore_index=True))

    hl = load_h_law(h_law_json)
    theta = np.vstack([law.law.theta for law in laws])
    picks = np.unique(np.r_[levels[:: max(1, n_points // 10)], levels[-1]])
    write_json(
        out_json,
        {
            "H_range": list(hl.h_range),
            "h_law": [
                crossing_summary(hl.theta, hl.samples, hl.h_ref, hl.h_range, c, hl.level)
                for c in picks
            ],
            "per_grammar": [
                {"compute": float(c), "H_cross": grammar_crossings(np.array(hs), theta, c)}
                for c in picks
            ],
        },
    )


def claim(
    runs_csv: PathArg,
    grammars: Sequence[str],
    law_jsons: Sequence[PathArg],
    gzip_jsons: Sequence[PathArg],
    h_law_json: PathArg,
    out_json: PathArg,
    level: float,
    compute: float | None = None,
) -> None:
    """Tokens per parameter against H at one compute level (default: the middle of the runs'
    compute range), the slope's interval and verdict, and the H-law's agreement with each fit."""
    laws = {g: load_law(p) for g, p in zip(grammars, law_jsons, strict=True)}
    h = dict(zip(grammars, gzip_h(gzip_jsons), strict=True))
    at = compute or claim_compute(read_runs_csv(runs_csv))
    write_json(out_json, measure_claim(laws, h, at, load_h_law(h_law_json), level))
