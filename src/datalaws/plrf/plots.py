"""Figures of the theory arm, each written as PNG and PDF side by side, atomically."""

from __future__ import annotations

import os
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.colors import LogNorm, TwoSlopeNorm

from datalaws.figures import save_figure
from datalaws.plrf import theory
from datalaws.plrf.compute_optimal import LossGrid, envelope, isoflop_optima


def _fit_line(ax: plt.Axes, fit: dict, key: str, color: str, label: str) -> None:
    if fit.get(key) is None:
        return
    lo, hi = fit["f_window"]
    f = np.geomspace(lo, hi, 20)
    if key == "eta":
        ax.plot(f, fit["loss_prefactor"] * f ** -fit["eta"], color=color, lw=2, label=label)
    else:
        ax.plot(f, fit["d_prefactor"] * f ** fit["xi"], color=color, lw=2, label=label)


def plot_frontier(grid: LossGrid, fits: dict, png: str | os.PathLike[str]) -> None:
    """Left: expected loss against compute for every d, the envelope and the fitted P*(f).
    Right: compute-optimal d*(f) by both approaches, the fit and the theory's slope."""
    sns.set_theme(style="whitegrid", context="paper")
    env = envelope(grid)
    ok, d_iso, _ = isoflop_optima(grid)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11.5, 4.4))
    norm = LogNorm(grid.ds.min(), grid.ds.max())
    cmap = plt.get_cmap("viridis")
    for d, row in zip(grid.ds, grid.losses, strict=True):
        left.plot(grid.fs, row, color=cmap(norm(d)), lw=0.8)
    left.plot(
        grid.fs[env.interior], env.loss[env.interior], "k.", ms=3, label="envelope (interior)"
    )
    _fit_line(
        left, fits["envelope"], "eta", "tab:red", f"fit: eta = {fits['envelope'].get('eta', 0):.3f}"
    )
    left.set(
        xscale="log",
        yscale="log",
        xlabel="compute f = steps x batch x d (flops)",
        ylabel="expected loss P",
        title=f"alpha = {grid.alpha:g}, beta = {grid.beta:g}",
    )
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=left, label="model size d")
    left.legend(loc="lower left")
    right.plot(
        grid.fs[env.interior],
        grid.ds[env.index[env.interior]],
        "k.",
        ms=4,
        label="Approach 1: argmin over the d grid",
    )
    right.plot(
        grid.fs[ok],
        d_iso[ok],
        "o",
        mfc="none",
        color="tab:blue",
        ms=4,
        label="Approach 2: IsoFLOP vertex",
    )
    _fit_line(
        right,
        fits["envelope"],
        "xi",
        "tab:red",
        f"Approach 1 fit: xi = {fits['envelope'].get('xi', 0):.3f}",
    )
    _fit_line(
        right,
        fits["isoflop"],
        "xi",
        "tab:blue",
        f"Approach 2 fit: xi = {fits['isoflop'].get('xi', 0):.3f}",
    )
    theo = theory.exponents(grid.alpha, grid.beta)
    if theo.xi is not None and fits["envelope"].get("xi") is not None:
        lo, hi = fits["envelope"]["f_window"]
        f = np.geomspace(lo, hi, 20)
        anchor = fits["envelope"]["d_prefactor"] * lo ** fits["envelope"]["xi"]
        right.plot(
            f,
            anchor * (f / lo) ** theo.xi,
            "--",
            color="0.3",
            label=f"theory slope xi = {theo.xi:.3f}",
        )
    right.set(
        xscale="log",
        yscale="log",
        xlabel="compute f (flops)",
        ylabel="compute-optimal d*",
        title="compute-optimal model size",
    )
    right.legend(loc="upper left", fontsize=8)
    save_figure(fig, png)


def plot_isoflop(grid: LossGrid, png: str | os.PathLike[str], slices: int = 7) -> None:
    """Loss against d at a few fixed compute budgets, with each IsoFLOP parabola's vertex."""
    sns.set_theme(style="whitegrid", context="paper")
    ok, d_opt, p_opt = isoflop_optima(grid)
    picks = np.flatnonzero(ok)
    picks = picks[np.linspace(0, picks.size - 1, min(slices, picks.size)).astype(int)]
    fig, ax = plt.subplots(figsize=(6.5, 4.4))
    colors = sns.color_palette("magma", len(picks) + 1)
    for color, k in zip(colors, picks, strict=False):
        ax.plot(grid.ds, grid.losses[:, k], "-", color=color, lw=1.2, label=f"f = {grid.fs[k]:.1e}")
        ax.plot(d_opt[k], p_opt[k], "*", color=color, ms=10, mec="k", mew=0.5)
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="model size d",
        ylabel="expected loss P",
        title=f"IsoFLOP slices (stars: vertices), alpha = {grid.alpha:g}, beta = {grid.beta:g}",
    )
    ax.legend(fontsize=7, ncol=2)
    save_figure(fig, png)


