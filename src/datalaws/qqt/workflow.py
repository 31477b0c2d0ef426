"""What workflow/rules/qqt.smk and qqt_study.smk need from the config, kept in Python so the
rules stay declarative.

Defaults repeat those of workflow/schemas/qqt.schema.yaml, so the rules work whether or not the
validator filled them in. The study trains the models of the training stage: its runs take their
shape, hyperparameters, run options and scheduler resources from the ``train`` section (the same
ladder, the same cluster), with ``qqt.study.hyper`` overriding hyperparameters for the study.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from datalaws.config import derive_seed, with_defaults
from datalaws.qqt.study import CLEAN, StudyPlan, run_spec

BUCKETS_CSV = "results/qqt/runs/buckets.csv"
MIXTURES_CSV = "results/qqt/runs/mixtures.csv"
PLANNING_CONTEXT = 256


class QqtConfigError(ValueError):
    """A ``qqt`` config section that is well-typed but inconsistent with the rest."""


def settings(config: dict[str, Any]) -> dict[str, Any]:
    """The ``qqt`` section with its schema's defaults filled in (the schema is their only home)."""
    return with_defaults(config["qqt"], "qqt")


def fit_args(config: dict[str, Any]) -> str:
    """Options of ``datalaws qqt fit`` for this config."""
    qqt = settings(config)
    fit = qqt["fit"]
    args = [
        f"--n-boot {fit['n_boot']}",
        f"--resample {fit['resample']}",
        f"--seed {fit['seed']}",
        f"--level {fit['level']}",
        f"--loss {fit['loss']}",
        f"--f-scale {fit['f_scale']}",
        f"--control {shlex.quote(','.join(controls(config)))}",
        f"--fraction {qqt['fraction']}",
    ]
    if fit["share"]:
        args.append(f"--share {','.join(fit['share'])}")
    if qqt["order"]:
        args.append(f"--order {shlex.quote(','.join(qqt['order']))}")
    return " ".join(args)


def controls(config: dict[str, Any]) -> list[str]:
    """Buckets kept out of top-k: ``qqt.control`` plus, with a study, its random and clean ones."""
    names = [name.strip() for name in settings(config)["control"].split(",") if name.strip()]
    if has_study(config):
        names += [name for name in plan(config).controls if name not in names]
    return names


def budgets(config: dict[str, Any]) -> list[float]:
    return [float(b) for b in config["qqt"]["budgets"]]


def budgets_arg(config: dict[str, Any]) -> str:
    return ",".join(f"{b:g}" for b in budgets(config))


def mixture_runs(config: dict[str, Any]) -> list[str]:
    """The measured-mixtures CSV as a list (empty when none is configured)."""
    path = settings(config)["mixture_runs"]
    return [path] if path else []


def compare_csv(config: dict[str, Any]) -> list[str]:
    return ["results/qqt/compare.csv"] if mixture_runs(config) else []


def scorers_json(config: dict[str, Any]) -> list[str]:
    """The study's scorer report, for the summary (empty without a study)."""
    return ["results/qqt/scorers.json"] if has_study(config) else []


def targets(config: dict[str, Any]) -> list[str]:
    """Final outputs of the stage, for ``rule all``."""
    study_outputs = ["results/qqt/scorers.json", "results/qqt/buckets.json"]
    return [
        "results/qqt/params.json",
        "results/qqt/decision.json",
        "results/qqt/summary.md",
        "results/qqt/figures/buckets.png",
        "results/qqt/figures/mixtures.png",
        "results/qqt/figures/frontier.png",
        *compare_csv(config),
        *(study_outputs if has_study(config) else []),
    ]


# The study: pool -> reference model -> scores -> buckets -> runs per pool -> runs CSVs.


def has_study(config: dict[str, Any]) -> bool:
    return bool(config["qqt"].get("study"))


