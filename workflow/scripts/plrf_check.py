"""Snakemake script: the paper's check, loss grid and compute-optimal fits with their drift."""

from datalaws.atomic import write_json
from datalaws.plrf.experiments import check_summary, save_grid, timed_grid

sm = snakemake  # noqa: F821 (injected by Snakemake)
cfg = sm.params.cfg
grid, seconds = timed_grid(cfg["alpha"], cfg["beta"], cfg["grid"], sm.params.common)
save_grid(grid, sm.output.grid, seconds)
summary = check_summary(
    grid, cfg["paper_d_max"], cfg["top_decades"], cfg["scan_width"], cfg["scan_stride"], seconds
)
write_json(sm.output.summary, summary)
with open(sm.log[0], "w") as log:
    log.write(f"grid {grid.ds.size} x {grid.fs.size} in {seconds:.1f} s\n")
