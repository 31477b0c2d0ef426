"""What workflow/rules/qqt.smk needs from the config, kept in Python so the rules stay declarative.

Defaults repeat those of workflow/schemas/qqt.schema.yaml, so the rules work whether or not the
validator filled them in.
"""

from __future__ import annotations

import shlex
from typing import Any

DEFAULTS: dict[str, Any] = {"mixture_runs": "", "fraction": 0.1, "control": "random", "order": []}
FIT_DEFAULTS: dict[str, Any] = {
    "n_boot": 200,
    "seed": 0,
    "level": 0.95,
    "loss": "soft_l1",
    "f_scale": 0.01,
    "share": [],
}


def settings(config: dict[str, Any]) -> dict[str, Any]:
    """The ``qqt`` section with defaults filled in."""
    section = config["qqt"]
    return DEFAULTS | section | {"fit": FIT_DEFAULTS | section.get("fit", {})}


def fit_args(config: dict[str, Any]) -> str:
    """Options of ``datalaws qqt fit`` for this config."""
    qqt = settings(config)
    fit = qqt["fit"]
    args = [
        f"--n-boot {fit['n_boot']}",
        f"--seed {fit['seed']}",
        f"--level {fit['level']}",
        f"--loss {fit['loss']}",
        f"--f-scale {fit['f_scale']}",
        f"--control {shlex.quote(qqt['control'])}",
        f"--fraction {qqt['fraction']}",
    ]
    if fit["share"]:
        args.append(f"--share {','.join(fit['share'])}")
    if qqt["order"]:
        args.append(f"--order {shlex.quote(','.join(qqt['order']))}")
    return " ".join(args)


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


def targets(config: dict[str, Any]) -> list[str]:
    """Final outputs of the stage, for ``rule all``."""
    return [
        "results/qqt/params.json",
        "results/qqt/decision.json",
        "results/qqt/summary.md",
        "results/qqt/figures/buckets.png",
        "results/qqt/figures/mixtures.png",
        "results/qqt/figures/frontier.png",
        *compare_csv(config),
    ]
