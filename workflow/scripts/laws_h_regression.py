from datalaws.laws import steps
from datalaws.laws.workflow import run_logged

sm = snakemake  # noqa: F821
run_logged(
    sm.log[0],
    steps.regress_on_h,
    sm.params.grammars,
    sm.input.laws,
    sm.input.gzip,
    sm.output[0],
    sm.params.level,
)
