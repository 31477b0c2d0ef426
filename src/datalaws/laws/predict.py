"""Predict a new dataset's law and compute-optimal allocation from its gzip compressibility.

The H-conditioned law fitted on the study's grammars is evaluated at the dataset's H, bootstrap law
by bootstrap law, so the intervals carry the study's fit uncertainty. Outside the range of H the law
was fitted on, the prediction is an extrapolation of a line through a handful of grammars, and the
output says so in words rather than leaving it to a footnote.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from datalaws.laws.frontier import allocation_table, format_allocation
from datalaws.laws.hlaw import load_h_law
from datalaws.laws.lawfile import finite_or_none

GZIP_SEQUENCES = 1000


def measure_h(path: str | os.PathLike[str], seed: int = 0) -> tuple[float, dict[str, Any]]:
    """H (the median gzip ratio) of a token corpus or text file, via :mod:`datalaws.compress`."""
    from datalaws.compress import measure

    stats = measure(Path(path), n_sequences=GZIP_SEQUENCES, seed=seed)
    summary = {k: v for k, v in stats.items() if k != "ratios"}
    return float(stats["median"]), summary


def predict(
    law_path: str | os.PathLike[str], h: float, compute: list[float] | np.ndarray
) -> dict[str, Any]:
    """Law parameters at H and the compute-optimal allocation at each compute level."""
    if not Path(law_path).exists():
        raise FileNotFoundError(
            f"{law_path}: no H-conditioned law; run the workflow's laws stage "
            "(it writes results/laws/h_law.json) or pass --law"
        )
    hlaw = load_h_law(law_path)
    lo, hi = hlaw.h_range
    inside = lo <= h <= hi
    point, boot = hlaw.law_at(h)
    rows = allocation_table(point, boot, np.asarray(compute, float), hlaw.level)
    note = (
        f"H = {h:.4g} lies inside the range the law was fitted on [{lo:.4g}, {hi:.4g}]."
        if inside
        else f"WARNING: H = {h:.4g} lies OUTSIDE the range the law was fitted on "
        f"[{lo:.4g}, {hi:.4g}]; this is an extrapolation and may be badly wrong."
    )
    return {
        "H": h,
        "law": str(law_path),
        "H_range": [lo, hi],
        "inside_range": inside,
        "note": note,
        "ci_level": hlaw.level,
        "params": hlaw.natural_at(h),
        "allocations": [{k: finite_or_none(v) for k, v in r.items()} for r in rows],
    }


def format_prediction(result: dict[str, Any]) -> str:
    """The prediction as text: H, the range warning, the law at H and the allocations."""
    pct = round(100 * result["ci_level"])
    lines = [f"gzip compressibility H = {result['H']:.4g}", result["note"]]
    lines.append(f"law at this H ({pct}% intervals, from {result['law']}):")
    for k, v in result["params"].items():
        lo, hi = v["interval"]
        lines.append(f"  {k:<6}{v['value']:>12.4g}  [{lo:.4g}, {hi:.4g}]")
    lines.append(format_allocation(result["allocations"], result["ci_level"]))
    return "\n".join(lines)