def study(config: dict[str, Any]) -> dict[str, Any]:
    """The ``qqt.study`` section with defaults; its outputs must be the CSVs the analysis reads."""
    section = config["qqt"].get("study")
    if not section:
        raise QqtConfigError("qqt.study: no study configured")
    qqt = settings(config)
    out = qqt["study"]
    expected = {"runs": BUCKETS_CSV, "mixture_runs": MIXTURES_CSV if out["mixtures"] else ""}
    for key, path in expected.items():
        if qqt[key] != path:
            raise QqtConfigError(
                f"qqt.{key}: the study writes {path!r}, so with qqt.study set it must be "
                f"{path!r}, got {qqt[key]!r}"
            )
    return out


def trained_study(config: dict[str, Any]) -> dict[str, Any]:
    """``study`` checked against the grammars and the training ladder.

    Called only by what a study job needs (its inputs, specs, resources), so that a config whose
    overlay replaces the grammars or the ladder (a reduced test study) still parses; the error
    comes as soon as a qqt job is planned.
    """
    out = study(config)
    names = [g["name"] for g in config["grammars"]]
    if out["grammar"] not in names:
        raise QqtConfigError(f"qqt.study.grammar: {out['grammar']!r} is not one of {names}")
    for key, size in (("size", out["size"]), ("reference.size", out["reference"]["size"])):
        if size not in config["train"]["ladder"]:
            raise QqtConfigError(
                f"qqt.study.{key}: {size!r} is not in train.ladder "
                f"{sorted(config['train']['ladder'])}"
            )
    return out


def plan(config: dict[str, Any]) -> StudyPlan:
    section = study(config)
    return StudyPlan(
        documents=section["documents"],
        fraction=settings(config)["fraction"],
        buckets=section["buckets"],
        passes=tuple(float(p) for p in section["passes"]),
        mixtures=tuple(section["mixtures"]),
        mixture_budgets=tuple(section["mixture_budgets"]),
        clean_budgets=tuple(section["clean_budgets"]),
    )


def study_seed(config: dict[str, Any]) -> int:
    """The study's seed, derived from the root seed (so a new root seed gives a new pool)."""
    return derive_seed(config["seed"], "qqt", study(config)["seed"])


def grammar(config: dict[str, Any]) -> str:
    return trained_study(config)["grammar"]


def grammar_json(config: dict[str, Any]) -> str:
    return f"results/grammars/{grammar(config)}.json"


def val_file(config: dict[str, Any], val_path: Callable[[str], str]) -> str:
    """The clean validation file: the study grammar's held-out corpus (``data_val_path``)."""
    return val_path(grammar(config))


def pool_args(config: dict[str, Any]) -> str:
    """Options of ``datalaws qqt pool``."""
    section = trained_study(config)
    corruption = section["corruption"]
    return (
        f"--name {shlex.quote(section['grammar'])} --documents {section['documents']}"
        f" --reference-documents {section['reference']['documents']}"
        f" --clean-documents {max(section['clean_budgets'], default=0)}"
        f" --context {config['context']} --seed {study_seed(config)}"
        f" --alpha {corruption['alpha']} --beta {corruption['beta']}"
        f" --max-rate {corruption['max_rate']}"
    )


def buckets_args(config: dict[str, Any]) -> str:
    """Options of ``datalaws qqt buckets``."""
    section, mixtures = study(config), plan(config).mixtures
    args = [
        f"--scorer {section['scorer']}",
        f"--fraction {settings(config)['fraction']}",
        f"--buckets {section['buckets']}",
        f"--seed {study_seed(config)}",
    ]
    if mixtures:
        args.append(f"--mixtures {','.join(str(k) for k in mixtures)}")
    return " ".join(args)


def pool_file(name: str) -> str:
    return f"results/qqt/pools/{name}.bin"


def bucket_files(config: dict[str, Any]) -> list[str]:
    """Token files the buckets job writes: every pool but the clean anchor."""
    return [pool_file(name) for name in plan(config).pool_names if name != CLEAN]


def clean_file(config: dict[str, Any]) -> list[str]:
    """The clean anchor's token file (written with the pool), if the study has one."""
    return [pool_file(CLEAN)] if plan(config).clean_budgets else []


