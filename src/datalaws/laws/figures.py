"""The six figures from the stage's files: load what each needs, then draw (plots, plots_laws).

Keyword names match the named inputs of the figure rules in workflow/rules/laws.smk.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from datalaws.atomic import read_json
from datalaws.laws import PathArg, plots, plots_laws
from datalaws.laws.hlaw import load_h_law
from datalaws.laws.lawfile import load_law
from datalaws.laws.runs import gzip_h


def fig1_gzip(
    *, grammars: Sequence[str], gzip: Sequence[PathArg], png: PathArg, pdf: PathArg
) -> None:
    plots.fig1_gzip(grammars, [read_json(p) for p in gzip], png, pdf)


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
    plots.fig2_loss(pd.read_csv(runs), fitted, loss, png, pdf)


def fig3_frontiers(*, frontiers: PathArg, runs: PathArg, png: PathArg, pdf: PathArg) -> None:
    plots_laws.fig3_frontiers(pd.read_csv(frontiers), pd.read_csv(runs), png, pdf)


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
    plots_laws.fig4_params(
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
    plots_laws.fig5_approaches(
        grammars, gzip_h(gzip), read_json(approaches), [load_law(p) for p in laws], png, pdf
    )


def fig6_holdout(*, runs: PathArg, holdout: PathArg, loss: str, png: PathArg, pdf: PathArg) -> None:
    plots.fig6_holdout(pd.read_csv(runs), read_json(holdout), loss, png, pdf)


def fig7_claim(*, claim: PathArg, png: PathArg, pdf: PathArg) -> None:
    plots_laws.fig7_claim(read_json(claim), png, pdf)
