from datalaws.laws import study
from datalaws.laws.workflow import run_logged

sm = snakemake  # noqa: F821
run_logged(sm.log[0], study.combine, list(sm.input), sm.output[0])
