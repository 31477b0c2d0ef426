"""Which compressibility measure predicts the law? Rank correlations across trained sources.

For every measure (gzip, zstd, bz2, lzma and unigram entropy, on token ids and on text; see
:mod:`datalaws.compressors`) and every target (the fitted E, A, B, alpha, beta, and the
compute-optimal tokens per parameter at a fixed compute C): Spearman's rank correlation, across the
sources, between the measure's median and the target of the source's fitted law. Ranks, because
nothing says the relation is linear, and because measures on different scales (bytes, 4-byte ids)
are then compared on equal terms.

The interval comes from a bootstrap that carries both uncertainties: each replicate draws the
sources with replacement and, for each drawn source, one of its own law's bootstrap fits. The
best measures for a target are those with the largest |rho| (ties kept); ``p_best`` is the share
of replicates in which each was among the best, which says how sure that ranking is. Replicates
with fewer than ``MIN_SOURCES`` distinct sources, or where a column is constant, give no
correlation and are counted, not filled in.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from datalaws import compressors
from datalaws.atomic import read_json, write_json
from datalaws.compare import MIN_SOURCES
from datalaws.laws import PathArg
from datalaws.laws.chinchilla import NATURAL, to_natural
from datalaws.laws.frontier import allocation
from datalaws.laws.lawfile import finite_or_none, load_law
from datalaws.laws.runs import read_runs_csv
from datalaws.laws.steps import write_csv

FORMAT = "datalaws-predictors-v1"
TARGETS = (*NATURAL, "tokens_per_param")


def law_targets(theta: np.ndarray, compute: float) -> np.ndarray:
    """(K, 6): E, A, B, alpha, beta and tokens per parameter at ``compute`` of each law."""
    theta = np.atleast_2d(theta)
    ratio = allocation(theta, np.array([compute]))["tokens_per_param"][:, :1]
    return np.hstack([to_natural(theta), ratio])


def spearman(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman's rho of x (S,) with each column of y (S, T); NaN where a column is constant or
    holds NaN (an undefined frontier)."""
    rx = rankdata(x)
    out = np.full(y.shape[1], np.nan)
    for j in range(y.shape[1]):
        col = y[:, j]
        if not np.all(np.isfinite(col)):
            continue
        ry = rankdata(col)
        if np.ptp(rx) == 0 or np.ptp(ry) == 0:
            continue
        out[j] = float(np.corrcoef(rx, ry)[0, 1])
    return out


def rank_correlations(
    measures: dict[str, np.ndarray],
    point: np.ndarray,
    samples: Sequence[np.ndarray],
    *,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict:
    """Rho of every measure with every target, bootstrap intervals, and the best measure.

    ``measures``: name -> (S,) values per source; ``point``: (S, T) targets of the fitted laws;
    ``samples``: per source, (K_s, T) targets of its bootstrap laws.
    """
    n_src = point.shape[0]
    if n_src < MIN_SOURCES:
        raise ValueError(f"predictors: {n_src} sources; a rank correlation needs {MIN_SOURCES}")
    names = [m for m, v in measures.items() if np.all(np.isfinite(v))]
    rng = np.random.default_rng(seed)
    boot = np.full((n_resamples, len(names), point.shape[1]), np.nan)
    for b in range(n_resamples):
        idx = rng.integers(0, n_src, n_src)
        if np.unique(idx).size < MIN_SOURCES:
            continue
        y = np.vstack([samples[s][rng.integers(len(samples[s]))] for s in idx])
        for m, name in enumerate(names):
            boot[b, m] = spearman(measures[name][idx], y)
    tail = (1 - level) / 2
    rows = []
    for m, name in enumerate(names):
        rho = spearman(measures[name], point)
        for t, target in enumerate(TARGETS):
            valid = boot[:, m, t][np.isfinite(boot[:, m, t])]
            lo, hi = np.quantile(valid, [tail, 1 - tail]) if valid.size else (np.nan, np.nan)
            rows.append(
                {
                    "measure": name,
                    "target": target,
                    "rho": rho[t],
                    "rho_lo": float(lo),
                    "rho_hi": float(hi),
                    "n_valid_resamples": int(valid.size),
                }
            )
    return {"table": rows, "best": _best(names, rows, boot), "n_sources": n_src, "level": level}


def _best(names: list[str], rows: list[dict], boot: np.ndarray) -> dict:
    """Per target: the measures with the largest |rho| (ties kept: with few sources many measures
    rank the sources alike), and for each the share of replicates in which it is among the best."""
    out = {}
    for t, target in enumerate(TARGETS):
        rhos = np.array([r["rho"] for r in rows if r["target"] == target], dtype=float)
        if not np.any(np.isfinite(rhos)):
            out[target] = None
            continue
        strength = np.abs(rhos)
        top = np.flatnonzero(np.isclose(strength, np.nanmax(strength), rtol=0, atol=1e-12))
        reps = np.abs(boot[:, :, t])
        reps = reps[np.all(np.isfinite(reps), axis=1)]
        among = np.isclose(reps, reps.max(axis=1, keepdims=True), rtol=0, atol=1e-12)
        out[target] = {
            "measures": [names[m] for m in top],
            "rho": [float(rhos[m]) for m in top],
            "p_best": [float(among[:, m].mean()) if len(reps) else None for m in top],
        }
    return out


def middle_compute(runs: pd.DataFrame) -> float:
    """The geometric middle of the trained runs' compute (6ND)."""
    c = 6.0 * runs["N"].to_numpy(float) * runs["D"].to_numpy(float)
    return float(np.sqrt(c.min() * c.max()))


def compare(
    names: Sequence[str],
    compress_jsons: Sequence[PathArg],
    law_jsons: Sequence[PathArg],
    runs_csv: PathArg,
    out_json: PathArg,
    out_csv: PathArg,
    *,
    compute: float | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> None:
    """The workflow step: read every source's measures and law, write the JSON and the table."""
    compute = compute or middle_compute(read_runs_csv(runs_csv))
    stats = [read_json(p) for p in compress_jsons]
    laws = [load_law(p) for p in law_jsons]
    measure_names = [m for m in compressors.measure_names() if m in stats[0]["measures"]]
    measures = {
        m: np.array(
            [np.nan if s["measures"][m] is None else s["measures"][m]["median"] for s in stats]
        )
        for m in measure_names
    }
    point = np.vstack([law_targets(law.law.theta, compute)[0] for law in laws])
    samples = [law_targets(law.samples, compute) for law in laws]
    result = rank_correlations(
        measures, point, samples, n_resamples=n_resamples, seed=seed, level=level
    )
    sources = {
        name: {
            "kind": s.get("kind", "grammar"),
            "tokenizer": s.get("tokenizer"),
            "measures": {m: finite_or_none(measures[m][i]) for m in measure_names},
            "targets": {t: finite_or_none(point[i, j]) for j, t in enumerate(TARGETS)},
        }
        for i, (name, s) in enumerate(zip(names, stats, strict=True))
    }
    skipped = [m for m in measure_names if not np.all(np.isfinite(measures[m]))]
    table = [
        {k: finite_or_none(v) if isinstance(v, float) else v for k, v in r.items()}
        for r in result["table"]
    ]
    write_json(
        out_json,
        {
            "format": FORMAT,
            "method": "Spearman rho across sources; bootstrap over sources and each law's fits",
            "compute": compute,
            "sources": sources,
            "skipped_measures": skipped,
            "bootstrap": {"n_resamples": n_resamples, "seed": seed},
            **result,
            "table": table,
        },
    )
    write_csv(out_csv, pd.DataFrame(table))
