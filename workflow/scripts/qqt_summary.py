"""Snakemake script: best level per budget and predicted-vs-measured mixtures as markdown."""

from datalaws.qqt.report import write_summary

sm = snakemake  # noqa: F821 (injected by Snakemake)
text = write_summary(
    sm.input.params,
    sm.input.compare[0] if sm.input.compare else None,
    [float(b) for b in sm.params.budgets],
    sm.output.markdown,
    sm.output.best,
    sm.input.scorers[0] if sm.input.scorers else None,
)
with open(sm.log[0], "w") as log:
    log.write(text)
