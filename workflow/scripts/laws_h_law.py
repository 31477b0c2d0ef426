from datalaws.laws import steps
from datalaws.laws.workflow import run_logged

sm = snakemake  # noqa: F821
run_logged(
    sm.log[0],
    steps.h_law,
    sm.input.runs,
    sm.params.grammars,
    sm.input.laws,
    sm.output[0],
    n_resamples=sm.params.bootstrap,
    seed=sm.params.seed,
    level=sm.params.level,
)
