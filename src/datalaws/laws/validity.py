"""Whether a law can answer a question: physical parameters, and how far outside its runs it is.

``frontier`` and ``predict`` turn a law into N_opt and D_opt at a compute budget. Two ways that
goes wrong without a word, both seen on the tiny study: a parameter set with no physical meaning
(alpha or beta <= 0, so there is no interior optimum; E below zero or above every loss the runs
measured, as a linear-in-H law gives far outside its H range), and an answer many decades beyond
the N, D and compute the law was fitted on, where small differences in the exponents compound
(the per-grammar law and the H-conditioned law of the same grammar then disagree by 100x). The
first is refused with the reason; the second is answered with the distance stated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

# Below this many decades outside the fitted box, an answer is called an interpolation.
TOLERANCE_DECADES = 0.05


@dataclass(frozen=True)
class FittedBox:
    """The N and D a law was fitted on, and the losses it saw; compute is C = 6 N D."""

    n: tuple[float, float]
    d: tuple[float, float]
    loss_max: float

    @property
    def compute(self) -> tuple[float, float]:
        return 6.0 * self.n[0] * self.d[0], 6.0 * self.n[1] * self.d[1]

    def describe(self) -> str:
        (n0, n1), (d0, d1), (c0, c1) = self.n, self.d, self.compute
        return (
            f"The law was fitted on N from {n0:.3g} to {n1:.3g} parameters, D from {d0:.3g} to "
            f"{d1:.3g} tokens, compute C = 6ND from {c0:.3g} to {c1:.3g} FLOPs."
        )


def box_of(record: dict[str, Any]) -> FittedBox:
    """The fitted box of a per-grammar law record (``datalaws fit`` or the workflow)."""
    r = record["range"]
    return FittedBox(n=tuple(r["N"]), d=tuple(r["D"]), loss_max=float(r["loss"][1]))


def box_of_sources(sources: dict[str, dict[str, Any]], loss_max: float) -> FittedBox:
    """The union of the N and D ranges of the sources an H-conditioned law was fitted on."""
    n = [v for s in sources.values() for v in s["N"]]
    d = [v for s in sources.values() for v in s["D"]]
    return FittedBox(n=(min(n), max(n)), d=(min(d), max(d)), loss_max=loss_max)


def unphysical(params: dict[str, float | None], box: FittedBox) -> list[str]:
    """Why a law's point parameters (E, A, B, alpha, beta) cannot be used; empty if they can."""
    reasons = []
    for name, what in (("alpha", "N"), ("beta", "D")):
        value = params[name]
        if value is None or not math.isfinite(value) or value <= 0:
            reasons.append(
                f"{name} = {value}: the loss does not fall with {what}, so there is no "
                "compute-optimal allocation"
            )
    for name, what in (("A", "N"), ("B", "D")):
        value = params[name]
        if value is None or not math.isfinite(value) or value <= 0:
            reasons.append(f"{name} = {value}: the runs do not resolve the {what} term")
    e = params["E"]
    if e is None or not math.isfinite(e) or e < 0:
        reasons.append(f"E = {e}: an irreducible loss must be finite and >= 0")
    elif e > box.loss_max:
        reasons.append(
            f"E = {e:.4g} exceeds every loss the law was fitted on (at most {box.loss_max:.4g})"
        )
    return reasons


def refuse_unphysical(params: dict[str, float | None], box: FittedBox, what: str) -> None:
    """Raise ValueError naming every reason ``what`` cannot give an allocation."""
    reasons = unphysical(params, box)
    if reasons:
        raise ValueError(f"{what} is not a physical law: " + "; ".join(reasons))


def decades_outside(value: float, bounds: tuple[float, float]) -> float:
    """Signed decades beyond the range: > 0 above it, < 0 below it, 0 inside."""
    lo, hi = bounds
    if value > hi:
        return math.log10(value / hi)
    if value < lo:
        return -math.log10(lo / value)
    return 0.0


def extrapolation(row: dict[str, Any], box: FittedBox) -> dict[str, float | None]:
    """How many decades the row's compute, N_opt and D_opt lie outside the fitted box."""
    out: dict[str, float | None] = {"compute": decades_outside(row["compute"], box.compute)}
    for key, bounds in (("n_opt", box.n), ("d_opt", box.d)):
        value = row[key]
        out[key] = None if value is None else decades_outside(value, bounds)
    return out


def extrapolation_warning(row: dict[str, Any], box: FittedBox) -> str | None:
    """One line when the row lies outside the fitted box, saying by how much; else None."""
    labels = {"compute": "compute C", "n_opt": "N_opt", "d_opt": "D_opt"}
    parts = [
        f"{labels[k]} {abs(v):.1f} decades {'above' if v > 0 else 'below'} the fitted range"
        for k, v in extrapolation(row, box).items()
        if v is not None and abs(v) > TOLERANCE_DECADES
    ]
    if not parts:
        return None
    return f"EXTRAPOLATION at C = {row['compute']:.3g}: " + ", ".join(parts) + "."
