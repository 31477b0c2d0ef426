"""From fitted parameters and runs to the report: figures, decision table, a short summary.

The workflow's scripts call these two functions and nothing else.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from datalaws.atomic import read_json, write_text
from datalaws.qqt.decision import (
    best_per_budget,
    frontier,
    loosens_with_compute,
    predict_table,
    switch_points,
)
from datalaws.qqt.mixture import mixtures
from datalaws.qqt.params import pools_from_obj
from datalaws.qqt.plots import plot_buckets, plot_frontier, plot_mixtures
from datalaws.qqt.runs import read_runs

PathLike = str | os.PathLike[str]


def _budget_span(budgets: Sequence[float], runs: pd.DataFrame) -> tuple[float, float]:
    values = [*budgets, *runs["samples_seen"]]
    return min(values) / 2, max(values) * 2


def make_figures(
    params: PathLike,
    runs: PathLike,
    compare: PathLike | None,
    budgets: Sequence[float],
    out: dict[str, PathLike],
) -> None:
    """Write ``out['buckets']``, ``out['mixtures']``, ``out['frontier']`` (PNG, PDF beside)."""
    obj = read_json(params)
    pools = pools_from_obj(obj, str(params))
    boot = {b["name"]: np.asarray(b.get("bootstrap", []), float) for b in obj["buckets"]}
    table = read_runs(runs)
    mixes = mixtures(None, pools)
    measured = pd.read_csv(compare) if compare else None
    span = _budget_span(budgets, table)
    plot_buckets(pools, boot, table, out["buckets"], obj.get("fit", {}).get("level", 0.95))
    plot_mixtures(mixes, measured, out["mixtures"], span)
    front = frontier(mixes, *span)
    plot_frontier(front, predict_table(mixes, np.geomspace(*span, 121)), out["frontier"], budgets)


def _markdown(frame: pd.DataFrame) -> str:
    def cell(value: object) -> str:
        if isinstance(value, float):
            return "" if np.isnan(value) else f"{value:.4g}"
        return str(value)

    head = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *rows])


def write_summary(
    params: PathLike,
    compare: PathLike | None,
    budgets: Sequence[float],
    out_markdown: PathLike,
    out_best_csv: PathLike,
    scorers: PathLike | None = None,
) -> str:
    """Best level per budget (table), frontier switch points, the paper's qualitative claim,
    predicted against measured mixture losses, and (from a study) how well each scorer ranks the
    documents by their hidden corruption."""
    pools = pools_from_obj(read_json(params), str(params))
    mixes = mixtures(None, pools)
    table = predict_table(mixes, budgets)
    best = best_per_budget(table)
    verdict, why = loosens_with_compute(best)
    wide = table.pivot(index="budget", columns="mixture", values="loss").reset_index()
    front = frontier(mixes, min(budgets) / 4, max(budgets) * 4)
    lines = [
        "# Data filtering: best level per budget",
        "",
        "Predicted validation loss (nats/token) of each top-k mixture, by samples seen:",
        "",
        _markdown(wide),
        "",
        _markdown(best[["budget", "best", "fraction", "epochs", "loss", "runner_up", "margin"]]),
        "",
        "Frontier switch points (first budget at which a level becomes best):",
        "",
        _markdown(switch_points(front)),
        "",
        f"Paper's qualitative result (best level loosens as compute grows): "
        f"{'reproduced' if verdict else 'NOT reproduced'}: {why}.",
    ]
    if compare:
        measured = pd.read_csv(compare)
        lines += [
            "",
            "Mixtures trained for real against the theorem's prediction:",
            "",
            _markdown(measured),
            "",
            f"Mean |predicted - measured| = {measured['error'].abs().mean():.4f} nats, "
            f"mean |relative error| = {measured['rel_error'].abs().mean():.2%} "
            f"over {len(measured)} runs.",
        ]
    if scorers:
        report = read_json(scorers)
        lines += ["", "Scorers against the oracle corruption rate (the study's pool):", ""]
        lines += [
            f"- {name}: Spearman {entry['spearman_with_rate']:.3f}, mean rate of its best "
            f"documents {entry['top_fraction_mean_rate']:.4f} (pool {report['pool_mean_rate']:.4f})"
            for name, entry in report["scorers"].items()
        ]
    text = "\n".join(lines) + "\n"
    write_text(out_best_csv, best.to_csv(index=False))
    write_text(out_markdown, text)
    return text
