"""Snakemake script: exact expected loss (mean over draws of W) against the W-free equivalent."""

from datalaws.atomic import write_json
from datalaws.plrf.experiments import exact_check, save_grid, timed_grid

sm = snakemake  # noqa: F821 (injected by Snakemake)
cfg, point = sm.params.cfg, sm.params.point
exact, exact_s = timed_grid(*point, cfg["grid"], sm.params.common, exact_seeds=cfg["seeds"])
asym, asym_s = timed_grid(*point, cfg["grid"], sm.params.common)
save_grid(exact, sm.output.exact, exact_s)
save_grid(asym, sm.output.asymptotic, asym_s)
write_json(
    sm.output.json, exact_check(exact, asym, cfg["seeds"], {"exact": exact_s, "asymptotic": asym_s})
)
with open(sm.log[0], "w") as log:
    log.write(f"exact {exact_s:.1f} s, W-free {asym_s:.1f} s\n")
