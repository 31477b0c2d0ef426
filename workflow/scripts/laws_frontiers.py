from datalaws.laws import steps
from datalaws.laws.workflow import run_logged

sm = snakemake  # noqa: F821
run_logged(
    sm.log[0],
    steps.frontiers,
    sm.input.runs,
    sm.params.grammars,
    sm.input.laws,
    sm.input.gzip,
    sm.input.h_law,
    sm.output.csv,
    sm.output.crossing,
    sm.params.n_points,
    sm.params.extend_decades,
)
