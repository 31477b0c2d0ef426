"""Snakemake script: mean of many SGD runs on one W against the deterministic equivalent."""

import json

from datalaws.atomic import write_json
from datalaws.plrf.experiments import validation
from datalaws.plrf.workflow import parse_point

sm = snakemake  # noqa: F821 (injected by Snakemake)
cfg = sm.params.cfg
alpha, beta = parse_point(sm.wildcards.point)
result = validation(
    alpha,
    beta,
    cfg["d"],
    cfg["v_ratio"],
    sm.params.batch,
    cfg["step_scale"],
    cfg["max_steps"],
    cfg["record"],
    cfg["runs"],
    cfg["seed"],
)
write_json(sm.output[0], result)
with open(sm.log[0], "w") as log:
    keys = ("max_abs_z", "max_rel_diff", "sgd_seconds", "deterministic_seconds")
    log.write(json.dumps({k: result[k] for k in keys}) + "\n")
