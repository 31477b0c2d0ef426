"""Snakemake script: the theory arm's headline numbers as markdown."""

from datalaws.atomic import read_json, write_text
from datalaws.plrf.experiments import phase_row
from datalaws.plrf.report import summary_markdown

sm = snakemake  # noqa: F821 (injected by Snakemake)
points = [read_json(p) for p in sm.input.points]
rows = [phase_row(p, a) for p in points for a in ("envelope", "isoflop")]
text = summary_markdown(
    read_json(sm.input.check),
    read_json(sm.input.exact),
    [read_json(p) for p in sm.input.validation],
    rows,
)
write_text(sm.output[0], text)
with open(sm.log[0], "w") as log:
    log.write(text)
