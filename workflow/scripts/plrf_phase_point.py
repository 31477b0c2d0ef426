"""Snakemake script: loss grid and measured exponents at one (alpha, beta) of the diagram."""

from datalaws.atomic import write_json
from datalaws.plrf.experiments import phase_point, save_grid, timed_grid
from datalaws.plrf.workflow import parse_point

sm = snakemake  # noqa: F821 (injected by Snakemake)
cfg = sm.params.cfg
alpha, beta = parse_point(sm.wildcards.point)
grid, seconds = timed_grid(alpha, beta, cfg["grid"], sm.params.common)
save_grid(grid, sm.output.grid, seconds)
write_json(sm.output.json, phase_point(grid, cfg["top_decades"], seconds))
with open(sm.log[0], "w") as log:
    log.write(f"grid {grid.ds.size} x {grid.fs.size} in {seconds:.1f} s\n")
