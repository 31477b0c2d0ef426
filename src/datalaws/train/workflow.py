"""What ``workflow/rules/train.smk`` asks of the config: run specs, resources, targets.

Kept here rather than in the .smk so that it is plain, tested Python, and so that the SLURM
profile (or a person) can compute exactly what the rule would request:
``datalaws train-plan --config config/config.yaml --size d2048-l30 --budget 100000000 ...``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from datalaws.train.config import from_dict, ladder, run_spec, size_hyper
from datalaws.train.resources import ResourceConfig, plan

RUN_DIR = "results/train/{grammar}/{size}/{budget}"
PLANNING_CONTEXT = 256


def final_json(grammar: str, size: str, budget: int | str) -> str:
    return f"{RUN_DIR.format(grammar=grammar, size=size, budget=budget)}/final.json"


def final_jsons(section: dict, grammar: str) -> list[str]:
    """Every run of one grammar: sizes x budgets."""
    return [final_json(grammar, s, b) for s in section["sizes"] for b in section["budgets"]]


def targets(section: dict, grammars: list[str]) -> list[str]:
    return [path for grammar in grammars for path in final_jsons(section, grammar)]


def spec_json(section: dict, grammar: str, size: str, budget: int) -> str:
    """The rule's only param: all that determines the trained model, as canonical JSON."""
    spec = run_spec(section, size, budget, labels={"grammar": grammar})
    return json.dumps(spec, sort_keys=True, separators=(",", ":"))


def options_json(section: dict) -> str:
    """Run options (checkpoint cadence, logging, ...). The rule passes them as a resource, not a
    param: Snakemake reruns jobs whose params change, and these never change the result."""
    return json.dumps(section.get("run", {}), sort_keys=True, separators=(",", ":"))


def resource_config(section: dict) -> ResourceConfig:
    return from_dict(ResourceConfig, section.get("resources"), "train.resources")


def corpus_shape(val_path: str | Path, rc: ResourceConfig) -> tuple[int, int]:
    """(vocab_size, context) from the corpus sidecar once it exists; while the DAG is planned
    before the corpus is written, the configured vocabulary guess and the paper's context."""
    sidecar = Path(f"{val_path}.json")
    if sidecar.exists():
        meta = json.loads(sidecar.read_text())
        return int(meta["vocab_size"]), int(meta["context"])
    return rc.vocab_size_hint, PLANNING_CONTEXT


def resources(section: dict, size: str, budget: int, val_path: str | Path) -> dict:
    """Scheduler resources of one run (``datalaws.train.resources.plan``)."""
    rc = resource_config(section)
    cfg = ladder(section)[size].model(*corpus_shape(val_path, rc))
    return plan(cfg, budget, size_hyper(section, size), rc)


# What every training job asks of its scheduler; train_options carries the run options.
JOB_RESOURCES = (
    "gpu",
    "nodes",
    "tasks",
    "mpi",
    "cpus_per_task",
    "procs_per_node",
    "mem_mb",
    "runtime",
    "slurm_extra",
    "tasks_per_gpu",
    "gpu_model",
    "runtime_basis",
    "train_options",
)


def scheduler_field(planned: dict, name: str) -> int | str | None:
    """One Snakemake resource from a plan; None leaves it unset.

    ``tasks`` and ``mpi`` exist only for multi-node runs: the SLURM plugin turns a GPU job's
    ``tasks`` into ``--ntasks-per-gpu`` (``tasks_per_gpu=0`` keeps that out), and ``mpi="srun"``
    tells it not to wrap the launcher's own ``srun`` in another. ``slurm_extra`` asks SLURM for the
    warning signal the trainer checkpoints on (docs/slurm.md); the local executor ignores all three.
    ``runtime_basis`` says what the time limit rests on (a measured cost model or an assumed
    rate); schedulers ignore it, and scripts/slurm/preview.py reports it.
    """
    multi_node = planned["nodes"] > 1
    if name == "tasks":
        return planned["nodes"] if multi_node else None
    if name == "mpi":
        return "srun" if multi_node else None
    if name == "slurm_extra":
        return f"--signal=URG@{round(planned['warning_lead_s'])}"
    if name == "tasks_per_gpu":
        return 0
    if name == "gpu_model":
        return planned["gpu_model"] or None
    return planned[name]


def job_resources(
    section: dict, plan_of: Callable[[Any], dict]
) -> dict[str, Callable[[Any], int | str | None]]:
    """The ``resources:`` of a training rule, from ``plan_of(wildcards)`` (a resource plan).

    Every rule that trains takes its resources from here, so each gets the same placement fields,
    the same warning signal and the same run options.
    """

    def field(name: str) -> Callable[[Any], int | str | None]:
        if name == "train_options":
            return lambda wildcards: options_json(section)
        return lambda wildcards: scheduler_field(plan_of(wildcards), name)

    return {name: field(name) for name in JOB_RESOURCES}


def run_resources(
    section: dict, val_path: Callable[[str], str]
) -> dict[str, Callable[[Any], int | str | None]]:
    """``resources:`` of the ``train`` rule: one run per (grammar, size, budget) wildcard."""
    return job_resources(
        section,
        lambda wc: resources(section, wc.size, int(wc.budget), val_path(wc.grammar)),
    )
