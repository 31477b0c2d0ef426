"""The 4+3 phases of compute-optimal PLRF scaling and their exponents d* ~ f^xi, P* ~ f^-eta.

The loss is governed by four terms (t = gamma r, learning-rate-scaled time; gamma ~ 1/tr D, which
is O(1) above the high-dimensional line 2 alpha = 1 and ~ d^(2 alpha - 1) below it, since v ~ d):

    F_pp ~ t^-(2a+2b-1)/(2a)           optimisation of the learnable part
    F_0  ~ d^-(2a+2b-1) (2b<1),  d^-2a (2b>1)   capacity limit
    F_ac ~ d^-1 t^(1/(2a)-1) (2b>1, 2a>1);  a level ~ d^-2a below the line (merges with F_0)
    K_pp ~ gamma t^(1/(2a)-2) (a>1/4);  a level ~ d^-2a for a<1/4 (merges with F_0)

Minimising the dominant pair over d at f = r d gives the exponents. Phases Ia, II and III are the
paper's (Paquette et al. 2024, arXiv 2405.15074); Ib, Ic, IVa and IVb are derived here from the
same balance (docs/plrf.md writes the derivation out), and checked against the W-free
deterministic equivalent at large d.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from datalaws.plrf.model import PLRFError

IV_SPLIT = 1.0 - 1.0 / math.sqrt(2.0)  # alpha where K_pp at fixed f stops depending on d
BOUNDARY_TOL = 1e-9

SOURCES = {
    "Ia": "paper (Paquette et al. 2024)",
    "II": "paper (Paquette et al. 2024)",
    "III": "paper (Paquette et al. 2024)",
    "Ib": "derived here (docs/plrf.md)",
    "Ic": "derived here (docs/plrf.md)",
    "IVa": "derived here (docs/plrf.md)",
    "IVb": "derived here (docs/plrf.md)",
}

BALANCE = {
    "Ia": "F_pp = F_0",
    "Ib": "F_pp = F_0 at r ~ d",
    "Ic": "F_pp = F_0 (+ K_pp, F_ac levels ~ d^-2a)",
    "II": "F_pp = F_ac",
    "III": "F_ac = K_pp",
    "IVa": "K_pp = F_0 at r ~ d",
    "IVb": "F_pp = K_pp",
}


@dataclass(frozen=True)
class Exponents:
    """Theoretical exponents at one (alpha, beta), with the phase and how sure the formula is.

    ``eta``/``xi`` are None where no formula holds (no learnable target, or a boundary where the
    neighbouring phases disagree); ``note`` then says why."""

    alpha: float
    beta: float
    phase: str
    eta: float | None
    xi: float | None
    source: str
    note: str = ""

    def as_dict(self) -> dict:
        return {
            "alpha": self.alpha,
            "beta": self.beta,
            "phase": self.phase,
            "eta": self.eta,
            "xi": self.xi,
            "source": self.source,
            "balance": "; ".join(BALANCE[p] for p in self.phase.split("/") if p in BALANCE),
            "note": self.note,
        }


def _formula(phase: str, a: float, b: float) -> tuple[float, float]:
    """(eta, xi) of one phase, evaluated anywhere (callers decide where it applies)."""
    s = 2 * a + 2 * b - 1
    if phase == "Ia":
        return s / (2 * a + 1), 1 / (2 * a + 1)
    if phase == "Ib":
        return s / 2, 0.5
    if phase == "Ic":
        xi = s / ((2 - 2 * a) * s + 4 * a * a)
        return 2 * a * xi, xi
    if phase == "II":
        return s / (2 * (a + b)), b / (a + b)
    if phase == "III":
        return 1 - 1 / (4 * a), 0.5
    if phase == "IVa":
        return a, 0.5
    if phase == "IVb":
        denom = 2 * b * (1 - a) - a
        return s * (1 - 2 * a) / (2 * denom), (b - a) / denom
    raise KeyError(phase)


def _phases_near(a: float, b: float, tol: float) -> list[str]:
    """Every phase whose closed region contains (a, b), within ``tol`` of its boundaries."""

    def le(x: float, y: float) -> bool:
        return x <= y + tol

    high, low_b = le(0.5, a), le(b, 0.5)
    below, high_b = le(a, 0.5), le(0.5, b)
    found = []
    if high and low_b:
        found.append("Ia")
    if below and low_b:
        found.append("Ib")
    if high and high_b and le(b, a):
        found.append("II")
    if high and high_b and le(a, b):
        found.append("III")
    if below and high_b and le(a, 0.25):
        found.append("Ic")
    if below and high_b and le(0.25, a) and le(a, IV_SPLIT):
        found.append("IVb")
    if below and high_b and le(IV_SPLIT, a):
        found.append("IVa")
    return found


def exponents(alpha: float, beta: float, tol: float = BOUNDARY_TOL) -> Exponents:
    """Theoretical (eta, xi) at (alpha, beta), or None with a reason where no formula holds."""
    a, b = float(alpha), float(beta)
    if not (math.isfinite(a) and math.isfinite(b)):
        raise PLRFError(f"alpha and beta must be finite, got alpha={alpha}, beta={beta}")
    if a <= 0:
        raise PLRFError(f"alpha must be > 0, got {a}")
    if 2 * (a + b) <= 1 + tol:
        return Exponents(
            a,
            b,
            "none",
            None,
            None,
            "none",
            "2(alpha+beta) <= 1: the target energy sum_j j^(-2a-2b) diverges with v, the loss "
            "has no power-law compute-optimal frontier and no formula applies",
        )
    phases = _phases_near(a, b, tol)
    values = {p: _formula(p, a, b) for p in phases}
    if len(phases) == 1:
        (phase,) = phases
        eta, xi = values[phase]
        return Exponents(a, b, phase, eta, xi, SOURCES[phase])
    phase = "/".join(phases)
    etas = {round(v[0], 9) for v in values.values()}
    xis = {round(v[1], 9) for v in values.values()}
    eta = next(iter(values.values()))[0] if len(etas) == 1 else None
    xi = next(iter(values.values()))[1] if len(xis) == 1 else None
    source = "; ".join(sorted({SOURCES[p] for p in phases}))
    note = f"on the boundary of phases {', '.join(phases)}"
    if eta is None or xi is None:
        note += ": their formulas disagree here, so the exponent is not determined"
    if abs(a - 0.5) <= tol:
        note += "; on 2 alpha = 1 logarithmic corrections are expected"
    return Exponents(a, b, phase, eta, xi, source, note)


def boundaries(alpha_max: float, beta_min: float, beta_max: float) -> list[dict]:
    """Phase boundaries as polylines {label, alpha: [...], beta: [...]} for drawing."""
    lines = [
        {"label": "2a = 1", "alpha": [0.5, 0.5], "beta": [beta_min, beta_max]},
        {"label": "2b = 1", "alpha": [0.0, alpha_max], "beta": [0.5, 0.5]},
        {
            "label": "a = b",
            "alpha": [0.5, min(alpha_max, beta_max)],
            "beta": [0.5, min(alpha_max, beta_max)],
        },
        {"label": "a = 1/4", "alpha": [0.25, 0.25], "beta": [0.5, beta_max]},
        {"label": "a = 1 - 1/sqrt2", "alpha": [IV_SPLIT, IV_SPLIT], "beta": [0.5, beta_max]},
        {"label": "2(a+b) = 1", "alpha": [0.0, 0.5], "beta": [0.5, 0.0]},
    ]
    return lines
