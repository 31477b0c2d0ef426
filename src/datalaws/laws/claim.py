"""The paper's headline, measured: compute-optimal tokens per parameter against gzip H.

Pandey (2024) claims that as data gets harder to compress (H rises) the compute-optimal
allocation shifts from parameters toward data. At one compute level C inside every grammar's
fitted range, each grammar's own law gives D_opt / N_opt, and each of its bootstrap laws gives
one more, so the per-grammar values carry their fit uncertainty. The claim is the sign of the
slope of log10(D_opt / N_opt) on H: the least-squares line through the point values, with a
percentile interval from the lines through the b-th bootstrap value of every grammar. The verdict
says which way the interval points, or that it straddles zero.

The equal-compressibility control (the paper's Table 5 idea): grammars of different structure
whose H lies within ``max_dh`` of each other. If gzip H is what drives the law, their laws agree:
every parameter's interval, the N_opt exponent's and the tokens per parameter's overlap.

Where the H-conditioned law (one law for all grammars) is available, it is checked against the
per-grammar fits: at each grammar's H its tokens per parameter should fall inside the grammar's
own interval, and its intervals should overlap; a disagreement means the linear-in-H form does not
describe these grammars, whatever its fit statistics.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from datalaws.laws.bootstrap import percentile_interval
from datalaws.laws.crossing import log_tpp
from datalaws.laws.frontier import exponents, log_n_opt
from datalaws.laws.hlaw import HLawFile
from datalaws.laws.hregress import lines_through
from datalaws.laws.lawfile import LawFile, finite_or_none

LN10 = np.log(10.0)


def claim_compute(runs: pd.DataFrame) -> float:
    """The geometric middle of the runs' compute range C = 6 N D: inside every grammar's fit
    when all grammars share the grid."""
    c = 6.0 * runs["N"].to_numpy(float) * runs["D"].to_numpy(float)
    return float(np.sqrt(c.min() * c.max()))


def _interval(values: np.ndarray, level: float) -> list[float | None]:
    if not np.isfinite(values).any():
        return [None, None]
    return [finite_or_none(v) for v in percentile_interval(values, level)]


def verdict(interval: list[float | None]) -> str:
    """Which way tokens per parameter move with H, as far as the interval can tell."""
    lo, hi = interval
    if lo is None or hi is None:
        return "undetermined: the slope's interval is undefined"
    if lo > 0:
        return "toward data: tokens per parameter rise with H (the paper's direction)"
    if hi < 0:
        return "toward parameters: tokens per parameter fall with H (against the paper's claim)"
    return "no significant trend: the slope's interval includes zero"


def h_law_agreement(
    hl: HLawFile, laws: Mapping[str, LawFile], h: Mapping[str, float], compute: float
) -> list[dict]:
    """Per grammar: the H-law's log10 tokens per parameter at that grammar's H beside the
    grammar's own, and whether their intervals overlap."""
    rows = []
    for g, law in laws.items():
        point, boot = hl.law_at(h[g])
        hl_point = log_tpp(point, compute)[0] / LN10
        hl_iv = _interval(log_tpp(boot, compute) / LN10, hl.level)
        own_iv = _interval(log_tpp(law.samples, compute) / LN10, law.level)
        known = None not in hl_iv and None not in own_iv
        rows.append(
            {
                "grammar": g,
                "H": h[g],
                "h_law_log10_tokens_per_param": finite_or_none(hl_point),
                "h_law_interval": hl_iv,
                "grammar_interval": own_iv,
                "agree": bool(known and hl_iv[0] <= own_iv[1] and own_iv[0] <= hl_iv[1]),
            }
        )
    return rows


def _overlap(a: list[float | None], b: list[float | None]) -> bool | None:
    if None in a or None in b:
        return None
    return bool(a[0] <= b[1] and b[0] <= a[1])


def equal_h_controls(
    laws: Mapping[str, LawFile], h: Mapping[str, float], compute: float, max_dh: float
) -> list[dict]:
    """Every pair of grammars within ``max_dh`` of each other in H: do their laws agree?"""
    names = sorted(laws, key=lambda g: h[g])
    pairs = []
    for i, g1 in enumerate(names):
        for g2 in names[i + 1 :]:
            if abs(h[g2] - h[g1]) > max_dh:
                continue
            l1, l2 = laws[g1], laws[g2]
            checks = {
                k: _overlap(l1.record["intervals"][k], l2.record["intervals"][k])
                for k in l1.record["intervals"]
            }
            checks["n_opt_exponent"] = _overlap(
                _interval(exponents(l1.samples)[:, 0], l1.level),
                _interval(exponents(l2.samples)[:, 0], l2.level),
            )
            checks["log10_tokens_per_param"] = _overlap(
                _interval(log_tpp(l1.samples, compute) / LN10, l1.level),
                _interval(log_tpp(l2.samples, compute) / LN10, l2.level),
            )
            pairs.append(
                {
                    "grammars": [g1, g2],
                    "H": [h[g1], h[g2]],
                    "overlap": checks,
                    "agree": all(v is not False for v in checks.values()),
                }
            )
    return pairs


def measure_claim(
    laws: Mapping[str, LawFile],
    h: Mapping[str, float],
    compute: float,
    hl: HLawFile | None = None,
    level: float = 0.95,
    max_dh: float = 0.02,
) -> dict:
    """Tokens per parameter at ``compute`` per grammar, their slope on H and the verdict; the
    equal-H controls; the H-law's agreement with each grammar."""
    names = sorted(laws, key=lambda g: h[g])
    hs = np.array([h[g] for g in names])
    n_boot = min(laws[g].samples.shape[0] for g in names)
    point = np.array([log_tpp(laws[g].law.theta, compute)[0] for g in names]) / LN10
    boot = np.stack([log_tpp(laws[g].samples[:n_boot], compute) for g in names], axis=1) / LN10
    rows = []
    for i, g in enumerate(names):
        law = laws[g]
        n_opt = float(np.exp(log_n_opt(law.law.theta, np.array([compute]))[0, 0]))
        n_range = law.record["range"]["N"]
        rows.append(
            {
                "grammar": g,
                "H": float(hs[i]),
                "log10_tokens_per_param": finite_or_none(point[i]),
                "interval": _interval(boot[:, i], level),
                "n_opt": finite_or_none(n_opt),
                "n_opt_inside_fitted_range": bool(n_range[0] <= n_opt <= n_range[1]),
            }
        )
    ok = np.all(np.isfinite(boot), axis=1)
    slope = float(np.polyfit(hs, point, 1)[0]) if np.all(np.isfinite(point)) else float("nan")
    boot_slope, _ = lines_through(hs, boot[ok]) if ok.any() else (np.array([]), None)
    slope_iv = _interval(boot_slope, level) if ok.any() else [None, None]
    result = {
        "compute": compute,
        "ci_level": level,
        "grammars": rows,
        "slope_log10_tokens_per_param_per_H": finite_or_none(slope),
        "slope_interval": slope_iv,
        "n_resamples": int(ok.sum()),
        "verdict": verdict(slope_iv),
        "equal_h_controls": equal_h_controls(laws, h, compute, max_dh),
        "control_max_dh": max_dh,
    }
    if hl is not None:
        agreement = h_law_agreement(hl, {g: laws[g] for g in names}, h, compute)
        result["h_law_agreement"] = agreement
        result["h_law_agrees_with_every_grammar"] = all(r["agree"] for r in agreement)
    return result
