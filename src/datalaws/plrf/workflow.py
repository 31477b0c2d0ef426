"""What workflow/rules/plrf.smk needs from the ``plrf`` config section, kept in Python so the
rules stay declarative. Every key is required by workflow/schemas/plrf.schema.yaml."""

from __future__ import annotations

import re
from typing import Any

POINT = re.compile(r"^a(?P<alpha>[0-9.]+)_b(?P<beta>-?[0-9.]+)$")
POINT_PATTERN = r"a[0-9.]+_b-?[0-9.]+"


def point_name(alpha: float, beta: float) -> str:
    return f"a{float(alpha):g}_b{float(beta):g}"


def parse_point(name: str) -> tuple[float, float]:
    match = POINT.match(name)
    if match is None:
        raise ValueError(f"not a PLRF point name (a<alpha>_b<beta>): {name!r}")
    return float(match["alpha"]), float(match["beta"])


def common(config: dict[str, Any]) -> dict[str, Any]:
    """Batch, step scale and v/d ratio shared by the check and the exact comparison."""
    section = config["plrf"]
    return {key: section[key] for key in ("batch", "step_scale", "v_ratio")}


def phase_common(config: dict[str, Any]) -> dict[str, Any]:
    """As ``common`` with the phase diagram's own step scale (stable for its largest alpha)."""
    return common(config) | {"step_scale": config["plrf"]["phase_diagram"]["step_scale"]}


def validation_points(config: dict[str, Any]) -> list[str]:
    return [point_name(a, b) for a, b in config["plrf"]["validation"]["points"]]


def phase_points(config: dict[str, Any]) -> list[str]:
    grid = config["plrf"]["phase_diagram"]
    return [point_name(a, b) for a in grid["alpha"] for b in grid["beta"]]


FIGURES = ("frontier", "isoflop", "convergence", "validation", "exact_check", "phase_diagram")


def targets(config: dict[str, Any]) -> list[str]:
    """Final outputs of the theory arm (for ``rule all``)."""
    return [
        *(f"results/plrf/figures/{name}.png" for name in FIGURES),
        "results/plrf/phase_table.csv",
        "results/plrf/summary.md",
    ]