def plot_convergence(summary: dict, png: str | os.PathLike[str]) -> None:
    """Measured exponents against the window of f (left) and the largest d in the grid (right),
    with the theory: how fast finite-size effects fade."""
    sns.set_theme(style="whitegrid", context="paper")
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.2), sharey=True)
    theo = summary["theory"]
    styles = {"envelope": ("o-", "Approach 1"), "isoflop": ("s--", "Approach 2")}
    for key, color in (("eta", "tab:red"), ("xi", "tab:blue")):
        for approach, (style, name) in styles.items():
            rows = [r for r in summary["window_scan"] if r[approach].get(key) is not None]
            centres = [np.sqrt(r["f_window"][0] * r["f_window"][1]) for r in rows]
            axes[0].plot(
                centres,
                [r[approach][key] for r in rows],
                style,
                color=color,
                ms=4,
                mfc="none" if approach == "isoflop" else color,
                label=f"{key}, {name}",
            )
            rows = [r for r in summary["dmax_scan"] if r[approach].get(key) is not None]
            axes[1].plot(
                [r["d_max"] for r in rows],
                [r[approach][key] for r in rows],
                style,
                color=color,
                ms=4,
                mfc="none" if approach == "isoflop" else color,
                label=f"{key}, {name}",
            )
        if theo.get(key) is not None:
            for ax in axes:
                ax.axhline(
                    theo[key], color=color, ls=":", lw=1.5, label=f"theory {key} = {theo[key]:.3f}"
                )
    width = summary["scan_width_decades"]
    axes[0].set(
        xscale="log",
        xlabel=f"centre of the f window ({width:g} decades wide)",
        ylabel="measured exponent",
        title="exponents against the compute window",
    )
    axes[1].set(
        xscale="log",
        xlabel="largest d in the grid (whole interior window)",
        title="exponents against the model-size range",
    )
    axes[0].legend(fontsize=7, ncol=2)
    save_figure(fig, png)


def plot_validation(results: Sequence[dict], png: str | os.PathLike[str]) -> None:
    """Top: mean SGD loss (+-2 standard errors) against the deterministic equivalent for the same
    W, one panel per phase. Bottom: the standardised difference."""
    sns.set_theme(style="whitegrid", context="paper")
    n = len(results)
    fig, axes = plt.subplots(
        2,
        n,
        figsize=(4.0 * n, 5.6),
        squeeze=False,
        gridspec_kw={"height_ratios": [3, 1.3], "wspace": 0.4},
        sharex="col",
    )
    for col, res in enumerate(results):
        top, bottom = axes[0, col], axes[1, col]
        steps = np.asarray(res["steps"], float)
        shown = steps > 0
        mean, err = np.asarray(res["sgd_mean"]), np.asarray(res["sgd_stderr"])
        top.errorbar(
            steps[shown],
            mean[shown],
            yerr=2 * err[shown],
            fmt="o",
            ms=3,
            color="k",
            label=f"SGD mean of {res['runs']} runs",
        )
        top.plot(
            steps[shown],
            np.asarray(res["deterministic"])[shown],
            color="tab:red",
            label="deterministic equivalent (this W)",
        )
        top.plot(
            steps[shown],
            np.asarray(res["asymptotic"])[shown],
            ":",
            color="tab:blue",
            label="W-free equivalent",
        )
        top.set(
            xscale="log",
            yscale="log",
            ylabel="population loss P" if col == 0 else None,
            title=f"{res['phase']}: alpha={res['alpha']:g}, beta={res['beta']:g}, d={res['d']}",
        )
        z = np.asarray([np.nan if v is None else v for v in res["z"]], float)
        bottom.axhspan(-2, 2, color="0.9")
        bottom.plot(steps[shown], z[shown], "o", ms=3, color="k")
        bottom.axhline(0, color="tab:red", lw=1)
        bottom.set(
            xscale="log",
            xlabel="SGD steps",
            ylabel="z = (SGD - DE)/SE" if col == 0 else None,
            ylim=(-5, 5),
        )
        if col == 0:
            top.legend(fontsize=7)
    save_figure(fig, png)


