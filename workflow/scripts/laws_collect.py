from datalaws.laws import steps
from datalaws.laws.workflow import run_logged

sm = snakemake  # noqa: F821
run_logged(
    sm.log[0],
    steps.collect,
    sm.input.finals,
    sm.input.gzip,
    sm.output[0],
    n_param=sm.params.n_param,
    loss=sm.params.loss,
)
