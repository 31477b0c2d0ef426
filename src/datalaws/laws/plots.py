"""Figures of the laws stage, each the analogue of the Pandey (2024) figure of the same number.

Shared conventions: seaborn's whitegrid theme, log axes wherever data span decades, one colour per
grammar ordered by H (the ``flare`` palette: light = compressible, dark = hard to compress), model
sizes in ``viridis``; every figure is written as PNG (for the report) and PDF, atomically.
This module holds the helpers and the figures of data (1, 2, 6); plots_laws.py the figures of laws.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
import seaborn as sns

from datalaws.figures import save_figure
from datalaws.laws import PathArg
from datalaws.laws.chinchilla import Law

LOSS_LABELS = {"val": "validation loss (nats/token)", "train": "training loss (nats/token)"}


def theme() -> None:
    sns.set_theme(style="whitegrid", context="paper", font_scale=1.1)


def grammar_colors(hs: Sequence[float]) -> list:
    """One colour per grammar, ordered by H."""
    palette = sns.color_palette("flare", len(hs))
    order = np.argsort(np.argsort(hs))
    return [palette[i] for i in order]


def plain_log_y(ax: plt.Axes) -> None:
    """Log y axis labelled 2, 3, 5, 10 ... in plain numbers: losses span less than a decade."""
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(mticker.LogLocator(base=10, subs=(1.0, 2.0, 3.0, 5.0)))
    ax.yaxis.set_major_formatter(mticker.StrMethodFormatter("{x:g}"))
    ax.yaxis.set_minor_locator(mticker.LogLocator(base=10, subs=np.arange(1, 10)))
    ax.yaxis.set_minor_formatter(mticker.NullFormatter())


def log_x_tokens(ax: plt.Axes) -> None:
    """Log x axis for token counts, ticks at 1, 2, 5 x 10^k written as 100k, 200k, 1M."""
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(mticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(mticker.EngFormatter(sep=""))
    ax.xaxis.set_minor_formatter(mticker.NullFormatter())


def panels(count: int, ncols: int = 3, size: tuple[float, float] = (4.2, 3.4)):
    """A grid of ``count`` panels; unused axes are hidden."""
    ncols = min(ncols, count)
    nrows = -(-count // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size[0] * ncols, size[1] * nrows), squeeze=False
    )
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:count])


def label(name: str, h: float) -> str:
    return f"{name} (H = {h:.3f})"


def fig1_gzip(names: Sequence[str], gzip_stats: Sequence[dict], png: PathArg, pdf: PathArg) -> None:
    """Distribution of per-sequence gzip ratios per grammar (Fig. 1)."""
    theme()
    hs = [g["median"] for g in gzip_stats]
    order = np.argsort(hs)
    frame = pd.DataFrame(
        [
            {"grammar": label(names[i], hs[i]), "ratio": r}
            for i in order
            for r in gzip_stats[i]["ratios"]
        ]
    )
    colors = [grammar_colors(hs)[i] for i in order]
    fig, ax = plt.subplots(figsize=(7.5, 0.7 * len(names) + 1.5))
    sns.violinplot(
        data=frame,
        x="ratio",
        y="grammar",
        hue="grammar",
        palette=colors,
        inner="quart",
        cut=0,
        density_norm="width",
        legend=False,
        ax=ax,
    )
    unit = gzip_stats[0].get("unit", "token")
    ax.set_xlabel(f"gzip compression ratio (compressed / raw bytes, {unit} sequences)")
    ax.set_ylabel("")
    ax.set_title("Compressibility of each grammar's data (lines: quartiles; H = median)")
    save_figure(fig, png, pdf)


def fig2_loss(
    runs: pd.DataFrame,
    laws: dict[str, Law],
    loss_kind: str,
    png: PathArg,
    pdf: PathArg,
) -> None:
    """Loss against tokens, one line per model size, one panel per grammar, fitted law overlaid."""
    theme()
    grammars = sorted(laws, key=lambda g: runs.loc[runs["grammar"] == g, "H"].iloc[0])
    sizes = np.sort(runs["N"].unique())
    palette = dict(zip(sizes, sns.color_palette("viridis", len(sizes)), strict=True))
    fig, axes = panels(len(grammars))
    for ax, g in zip(axes, grammars, strict=True):
        part = runs[runs["grammar"] == g]
        d_grid = np.geomspace(part["D"].min(), part["D"].max(), 100)
        for n, sub in part.groupby("N"):
            ax.plot(sub["D"], sub["loss"], "o", color=palette[n], ms=4)
            ax.plot(d_grid, laws[g].loss(n, d_grid), "-", color=palette[n], lw=1.2)
        log_x_tokens(ax)
        plain_log_y(ax)
        ax.set_title(label(g, part["H"].iloc[0]))
        ax.set_xlabel("training tokens D")
        ax.set_ylabel(LOSS_LABELS[loss_kind])
    handles = [
        plt.Line2D([], [], color=palette[n], marker="o", ls="-", label=f"N = {n:.3g}")
        for n in sizes
    ]
    handles.append(plt.Line2D([], [], color="grey", ls="-", label="fitted law"))
    fig.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), title="model size")
    fig.suptitle("Final loss of each run (points) and the fitted Chinchilla law (lines)")
    fig.tight_layout()
    save_figure(fig, png, pdf)


def fig6_holdout(
    runs: pd.DataFrame, holdouts: dict[str, dict], loss_kind: str, png: PathArg, pdf: PathArg
) -> None:
    """Held-out extrapolation: the largest size predicted by a law fitted without it (Fig. 6)."""
    theme()
    grammars = sorted(holdouts, key=lambda g: runs.loc[runs["grammar"] == g, "H"].iloc[0])
    fig, axes = panels(len(grammars))
    for ax, g in zip(axes, grammars, strict=True):
        part = runs[runs["grammar"] == g]
        ax.set_title(label(g, part["H"].iloc[0]))
        res = holdouts[g]
        if "skipped" in res:
            ax.text(
                0.5,
                0.5,
                "skipped:\n" + res["skipped"],
                ha="center",
                va="center",
                wrap=True,
                transform=ax.transAxes,
                fontsize=8,
            )
            continue
        train = part[part["N"] < res["held_out_N"]]
        ax.plot(train["D"], train["loss"], ".", color="0.75", label="training sizes")
        test = pd.DataFrame(res["runs"])
        pi = np.array(test["pi"].tolist())
        ci = np.array(test["ci"].tolist())
        pct = round(100 * res["ci_level"])
        ax.errorbar(
            test["D"] * 1.18,
            test["predicted"],
            yerr=[test["predicted"] - pi[:, 0], pi[:, 1] - test["predicted"]],
            fmt="none",
            ecolor="C0",
            elinewidth=1,
            capsize=3,
            label=f"{pct}% prediction interval",
        )
        ax.errorbar(
            test["D"] * 1.18,
            test["predicted"],
            yerr=[test["predicted"] - ci[:, 0], ci[:, 1] - test["predicted"]],
            fmt="s",
            color="C0",
            ms=4,
            elinewidth=3,
            label="prediction (parameter CI)",
        )
        ax.plot(
            test["D"], test["loss"], "o", color="black", ms=5, label="held-out runs (largest N)"
        )
        log_x_tokens(ax)
        plain_log_y(ax)
        ax.set_xlabel("training tokens D")
        ax.set_ylabel(LOSS_LABELS[loss_kind])
        ax.text(
            0.03,
            0.04,
            f"mean |error| {100 * res['mean_abs_relative_error']:.1f}%\n"
            f"inside PI: {sum(r['inside_pi'] for r in res['runs'])}/{res['n_test_runs']}",
            transform=ax.transAxes,
            fontsize=8,
            va="bottom",
            bbox={"fc": "white", "ec": "0.8", "alpha": 0.9},
        )
    handles, labels = next(
        (ax.get_legend_handles_labels() for ax in axes if ax.get_legend_handles_labels()[0]),
        ([], []),
    )
    if handles:
        fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.suptitle("Extrapolation to the largest model size, fitted without it")
    fig.tight_layout()
    save_figure(fig, png, pdf)
