"""Runs drawn from a known law, for tests, benchmarks and dry runs of the workflow.

Losses are the law's prediction times log-normal noise, so the truth behind every fit is known.
``write_study`` lays out final.json and gzip JSON files exactly as the train and data stages do
(docs/INTERFACES.md), with each grammar's law a function of its H, so the whole laws stage can be
run before any model is trained.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from datalaws.atomic import write_json
from datalaws.laws.chinchilla import Law

# A law in the range PCFG runs produce (nats per token), with all three terms mattering on the grid.
DEFAULT_LAW = Law.from_natural(E=0.8, A=60.0, B=150.0, alpha=0.35, beta=0.32)
SIZES = {"xs": 2.0e4, "s": 8.0e4, "m": 3.0e5, "l": 1.2e6, "xl": 5.0e6, "xxl": 2.0e7}
BUDGETS = (1e5, 3e5, 1e6, 3e6, 1e7, 3e7)


def make_runs(
    law: Law = DEFAULT_LAW,
    sizes: dict[str, float] | None = None,
    budgets: tuple[float, ...] = BUDGETS,
    *,
    noise: float = 0.02,
    seed: int = 0,
) -> pd.DataFrame:
    """A full grid of (size, budget) runs with log-normal noise of standard deviation ``noise``."""
    sizes = SIZES if sizes is None else sizes
    rng = np.random.default_rng(seed)
    rows = [(name, n, d) for name, n in sizes.items() for d in budgets]
    names, n, d = (np.array(col) for col in zip(*rows, strict=True))
    loss = law.loss(n.astype(float), d.astype(float)) * np.exp(rng.normal(0.0, noise, len(rows)))
    return pd.DataFrame({"size": names, "N": n.astype(float), "D": d.astype(float), "loss": loss})


def law_at(h: float) -> Law:
    """A law whose parameters move with H as the paper reports: all but E fall with H, alpha and
    beta cross near H = 0.27, and the frontier crosses Chinchilla's near H = 0.3 at C ~ 1e13."""
    return Law.from_natural(
        E=0.5 + 1.2 * h,
        A=float(np.exp(5.3 - 3.0 * h)),
        B=float(np.exp(6.0 - 3.0 * h)),
        alpha=0.40 - 0.20 * h,
        beta=0.46 - 0.42 * h,
    )


def write_study(
    root: str | os.PathLike[str],
    grammars: dict[str, float],
    *,
    noise: float = 0.02,
    seed: int = 0,
    embedding: float = 5.0e3,
) -> dict[str, dict[str, list[str] | str]]:
    """Write synthetic final.json and gzip JSON files for grammars {name: H} under ``root``.

    Returns, per grammar, the paths a real study would have: ``final_jsons`` and ``gzip_json``.
    """
    root = Path(root)
    out: dict[str, dict[str, list[str] | str]] = {}
    rng = np.random.default_rng(seed)
    for gi, (name, h) in enumerate(grammars.items()):
        runs = make_runs(law_at(h), noise=noise, seed=seed + gi)
        finals = []
        for row in runs.itertuples():
            path = root / "train" / name / row.size / str(int(row.D)) / "final.json"
            val = float(row.loss)
            write_json(
                path,
                {
                    "grammar": name,
                    "size": row.size,
                    "budget": int(row.D),
                    "n_params": int(row.N + embedding),
                    "n_params_nonembedding": int(row.N),
                    "tokens": int(row.D),
                    "flops_6nd": 6.0 * row.N * row.D,
                    "flops_exact": 6.6 * row.N * row.D,
                    "train_loss": val * 0.99,
                    "val_loss": val,
                    "val_curve": [[int(row.D) // 2, val * 1.1], [int(row.D), val]],
                    "wall_time_s": 1.0,
                    "tokens_per_s": float(row.D),
                    "config_hash": "synthetic",
                    "versions": {"datalaws": "synthetic"},
                    "world_size": 1,
                    "device": "cpu",
                    "dtype": "float32",
                },
            )
            finals.append(path.as_posix())
        ratios = np.clip(rng.normal(h, 0.02, 200), 0.01, None)
        gz = root / "gzip" / f"{name}.json"
        write_json(
            gz,
            {
                "median": float(h),
                "mean": float(ratios.mean()),
                "std": float(ratios.std()),
                "q25": float(np.quantile(ratios, 0.25)),
                "q75": float(np.quantile(ratios, 0.75)),
                "min": float(ratios.min()),
                "max": float(ratios.max()),
                "n_sequences": int(ratios.size),
                "sequence_length": 256,
                "unit": "token",
                "bytes_per_token": 4,
                "level": 9,
                "header_bytes": 18,
                "seed": seed,
                "ratios": ratios.tolist(),
                "source": f"synthetic/{name}",
            },
        )
        out[name] = {"final_jsons": finals, "gzip_json": gz.as_posix()}
    return out
