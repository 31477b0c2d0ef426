from datalaws.compare import predictors
from datalaws.laws.workflow import run_logged

sm = snakemake  # noqa: F821
run_logged(
    sm.log[0],
    predictors.compare,
    sm.params.names,
    sm.input.compress,
    sm.input.laws,
    sm.input.runs,
    sm.output.json,
    sm.output.table,
    compute=sm.params.compute,
    n_resamples=sm.params.bootstrap,
    seed=sm.params.seed,
    level=sm.params.level,
)