def runs_tables(config: dict[str, Any], kind: str) -> list[str]:
    """Per-pool runs tables of the buckets (``kind='buckets'``) or the mixtures."""
    names = plan(config).bucket_names if kind == "buckets" else plan(config).mixture_names
    return [f"results/qqt/train/{name}/runs.csv" for name in names]


def _base_spec(config: dict[str, Any], size: str) -> dict:
    from datalaws.train.config import HyperParams, from_dict
    from datalaws.train.config import run_spec as train_run_spec

    spec = train_run_spec(config["train"], size, 0, labels={"grammar": grammar(config)})
    hyper = spec["hyper"] | trained_study(config)["hyper"]
    spec["hyper"] = asdict(from_dict(HyperParams, hyper, "qqt.study.hyper"))
    return spec


def _context(config: dict[str, Any]) -> int:
    return int(config.get("context", PLANNING_CONTEXT))


def pool_specs(config: dict[str, Any], name: str) -> list[dict]:
    """Training specs of every run of one pool (what ``datalaws train`` takes as ``--spec``)."""
    the_plan = plan(config)
    base = _base_spec(config, trained_study(config)["size"])
    return [
        run_spec(base, name, samples, the_plan.unique_documents(name, samples), _context(config))
        for samples in the_plan.samples(name)
    ]


def pool_specs_json(config: dict[str, Any], name: str) -> str:
    """The rule's only param for one pool: all that determines its trained models."""
    return json.dumps(pool_specs(config, name), sort_keys=True, separators=(",", ":"))


def reference_spec(config: dict[str, Any]) -> dict:
    """The reference model: trained on the clean sample for ``reference.passes`` passes."""
    reference = trained_study(config)["reference"]
    spec = _base_spec(config, reference["size"])
    documents = reference["documents"]
    samples = max(1, round(reference["passes"] * documents))
    spec = run_spec(spec, "reference", samples, documents, _context(config))
    spec["labels"]["size"] = reference["size"]
    return spec


def reference_spec_json(config: dict[str, Any]) -> str:
    return json.dumps(reference_spec(config), sort_keys=True, separators=(",", ":"))


def run_resources(config: dict[str, Any], spec: dict, val_path: str) -> dict:
    """Scheduler resources of one run (``datalaws.train.resources.plan``)."""
    from datalaws.train.config import parse_spec
    from datalaws.train.resources import plan as resource_plan
    from datalaws.train.workflow import corpus_shape, resource_config

    rc = resource_config(config["train"])
    arch, hyper, budget, _, _ = parse_spec(spec)
    return resource_plan(arch.model(*corpus_shape(val_path, rc)), budget, hyper, rc)


def job_plan(config: dict[str, Any], specs: list[dict], val_path: str) -> dict:
    """One job trains its runs one after another: the largest placement, the summed runtime."""
    plans = [run_resources(config, spec, val_path) for spec in specs]
    out = {
        key: max(p[key] for p in plans)
        for key in ("gpu", "nodes", "cpus_per_task", "procs_per_node", "mem_mb")
    }
    out["runtime"] = sum(p["runtime"] for p in plans)
    for key in ("warning_lead_s", "gpu_model", "runtime_basis"):  # the same for every run
        out[key] = plans[0][key]
    return out


def resources(
    config: dict[str, Any], val_path: Callable[[str], str]
) -> dict[str, Callable[[Any], int | str | None]]:
    """``resources:`` of a pool's training job (wildcard ``pool``) or, without that wildcard, the
    reference model's: the training stage's fields (``datalaws.train.workflow.job_resources``)."""
    from datalaws.train.workflow import job_resources

    def plan_of(wildcards: Any) -> dict:
        pool = getattr(wildcards, "pool", None)
        specs = [reference_spec(config)] if pool is None else pool_specs(config, pool)
        return job_plan(config, specs, val_path(grammar(config)))

    return job_resources(config["train"], plan_of)
