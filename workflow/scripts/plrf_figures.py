"""Snakemake script: the check's frontier, IsoFLOP and convergence figures, the SGD validation
and the exact-versus-W-free comparison."""

from datalaws.atomic import read_json
from datalaws.plrf import plots
from datalaws.plrf.experiments import load_grid

sm = snakemake  # noqa: F821 (injected by Snakemake)
grid = load_grid(sm.input.grid)
summary = read_json(sm.input.summary)
plots.plot_frontier(grid, summary["full_range"], sm.output.frontier)
plots.plot_isoflop(grid, sm.output.isoflop)
plots.plot_convergence(summary, sm.output.convergence)
plots.plot_validation([read_json(p) for p in sm.input.validation], sm.output.validation)
plots.plot_exact_check(
    load_grid(sm.input.exact), load_grid(sm.input.asymptotic), sm.output.exact_check
)
with open(sm.log[0], "w") as log:
    log.write("figures written\n")
