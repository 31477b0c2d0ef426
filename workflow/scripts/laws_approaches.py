from datalaws.laws import steps
from datalaws.laws.workflow import run_logged

sm = snakemake  # noqa: F821
run_logged(
    sm.log[0],
    steps.approaches,
    sm.input.runs,
    sm.input.law,
    sm.output[0],
    sm.params.level,
    **sm.params.options,
)
