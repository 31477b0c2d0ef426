"""Figures of the laws stage, each the analogue of the Pandey (2024) figure of the same number.

``figN(...)`` takes the stage's files (keyword names match the named inputs of the figure rules in
workflow/rules/laws.smk) and ``draw_figN(...)`` the loaded data, for use on anyone's tables.
Shared conventions: seaborn's whitegrid theme, log axes wherever data span decades, one colour per
grammar ordered by H (the ``flare`` palette: light = compressible, dark = hard to compress), model
sizes in ``viridis``; every figure is written as PNG (for the report) and PDF, atomically.
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

from datalaws.atomic import read_json
from datalaws.figures import save_figure
from datalaws.laws import PathArg
from datalaws.laws.bootstrap import percentile_interval
from datalaws.laws.chinchilla import NATURAL, Law, to_natural
from datalaws.laws.frontier import allocation
from datalaws.laws.hlaw import HLawFile, at_h, load_h_law
from datalaws.laws.hregress import lines_through
from datalaws.laws.lawfile import LawFile, load_law
from datalaws.laws.runs import gzip_h

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


def draw_fig1_gzip(
    names: Sequence[str], gzip_stats: Sequence[dict], png: PathArg, pdf: PathArg
) -> None:
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


def draw_fig2_loss(
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


def draw_fig6_holdout(
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


def draw_fig3_frontiers(
    frontiers: pd.DataFrame, runs: pd.DataFrame, png: PathArg, pdf: PathArg
) -> None:
    """Compute-optimal N and tokens per parameter per grammar beside Chinchilla's (Fig. 3)."""
    theme()
    fr = frontiers[frontiers["grammar"] != "chinchilla"]
    chin = frontiers[frontiers["grammar"] == "chinchilla"]
    hs = fr.groupby("grammar")["H"].first().sort_values()
    colors = dict(zip(hs.index, grammar_colors(hs.to_numpy()), strict=True))
    c_runs = 6.0 * runs["N"] * runs["D"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    for ax, key, ylabel in (
        (axes[0], "n_opt", "compute-optimal parameters N_opt"),
        (axes[1], "tokens_per_param", "tokens per parameter D_opt / N_opt"),
    ):
        ax.axvspan(c_runs.min(), c_runs.max(), color="0.93", zorder=0, label="compute of the runs")
        for g, h in hs.items():
            part = fr[fr["grammar"] == g]
            ax.plot(part["compute"], part[key], color=colors[g], label=label(g, h))
            ax.fill_between(
                part["compute"],
                part[f"{key}_lo"],
                part[f"{key}_hi"],
                color=colors[g],
                alpha=0.2,
                lw=0,
            )
        ax.plot(chin["compute"], chin[key], "k--", lw=1.5, label="Chinchilla (Hoffmann et al.)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("training compute C = 6ND (FLOPs)")
        ax.set_ylabel(ylabel)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.suptitle("Compute-optimal frontiers per grammar (bands: 95% bootstrap intervals)")
    fig.tight_layout()
    save_figure(fig, png, pdf)


def _zoom_on_points(ax: plt.Axes, values: np.ndarray, log: bool) -> None:
    """Frame the per-grammar estimates, not their intervals.

    On a tiny grid an unresolved parameter can have an interval spanning dozens of decades; drawn
    in full it flattens every estimate into one line. Bars that leave the frame are cut at its
    edge, which still shows that they are wide. A and B span decades and go on a log axis.
    """
    values = values[np.isfinite(values)]
    if log:
        values = values[values > 0]
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(mticker.LogLocator(base=10, numticks=6))
        if values.size:
            ax.set_ylim(values.min() / 30, values.max() * 30)
        return
    if values.size:
        span = max(values.max() - values.min(), 0.25 * max(abs(values.max()), 0.1))
        ax.set_ylim(min(0.0, values.min() - 0.5 * span), values.max() + 0.8 * span)


def draw_fig4_params(
    names: Sequence[str],
    hs: Sequence[float],
    laws: Sequence[LawFile],
    regression: dict,
    hlaw: HLawFile,
    png: PathArg,
    pdf: PathArg,
) -> None:
    """Each law parameter against H: per-grammar fits, regression line and band, joint H-law."""
    theme()
    hs = np.asarray(hs, float)
    with np.errstate(over="ignore", invalid="ignore"):  # unresolved terms are inf
        points = np.vstack([to_natural(law.law.theta) for law in laws])
        ivs = np.stack([percentile_interval(to_natural(law.samples), law.level) for law in laws])
        n_boot = min(law.samples.shape[0] for law in laws)
        boot = np.stack([to_natural(law.samples[:n_boot]) for law in laws], axis=1)
    h_grid = np.linspace(hs.min(), hs.max(), 100)
    joint = to_natural(at_h(hlaw.theta, h_grid, hlaw.h_ref))
    colors = grammar_colors(hs)
    titles = {
        "E": "irreducible loss E",
        "A": "A (parameter term)",
        "B": "B (data term)",
        "alpha": "exponent alpha (of N)",
        "beta": "exponent beta (of D)",
    }
    fig, axes = panels(6, ncols=3, size=(4.0, 3.3))
    for i, key in enumerate(NATURAL):
        ax = axes[i]
        line = regression["params"][key]
        in_log10 = bool(line.get("log10"))  # A and B (files written since it was recorded)
        shown = line["log10"] if in_log10 else line
        _draw_h_line(ax, shown, in_log10, hs, h_grid, points[:, i], boot[:, :, i])
        ax.plot(h_grid, joint[:, i], color="C3", ls="--", label="joint H-conditioned law")
        for j in range(len(names)):
            ax.errorbar(
                hs[j],
                points[j, i],
                yerr=[[points[j, i] - ivs[j, 0, i]], [ivs[j, 1, i] - points[j, i]]],
                fmt="o",
                color=colors[j],
                capsize=3,
            )
        slope, p = shown["slope"], shown["p_value"]
        # Put the note in the corner the trend leaves empty: top left if rising, bottom if falling.
        y_note, va = (0.96, "top") if slope is not None and slope > 0 else (0.04, "bottom")
        of = f" of log10 {key}" if in_log10 else ""
        note = "no line" if slope is None else f"slope{of} {slope:.3g}"
        note += f", p = {p:.2g}" if p is not None else ""
        if line.get("unresolved"):  # absent from files written before it was recorded
            note += f"; unresolved: {', '.join(line['unresolved'])}"
        ax.text(
            0.03,
            y_note,
            note,
            transform=ax.transAxes,
            va=va,
            fontsize=8,
            bbox={"fc": "white", "ec": "0.8", "alpha": 0.9},
        )
        _zoom_on_points(ax, points[:, i], log=key in ("A", "B"))
        ax.set_title(titles[key])
        ax.set_xlabel("gzip compressibility H")
    legend_ax = axes[5]
    legend_ax.axis("off")
    handles = axes[0].get_legend_handles_labels()[0]
    handles += [
        plt.Line2D([], [], color=colors[j], marker="o", ls="", label=label(names[j], hs[j]))
        for j in range(len(names))
    ]
    legend_ax.legend(handles=handles, loc="center", title="points: per-grammar fit, 95% interval")
    fig.suptitle("Law parameters against compressibility (bands: 95% bootstrap intervals)")
    fig.tight_layout()
    save_figure(fig, png, pdf)


def _draw_h_line(
    ax,
    line: dict,
    in_log10: bool,
    hs: np.ndarray,
    h_grid: np.ndarray,
    points: np.ndarray,
    boot: np.ndarray,
) -> None:
    """One parameter's regression on H and its bootstrap band, through the sources h_regression
    drew it through (those whose estimate is resolved); in log10 units where ``in_log10``."""
    if line["slope"] is None:
        return
    resolved = np.isfinite(points)
    values = boot[:, resolved]
    if in_log10:
        with np.errstate(divide="ignore"):
            values = np.log10(values)
    b_slope, b_icpt = lines_through(hs[resolved], values)
    shown = (lambda v: 10.0**v) if in_log10 else (lambda v: v)
    if np.isfinite(b_slope).any():
        band = percentile_interval(b_slope[:, None] * h_grid[None, :] + b_icpt[:, None])
        ax.fill_between(h_grid, shown(band[0]), shown(band[1]), color="C0", alpha=0.15, lw=0)
    fitted = line["slope"] * h_grid + line["intercept"]
    label = "regression on H (A, B: of log10)"
    ax.plot(h_grid, shown(fitted), color="C0", label=label)


def _line(res: dict, c: np.ndarray) -> np.ndarray | None:
    if res.get("exponent") is None or res.get("intercept") is None:
        return None
    return np.exp(res["intercept"] + res["exponent"] * np.log(c))


def _exp_label(name: str, res: dict) -> str:
    if res["exponent"] is None:
        return f"{name}: undefined"
    iv = res["interval"]
    tail = f" [{iv[0]:.2f}, {iv[1]:.2f}]" if iv else ""
    return f"{name}: a = {res['exponent']:.3f}{tail}"


def draw_fig5_approaches(
    names: Sequence[str],
    hs: Sequence[float],
    approaches: dict[str, dict],
    laws: Sequence[LawFile],
    png: PathArg,
    pdf: PathArg,
) -> None:
    """N_opt(C) by Approaches 1, 2 and 3 per grammar, and their exponents against H (Fig. 5)."""
    theme()
    order = np.argsort(hs)
    fig, axes = panels(len(names) + 1)
    for ax, j in zip(axes, order, strict=False):
        res = approaches[names[j]]
        law = laws[j]
        cs = [c for c, _ in res["approach1"]["optima"] + res["approach2"]["optima"]]
        lo, hi = law.record["range"]["N"], law.record["range"]["D"]
        c = np.geomspace(min([*cs, 6 * lo[0] * hi[0]]), max([*cs, 6 * lo[1] * hi[1]]), 50)
        a3 = allocation(law.law.theta, c)["n_opt"][0]
        ax.plot(c, a3, color="C2", label=_exp_label("3 (law)", res["approach3"]))
        for key, marker, color, name in (
            ("approach1", "s", "C0", "1 (envelope)"),
            ("approach2", "o", "C1", "2 (IsoFLOP)"),
        ):
            opt = np.array(res[key]["optima"]).reshape(-1, 2)
            ax.plot(
                opt[:, 0],
                opt[:, 1],
                marker,
                color=color,
                ms=4,
                ls="",
                label=_exp_label(name, res[key]),
            )
            line = _line(res[key], c)
            if line is not None:
                ax.plot(c, line, color=color, lw=1, ls=":")
        ax.set_xscale("log")
        if np.isfinite(a3).any() or cs:
            ax.set_yscale("log")
        else:  # a law with alpha or beta <= 0 has no compute-optimal N, and nothing else was found
            ax.text(0.5, 0.5, "no compute-optimal N\n(alpha or beta <= 0)", transform=ax.transAxes)
        ax.set_xlabel("training compute C (FLOPs)")
        ax.set_ylabel("N_opt (parameters)")
        ax.set_title(label(names[j], hs[j]))
        ax.legend(fontsize=7, loc="upper left")
    ax = axes[-1]
    for k, (key, color, name) in enumerate(
        (
            ("approach1", "C0", "Approach 1"),
            ("approach2", "C1", "Approach 2"),
            ("approach3", "C2", "Approach 3"),
        )
    ):
        for j in order:
            res = approaches[names[j]][key]
            if res["exponent"] is None:
                continue
            iv = res["interval"] or [res["exponent"]] * 2
            x = hs[j] + (k - 1) * 0.006
            ax.errorbar(
                x,
                res["exponent"],
                yerr=[[res["exponent"] - iv[0]], [iv[1] - res["exponent"]]],
                fmt="o",
                color=color,
                capsize=3,
                label=name if j == order[0] else None,
            )
    flagged = [names[j] for j in order if approaches[names[j]]["disagree"]]
    ax.set_title(
        "exponent a of N_opt ~ C^a" + (f" (disagree: {', '.join(flagged)})" if flagged else "")
    )
    ax.set_xlabel("gzip compressibility H")
    ax.set_ylabel("a (95% interval)")
    ax.legend(fontsize=8)
    fig.suptitle("Approaches 1, 2 and 3 on the same runs")
    fig.tight_layout()
    save_figure(fig, png, pdf)


def draw_fig7_claim(claim: dict, png: PathArg, pdf: PathArg) -> None:
    """Tokens per parameter at one compute against H: each grammar's law with its interval, the
    least-squares line with the slope's interval, and the H-conditioned law at each grammar's H."""
    theme()
    rows = claim["grammars"]
    h = np.array([r["H"] for r in rows])
    y = np.array([np.nan if r["log10_tokens_per_param"] is None else r["log10_tokens_per_param"]
                  for r in rows])  # fmt: skip
    iv = np.array([[np.nan if v is None else v for v in r["interval"]] for r in rows])
    fig, ax = plt.subplots(figsize=(5.4, 4.0))
    colors = grammar_colors(h)
    for i, r in enumerate(rows):
        ax.errorbar(
            h[i], 10 ** y[i], yerr=[[10 ** y[i] - 10 ** iv[i, 0]], [10 ** iv[i, 1] - 10 ** y[i]]],
            fmt="o", color=colors[i], capsize=3, label=r["grammar"],
        )  # fmt: skip
    slope, s_iv = claim["slope_log10_tokens_per_param_per_H"], claim["slope_interval"]
    if slope is not None and np.all(np.isfinite(y)):
        hh = np.linspace(h.min(), h.max(), 50)
        line = np.polyval(np.polyfit(h, y, 1), hh)
        span = "" if None in s_iv else f" [{s_iv[0]:.2f}, {s_iv[1]:.2f}]"
        ax.plot(hh, 10**line, color="0.3", lw=1.2, label=f"slope {slope:.2f}{span} decades/H")
    agreement = claim.get("h_law_agreement", [])
    if agreement:
        hl = [(a["H"], a["h_law_log10_tokens_per_param"]) for a in agreement]
        hl = [(a, b) for a, b in hl if b is not None]  # undefined where alpha or beta <= 0
        ax.plot([a for a, _ in hl], [10**b for _, b in hl], "s", mfc="none", color="0.2",
                label="H-conditioned law")  # fmt: skip
    ax.set_yscale("log")
    ax.set_xlabel("gzip compressibility H")
    ax.set_ylabel("compute-optimal tokens per parameter")
    ax.set_title(f"at C = {claim['compute']:.2g} FLOPs: {claim['verdict'].split(':')[0]}")
    ax.legend(fontsize=7, loc="best")
    save_figure(fig, png, pdf)


def fig1_gzip(
    *, grammars: Sequence[str], gzip: Sequence[PathArg], png: PathArg, pdf: PathArg
) -> None:
    draw_fig1_gzip(grammars, [read_json(p) for p in gzip], png, pdf)


def fig2_loss(
    *,
    runs: PathArg,
    grammars: Sequence[str],
    laws: Sequence[PathArg],
    loss: str,
    png: PathArg,
    pdf: PathArg,
) -> None:
    fitted = {g: load_law(p).law for g, p in zip(grammars, laws, strict=True)}
    draw_fig2_loss(pd.read_csv(runs), fitted, loss, png, pdf)


def fig3_frontiers(*, frontiers: PathArg, runs: PathArg, png: PathArg, pdf: PathArg) -> None:
    draw_fig3_frontiers(pd.read_csv(frontiers), pd.read_csv(runs), png, pdf)


def fig4_params(
    *,
    grammars: Sequence[str],
    laws: Sequence[PathArg],
    gzip: Sequence[PathArg],
    h_regression: PathArg,
    h_law: PathArg,
    png: PathArg,
    pdf: PathArg,
) -> None:
    draw_fig4_params(
        grammars,
        gzip_h(gzip),
        [load_law(p) for p in laws],
        read_json(h_regression),
        load_h_law(h_law),
        png,
        pdf,
    )


def fig5_approaches(
    *,
    grammars: Sequence[str],
    laws: Sequence[PathArg],
    gzip: Sequence[PathArg],
    approaches: PathArg,
    png: PathArg,
    pdf: PathArg,
) -> None:
    draw_fig5_approaches(
        grammars, gzip_h(gzip), read_json(approaches), [load_law(p) for p in laws], png, pdf
    )


def fig6_holdout(*, runs: PathArg, holdout: PathArg, loss: str, png: PathArg, pdf: PathArg) -> None:
    draw_fig6_holdout(pd.read_csv(runs), read_json(holdout), loss, png, pdf)


def fig7_claim(*, claim: PathArg, png: PathArg, pdf: PathArg) -> None:
    draw_fig7_claim(read_json(claim), png, pdf)
