from datalaws.laws import plots
from datalaws.laws.workflow import run_logged

sm = snakemake  # noqa: F821
inputs = dict(sm.input.items())
run_logged(
    sm.log[0],
    getattr(plots, sm.rule.removeprefix("laws_")),
    **inputs,
    **sm.params.options,
    png=sm.output.png,
    pdf=sm.output.pdf,
)
