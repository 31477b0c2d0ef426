"""What ``workflow/rules/compare.smk`` needs from the config, so the rules stay declarative."""

from __future__ import annotations

from typing import Any

from datalaws.compare import MIN_SOURCES
from datalaws.config import with_defaults
from datalaws.datasets.config import names as dataset_names

PREDICTORS = "results/compare/predictors.json"
H_LAW = "results/compare/h_law_grammars.json"
TRANSFER = "results/compare/transfer.json"


def settings(config: dict[str, Any]) -> dict[str, Any]:
    """The ``compare`` section with its schema's defaults (the section is optional)."""
    return with_defaults(config.get("compare"), "compare")


def table_path(name: str) -> str:
    return f"results/compare/tables/{name}.csv"


def grammars(config: dict[str, Any]) -> list[str]:
    return [g["name"] for g in config["grammars"]]


def targets(config: dict[str, Any]) -> list[str]:
    """The comparison across all sources needs MIN_SOURCES of them; the grammar H-law and its
    transfer to datasets need two grammars and at least one dataset."""
    out = []
    if len(grammars(config)) + len(dataset_names(config)) >= MIN_SOURCES:
        out += [PREDICTORS, table_path("predictors")]
    if len(grammars(config)) >= 2 and dataset_names(config):
        out += [H_LAW, TRANSFER, table_path("transfer")]
    return out
