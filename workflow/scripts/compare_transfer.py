from datalaws.compare import transfer
from datalaws.laws.workflow import run_logged

sm = snakemake  # noqa: F821
run_logged(
    sm.log[0],
    transfer.transfer,
    sm.input.h_law,
    sm.params.datasets,
    sm.input.laws,
    sm.input.gzip,
    sm.input.compress,
    sm.input.runs,
    sm.output.json,
    sm.output.table,
    compute=sm.params.compute,
)
