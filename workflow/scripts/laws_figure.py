from datalaws.laws import figures
from datalaws.laws.workflow import run_logged

sm = snakemake  # noqa: F821
inputs = dict(sm.input.items())
run_logged(
    sm.log[0],
    getattr(figures, sm.rule.removeprefix("laws_")),
    **inputs,
    **sm.params.options,
    png=sm.output.png,
    pdf=sm.output.pdf,
)
