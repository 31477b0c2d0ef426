from datalaws.laws import steps
from datalaws.laws.workflow import run_logged

sm = snakemake  # noqa: F821
run_logged(sm.log[0], steps.merge, sm.params.grammars, list(sm.input), sm.output[0])
