"""The report's figures: per-bucket fits (the paper's Fig. 4), mixtures (Fig. 5), the frontier.

Every figure is written as PNG and PDF side by side, atomically.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from datalaws.figures import save_figure
from datalaws.qqt.law import PoolParams, decay
from datalaws.qqt.mixture import Mixture


def _palette(n: int) -> list:
    return sns.color_palette("viridis", n)


def _colors(pools: Sequence[PoolParams]) -> dict[str, tuple]:
    ranked = [p.name for p in pools if not p.control]
    colors = dict(zip(ranked, _palette(len(ranked)), strict=True))
    colors.update({p.name: (0.45, 0.45, 0.45) for p in pools if p.control})
    return colors


def plot_buckets(
    pools: Sequence[PoolParams],
    boot: dict[str, np.ndarray],
    runs: pd.DataFrame,
    png: str | os.PathLike[str],
    level: float = 0.95,
) -> None:
    """Left: measured loss and fitted law per bucket. Right: utility ``|b| delta^(k-1)`` per pass
    with its bootstrap band: how fast each bucket wears out when repeated."""
    sns.set_theme(style="whitegrid", context="paper")
    colors = _colors(pools)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    max_passes = int(np.ceil((runs["samples_seen"] / runs["unique_samples"]).max()))
    passes = np.arange(1, max(max_passes, 2) + 1)
    tail = 100 * (1 - level) / 2
    for pool in pools:
        rows = runs[runs["bucket"] == pool.name]
        fresh = bool((rows["samples_seen"] <= rows["unique_samples"]).all())
        # Fresh (never repeated) data and the random control are both references: tell them apart.
        style = ":" if fresh else "--" if pool.control else "-"
        left.scatter(rows["samples_seen"], rows["loss"], color=colors[pool.name], s=18, zorder=3)
        n = np.geomspace(rows["samples_seen"].min() / 1.5, rows["samples_seen"].max() * 1.5)
        # A pool that never repeats (fresh data) is one first-pass curve, not one per run.
        sizes = [n.max()] if fresh else sorted(rows["unique_samples"].unique())
        for size in sizes:
            left.plot(n, pool.loss(n, size), style, color=colors[pool.name], label=pool.name)
        if fresh:  # its half-life is not measured: it never repeats
            continue
        right.plot(
            passes,
            -pool.b * decay(pool.tau) ** (passes - 1),
            style + "o",
            ms=3,
            color=colors[pool.name],
            label=f"{pool.name} (tau={pool.tau:.2g})",
        )
        draws = boot.get(pool.name)
        if draws is not None and len(draws):
            curves = -draws[:, 1:2] * decay(draws[:, 3:4]) ** (passes[None, :] - 1)
            low, high = np.percentile(curves, [tail, 100 - tail], axis=0)
            right.fill_between(passes, low, high, color=colors[pool.name], alpha=0.15, lw=0)
    left.set(
        xscale="log",
        xlabel="samples seen (documents)",
        ylabel="validation loss (nats/token)",
        title="Repetition law per bucket (points: runs)",
    )
    right.set(
        xlabel="pass k over the bucket",
        ylabel="utility exponent  -b·δ^(k-1)",
        title=f"Utility decay with repetition ({level:.0%} bootstrap band)",
    )
    left.legend(fontsize=7, title="bucket", title_fontsize=7)
    right.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, png)


def plot_mixtures(
    mixtures: Sequence[Mixture],
    measured: pd.DataFrame | None,
    png: str | os.PathLike[str],
    budgets: tuple[float, float],
) -> None:
    """Predicted curves of the top-k mixtures (no training on them) and measured runs on top."""
    sns.set_theme(style="whitegrid", context="paper")
    colors = dict(zip([m.name for m in mixtures], _palette(len(mixtures)), strict=True))
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    n = np.geomspace(*budgets, 200)
    for mixture in mixtures:
        kept = f", {mixture.fraction:.0%} kept" if mixture.fraction is not None else ""
        ax.plot(n, mixture.loss(n), color=colors[mixture.name], label=f"{mixture.name}{kept}")
    if measured is not None and len(measured):
        for name, rows in measured.groupby("mixture"):
            ax.scatter(
                rows["samples_seen"],
                rows["measured"],
                color=colors.get(name, "k"),
                edgecolor="k",
                s=36,
                zorder=3,
                marker="D",
            )
        ax.scatter([], [], color="w", edgecolor="k", marker="D", label="measured (trained)")
    ax.set(
        xscale="log",
        xlabel="samples seen (documents)",
        ylabel="validation loss (nats/token)",
        title="Mixtures predicted by the theorem",
    )
    ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, png)


def plot_frontier(
    front: pd.DataFrame,
    table: pd.DataFrame,
    png: str | os.PathLike[str],
    budgets: Sequence[float] = (),
) -> None:
    """Top: best filtering level per budget (the Pareto frontier). Bottom: each level's predicted
    loss above the best one, which shows how much a wrong level costs."""
    sns.set_theme(style="whitegrid", context="paper")
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(6.5, 6), sharex=True, gridspec_kw={"height_ratios": [1, 1.3]}
    )
    has_fraction = front["fraction"].notna().all()
    level = front["fraction"] * 100 if has_fraction else front["pools"]
    top.step(front["budget"], level, where="post", color="k")
    for i, budget in enumerate(budgets):
        label = "decision budgets" if i == 0 else None
        top.axvline(budget, color="tab:red", lw=0.8, ls=":", label=label)
    if len(budgets):
        top.legend(fontsize=7, loc="upper left")
    top.set(
        xscale="log",
        ylabel="best level: % kept" if has_fraction else "best level: top-k",
        title="Best filtering level per budget (predicted)",
    )
    best = table.groupby("budget")["loss"].transform("min")
    gap = table.assign(gap=table["loss"] - best)
    names = list(dict.fromkeys(gap["mixture"]))
    for name, color in zip(names, _palette(len(names)), strict=True):
        rows = gap[gap["mixture"] == name]
        bottom.plot(rows["budget"], rows["gap"], color=color, label=name)
    bottom.set(
        xscale="log",
        yscale="symlog",
        xlabel="samples seen (documents)",
        ylabel="loss above the best (nats)",
    )
    bottom.set_yscale("symlog", linthresh=1e-3)
    bottom.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    save_figure(fig, png)