def plot_phase_diagram(rows: Sequence[dict], png: str | os.PathLike[str]) -> None:
    """Measured eta and xi over the (alpha, beta) grid with the theoretical phase boundaries on
    top (upper row), and measured minus theoretical exponents (lower row)."""
    sns.set_theme(style="white", context="paper")
    alphas = np.unique([r["alpha"] for r in rows])
    betas = np.unique([r["beta"] for r in rows])
    cells = {(r["alpha"], r["beta"]): r for r in rows}

    def table(key: str) -> np.ndarray:
        out = np.full((betas.size, alphas.size), np.nan)
        for i, b in enumerate(betas):
            for j, a in enumerate(alphas):
                value = cells.get((a, b), {}).get(key)
                out[i, j] = np.nan if value is None else value
        return out

    def edges(x: np.ndarray) -> np.ndarray:
        if x.size == 1:
            return np.array([x[0] - 0.05, x[0] + 0.05])
        mid = (x[1:] + x[:-1]) / 2
        return np.concatenate([[2 * x[0] - mid[0]], mid, [2 * x[-1] - mid[-1]]])

    ae, be = edges(alphas), edges(betas)
    fig, axes = plt.subplots(2, 2, figsize=(12, 10), constrained_layout=True)
    for col, key in enumerate(("eta", "xi")):
        for row, (field, cmap, title) in enumerate(
            (
                (f"{key}_measured", "viridis", f"measured {key}"),
                (f"{key}_diff", "coolwarm", f"measured - theory, {key}"),
            )
        ):
            ax = axes[row, col]
            data = table(field)
            if row == 1:
                bound = max(np.nanmax(np.abs(data)) if np.isfinite(data).any() else 0.1, 1e-3)
                norm = TwoSlopeNorm(0.0, -bound, bound)
                mesh = ax.pcolormesh(ae, be, data, cmap=cmap, norm=norm, shading="flat")
            else:
                mesh = ax.pcolormesh(ae, be, data, cmap=cmap, shading="flat")
            fig.colorbar(mesh, ax=ax, label=title)
            for i, b in enumerate(betas):
                for j, a in enumerate(alphas):
                    if np.isfinite(data[i, j]):
                        ax.text(
                            a,
                            b,
                            f"{data[i, j]:.2f}",
                            ha="center",
                            va="center",
                            fontsize=6,
                            color="w" if row == 0 else "k",
                        )
            for line in theory.boundaries(ae[-1], be[0], be[-1]):
                ax.plot(line["alpha"], line["beta"], color="k", lw=1.2)
            for label, (a, b) in _PHASE_LABELS.items():
                if ae[0] <= a <= ae[-1] and be[0] <= b <= be[-1]:
                    ax.text(
                        a,
                        b,
                        label,
                        fontsize=9,
                        weight="bold",
                        color="tab:red",
                        ha="center",
                        va="center",
                        bbox={"facecolor": "white", "alpha": 0.7, "pad": 1, "lw": 0},
                    )
            ax.set(
                xlim=(ae[0], ae[-1]),
                ylim=(be[0], be[-1]),
                xlabel="alpha (data complexity)",
                ylabel="beta (target complexity)",
                title=title,
            )
    save_figure(fig, png)


_PHASE_LABELS = {  # a point inside each phase, where its name is drawn
    "Ia": (0.9, 0.28),
    "Ib": (0.4, 0.42),
    "Ic": (0.12, 0.95),
    "II": (0.95, 0.62),
    "III": (0.62, 1.15),
    "IVa": (0.42, 1.15),
    "IVb": (0.272, 1.15),
}


def plot_exact_check(exact: LossGrid, asymptotic: LossGrid, png: str | os.PathLike[str]) -> None:
    """Ratio of the mean exact expected loss over draws of W to the W-free equivalent."""
    sns.set_theme(style="whitegrid", context="paper")
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    colors = sns.color_palette("viridis", exact.ds.size)
    for color, d, a, b in zip(colors, exact.ds, exact.losses, asymptotic.losses, strict=True):
        ax.plot(exact.fs, a / b, color=color, label=f"d = {d}")
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set(
        xscale="log",
        xlabel="compute f (flops)",
        ylabel="exact (mean over W) / W-free",
        title=f"W-free equivalent at finite d, alpha={exact.alpha:g}, beta={exact.beta:g}",
    )
    ax.legend(fontsize=7, ncol=2)
    save_figure(fig, png)
