"""Snakemake script: phase-diagram heat maps and the measured-minus-theory table."""

from datalaws.atomic import read_json
from datalaws.plrf.plots import plot_phase_diagram
from datalaws.plrf.report import write_phase_table

sm = snakemake  # noqa: F821 (injected by Snakemake)
points = [read_json(path) for path in sm.input]
rows = write_phase_table(points, sm.output.table)
cells = []
for point in points:
    cell = {"alpha": point["alpha"], "beta": point["beta"]}
    for r in rows:
        if (r["alpha"], r["beta"], r["approach"]) == (point["alpha"], point["beta"], "envelope"):
            cell |= {k: r[k] for k in ("eta_measured", "xi_measured", "eta_diff", "xi_diff")}
    cells.append(cell)
plot_phase_diagram(cells, sm.output.figure)
with open(sm.log[0], "w") as log:
    log.write(f"{len(points)} points\n")
