"""Snakemake script: the report's data-filtering figures (see datalaws.qqt.report)."""

import sys

from datalaws.qqt.report import make_figures

sm = snakemake  # noqa: F821 (injected by Snakemake)
with open(sm.log[0], "w") as log:
    sys.stderr = log
    make_figures(
        sm.input.params,
        sm.input.runs,
        sm.input.compare[0] if sm.input.compare else None,
        [float(b) for b in sm.params.budgets],
        {key: sm.output[key] for key in ("buckets", "mixtures", "frontier")},
    )
