"""What workflow/rules/laws.smk needs from the config, kept in Python so the rules stay declarative.

Defaults live in workflow/schemas/laws.schema.yaml only; ``settings`` fills them from there.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import yaml

from datalaws.atomic import write_text
from datalaws.config import with_defaults

FIGURES = (
    "fig1_gzip",
    "fig2_loss",
    "fig3_frontiers",
    "fig4_params",
    "fig5_approaches",
    "fig6_holdout",
    "fig7_claim",
)
TABLES = ("parameters", "h_regression", "h_law", "approaches", "holdout", "crossing", "claim")
JSONS = ("h_regression", "h_law", "approaches", "holdout", "crossing", "claim")


def settings(config: dict[str, Any]) -> dict[str, Any]:
    """The ``laws`` section with its schema's defaults filled in."""
    return with_defaults(config.get("laws"), "laws")


def fit_args(config: dict[str, Any]) -> str:
    """Options of ``datalaws fit`` for this config."""
    s = settings(config)
    return f"--bootstrap {s['bootstrap']} --seed {s['seed']} --level {s['ci_level']}"


def figure_path(name: str, ext: str) -> str:
    return f"results/figures/laws/{name}.{ext}"


def table_path(name: str) -> str:
    return f"results/laws/tables/{name}.csv"


def targets(grammars: Sequence[str]) -> list[str]:
    """Final outputs of the laws stage for these grammars."""
    out = [f"results/laws/law_{g}.json" for g in grammars]
    out += [f"results/laws/{name}.json" for name in JSONS]
    out += ["results/laws/runs.csv", "results/laws/frontiers.csv", "results/laws/config.yaml"]
    out += [table_path(t) for t in TABLES]
    out += [figure_path(f, ext) for f in FIGURES for ext in ("png", "pdf")]
    return out


def write_config(config: dict[str, Any], path: str) -> None:
    """The laws settings actually used, for the report."""
    write_text(path, yaml.safe_dump({"laws": settings(config)}, sort_keys=False))


def run_logged(log: str, step: Callable[..., None], *args: Any, **kwargs: Any) -> None:
    """Run one study step for a Snakemake script, writing its wall time (or traceback) to ``log``.

    Cacheable rules may not carry a ``benchmark:``, so the log is where their time is kept.
    """
    start = time.perf_counter()
    with open(log, "w", encoding="utf-8") as handle:
        try:
            step(*args, **kwargs)
        except BaseException:
            handle.write(traceback.format_exc())
            raise
        handle.write(f"{step.__module__}.{step.__name__}: {time.perf_counter() - start:.2f} s\n")
