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

from datalaws.train.config import (
    TrainConfigError,
    from_dict,
    ladder,
    parse_wsd,
    run_spec,
    run_steps,
    size_hyper,
    trunk_spec,
)
from datalaws.train.resources import ResourceConfig, plan

RUN_DIR = "results/train/{grammar}/{size}/{budget}"
TRUNK_DIR = "results/train/{grammar}/{size}/trunk"
PLANNING_CONTEXT = 256


def final_json(grammar: str, size: str, budget: int | str) -> str:
    return f"{RUN_DIR.format(grammar=grammar, size=size, budget=budget)}/final.json"


def final_jsons(section: dict, grammar: str) -> list[str]:
    """Every run of one grammar: sizes x budgets."""
    return [final_json(grammar, s, b) for s in section["sizes"] for b in section["budgets"]]


def targets(section: dict, grammars: list[str]) -> list[str]:
    return [path for grammar in grammars for path in final_jsons(section, grammar)]


def _canonical(spec: dict) -> str:
    return json.dumps(spec, sort_keys=True, separators=(",", ":"))


def spec_json(section: dict, grammar: str, size: str, budget: int) -> str:
    """The rule's only param: all that determines the trained model, as canonical JSON."""
    return _canonical(run_spec(section, size, budget, labels={"grammar": grammar}))


def trunk_spec_json(section: dict, grammar: str, size: str) -> str:
    """The WSD trunk's spec (``train_trunk``): its branch budgets are part of it."""
    return _canonical(trunk_spec(section, size, labels={"grammar": grammar}))


def trunk_json(section: dict, grammar: str, size: str) -> list[str]:
    """The trunk record a run of this size starts from: one path with a WSD schedule, none else."""
    if "wsd" not in section:
        return []
    return [f"{TRUNK_DIR.format(grammar=grammar, size=size)}/trunk.json"]


def trunk_arg(section: dict, grammar: str, size: str) -> str:
    """``--trunk DIR`` for ``datalaws train`` under a WSD schedule, else nothing."""
    return f"--trunk {TRUNK_DIR.format(grammar=grammar, size=size)}" if "wsd" in section else ""


def options_json(section: dict) -> str:
    """Run options (checkpoint cadence, logging, ...). The rule passes them as a resource, not a
    param: Snakemake reruns jobs whose params change, and these never change the result."""
    return json.dumps(section.get("run", {}), sort_keys=True, separators=(",", ":"))


def check_schedule(section: dict, context: int) -> None:
    """A WSD warmup must end before the decay of every size's smallest run (refused at config
    time, before any job, with the size and budget named)."""
    if "wsd" not in section:
        return
    smallest = min(section["budgets"])
    for size in section["sizes"]:
        wsd, _ = parse_wsd(run_spec(section, size, smallest))
        steps = run_steps(smallest, context, size_hyper(section, size).batch_size)
        if wsd.decay_start(steps) < wsd.warmup_steps:
            raise TrainConfigError(
                f"train.wsd.warmup_steps: {wsd.warmup_steps} steps do not fit before the decay of "
                f"size {size} at budget {smallest} ({steps} steps, decay from step "
                f"{wsd.decay_start(steps)})"
            )


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


def job_tokens(section: dict, size: str, budget: int, context: int, role: str) -> int:
    """Tokens one job trains: a whole run; under WSD, a trunk up to its decay start ("trunk") or
    a run from the trunk's checkpoint through its own decay ("branch")."""
    wsd, _ = parse_wsd(run_spec(section, size, budget))
    if wsd is None:
        return budget
    batch = size_hyper(section, size).batch_size
    steps = run_steps(budget, context, batch)
    start = wsd.decay_start(steps)
    return (start if role == "trunk" else steps - start) * batch * context


def resources(
    section: dict, size: str, budget: int, val_path: str | Path, role: str = "branch"
) -> dict:
    """Scheduler resources of one job (``datalaws.train.resources.plan``); ``role`` as in
    ``job_tokens`` (without a WSD schedule every job is a whole run)."""
    rc = resource_config(section)
    vocab, context = corpus_shape(val_path, rc)
    cfg = ladder(section)[size].model(vocab, context)
    tokens = job_tokens(section, size, budget, context, role)
    return plan(cfg, tokens, size_hyper(section, size), rc)


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


def _memo_plans(
    section: dict, val_path: Callable[[str], str], budget_of: Callable[[Any], int], role: str
) -> Callable[[Any], dict]:
    """One resource plan per job, shared by its resource fields: Snakemake asks for each field
    separately and repeatedly while it schedules. A plan made before the corpus existed (from
    ``vocab_size_hint``) is replaced once the corpus sidecar is there."""
    plans: dict[tuple, dict] = {}

    def plan_of(wc: Any) -> dict:
        val = val_path(wc.grammar)
        key = (wc.grammar, wc.size, budget_of(wc), Path(f"{val}.json").exists())
        if key not in plans:
            plans[key] = resources(section, wc.size, key[2], val, role=role)
        return plans[key]

    return plan_of


def run_resources(
    section: dict, val_path: Callable[[str], str]
) -> dict[str, Callable[[Any], int | str | None]]:
    """``resources:`` of the ``train`` rule: one run per (grammar, size, budget) wildcard."""
    return job_resources(
        section, _memo_plans(section, val_path, lambda wc: int(wc.budget), "branch")
    )


def trunk_resources(
    section: dict, val_path: Callable[[str], str]
) -> dict[str, Callable[[Any], int | str | None]]:
    """``resources:`` of ``train_trunk``: one WSD trunk per (grammar, size) wildcard."""
    largest = max(section["budgets"])
    return job_resources(section, _memo_plans(section, val_path, lambda wc: largest, "trunk"))
