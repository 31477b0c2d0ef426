from datalaws.laws import study
from datalaws.laws.workflow import run_logged

sm = snakemake  # noqa: F821
run_logged(
    sm.log[0],
    study.approaches,
    sm.input.runs,
    sm.input.law,
    sm.output[0],
    sm.params.level,
    **sm.params.options,
)
