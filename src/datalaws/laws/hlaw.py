"""The H-conditioned law L(N, D, H), and its blend with Chinchilla's constants.

Form: log L_hat = LSE(a(H) - alpha(H) log N, b(H) - beta(H) log D, e(H)), with each of
a = log A, b = log B, e = log E, alpha, beta linear in (H - H_ref), H_ref the grammars' mean H.
So E, A and B are log-linear in H and the loss is positive for every N, D and H (the paper's fully
linear E(H), A(H), B(H) can go negative). Fitted jointly on all runs of all grammars with the same
Huber objective; started from the per-grammar laws (their least-squares lines in H, and each
grammar's law held constant in H); bootstrap resamples runs within each grammar.

The blended law mixes Chinchilla's constants with the H-dependent values in the same coordinates:
theta(H) = (1 - eps) theta_Chinchilla + eps theta_H(H), which is again an H-law (intercept
(1 - eps) theta_C + eps theta_0, slope eps theta_1). eps in [0, 1] is fitted on all runs: eps = 1
means the runs want nothing of Chinchilla's constants, eps = 0 that Chinchilla's law fits as well.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar

from datalaws.atomic import read_json
from datalaws.laws.bootstrap import best_per_resample, percentile_interval, stratified_weights
from datalaws.laws.chinchilla import CHINCHILLA_LAW, NATURAL, THETA, polish, to_natural
from datalaws.laws.lawfile import check_positive
from datalaws.laws.objective import HUBER_DELTA, RunData
from datalaws.laws.optim import minimize_batched

FORMAT = "datalaws-hlaw-v1"
FORM = (
    "L(N, D, H) = E(H) + A(H)/N^alpha(H) + B(H)/D^beta(H); log E, log A, log B, alpha, beta "
    "linear in (H - H_ref)"
)
EPS_GRID = np.linspace(0.0, 1.0, 201)
# Ten parameters on a nearly piecewise-linear objective: L-BFGS (scipy's too) needs ~500-1300
# iterations from a warm start; beyond this cap the objective moves by < 1e-7 relative.
MAX_ITER = 3000


def at_h(theta_h: np.ndarray, h: np.ndarray | float, h_ref: float) -> np.ndarray:
    """Chinchilla thetas (K, 5) of H-laws (K, 10) at one H, or of one H-law at many H."""
    theta_h = np.atleast_2d(theta_h)
    return theta_h[:, :5] + theta_h[:, 5:] * (np.atleast_1d(h)[:, None] - h_ref)


def _starts(thetas: np.ndarray, hc: np.ndarray) -> np.ndarray:
    """Per-grammar laws as starts: their least-squares lines in H, and each one constant in H."""
    slope = (thetas - thetas.mean(0)).T @ hc / (hc @ hc)
    line = np.concatenate([thetas.mean(0) - slope * hc.mean(), slope])
    flat = np.concatenate([thetas, np.zeros_like(thetas)], axis=1)
    return np.vstack([line, flat])


def blend_theta(theta_h: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """H-laws (len(eps), 10) of the blend of one H-law with Chinchilla at each weight eps."""
    eps = np.atleast_1d(eps)[:, None]
    chin = CHINCHILLA_LAW.theta[None, :]
    return np.concatenate([(1 - eps) * chin + eps * theta_h[None, :5], eps * theta_h[None, 5:]], 1)


def fit_blend(data: RunData, theta_h: np.ndarray, samples: np.ndarray, weights: np.ndarray):
    """eps (bounded scalar minimisation) and one eps per resample (on a 0.005 grid, batched)."""

    def objective(eps: float) -> float:
        return float(data.evaluate(blend_theta(theta_h, eps))[0][0])

    grid_f = data.evaluate(blend_theta(theta_h, EPS_GRID))[0]
    j = int(np.argmin(grid_f))
    lo, hi = EPS_GRID[max(j - 1, 0)], EPS_GRID[min(j + 1, EPS_GRID.size - 1)]
    res = minimize_scalar(objective, bounds=(lo, hi), method="bounded", options={"xatol": 1e-6})
    eps = float(res.x) if res.fun <= grid_f[j] else float(EPS_GRID[j])
    thetas = np.concatenate([blend_theta(s, EPS_GRID) for s in samples])
    rowmap = np.repeat(np.arange(len(samples)), EPS_GRID.size)
    f = data.evaluate(thetas, weights, rowmap)[0].reshape(len(samples), EPS_GRID.size)
    return eps, objective(eps), EPS_GRID[np.argmin(f, axis=1)]


def fit_h_law(
    runs: pd.DataFrame,
    grammar_thetas: dict[str, np.ndarray],
    *,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, Any]:
    """Joint fit of L(N, D, H) on runs with columns grammar, N, D, loss, H: the JSON record."""
    per_grammar = runs.groupby("grammar")["H"].agg(["first", "nunique"])
    if (per_grammar["nunique"] > 1).any():
        raise ValueError("h_law: a grammar has more than one H in the runs table")
    if len(per_grammar) < 2:
        raise ValueError(f"h_law: need runs of at least 2 grammars, got {len(per_grammar)}")
    missing = sorted(set(per_grammar.index) - set(grammar_thetas))
    if missing:
        raise ValueError(f"h_law: no per-grammar law for {', '.join(missing)}")
    names = list(per_grammar.index)
    h_g = per_grammar["first"].to_numpy(float)
    h_ref = float(h_g.mean())
    # The optimiser works in z = (H - H_ref) / H_scale, so slopes and intercepts share one scale
    # (with raw H, whose spread is ~0.1, slope directions are badly conditioned).
    h_scale = float(h_g.std()) or 1.0
    unscale = np.concatenate([np.ones(5), np.full(5, 1.0 / h_scale)])
    n, d, loss, h = (runs[c].to_numpy(float) for c in ("N", "D", "loss", "H"))
    data = RunData(n, d, loss, (h - h_ref) / h_scale)
    starts = _starts(np.vstack([grammar_thetas[g] for g in names]), (h_g - h_ref) / h_scale)
    res = minimize_batched(lambda x, rows: data.evaluate(x), starts, max_iter=MAX_ITER)
    best_z, f_best = polish(res.x[np.nanargmin(res.f)], data)

    rng = np.random.default_rng(seed)
    weights = stratified_weights(runs["grammar"].to_numpy(), n_resamples, rng)
    boot_starts = np.broadcast_to(np.vstack([best_z, starts[0]]), (n_resamples, 2, 10))
    samples_z, _, conv = best_per_resample(data, weights, boot_starts, max_iter=MAX_ITER)
    eps, f_eps, eps_boot = fit_blend(data, best_z, samples_z, weights)
    best, samples = best_z * unscale, samples_z * unscale

    ranges = {}
    for g in names:
        part = runs[runs["grammar"] == g]
        n_r = [float(part["N"].min()), float(part["N"].max())]
        d_r = [float(part["D"].min()), float(part["D"].max())]
        hg = float(part["H"].iloc[0])
        check_positive(at_h(best, hg, h_ref), n_r, d_r, f"H-law at grammar {g}")
        check_positive(at_h(samples, hg, h_ref), n_r, d_r, f"a bootstrap H-law at grammar {g}")
        ranges[g] = {"H": hg, "N": n_r, "D": d_r}
        ranges[g]["kind"] = str(part["kind"].iloc[0]) if "kind" in part else "grammar"

    iv = percentile_interval(samples, level)
    coef = {
        name: {
            "intercept": float(best[i]),
            "slope": float(best[5 + i]),
            "intercept_interval": [float(iv[0, i]), float(iv[1, i])],
            "slope_interval": [float(iv[0, 5 + i]), float(iv[1, 5 + i])],
        }
        for i, name in enumerate(THETA)
    }
    return {
        "format": FORMAT,
        "form": FORM,
        "H_ref": h_ref,
        "H_range": [float(h_g.min()), float(h_g.max())],
        "loss_max": float(runs["loss"].max()),
        "coefficients": coef,
        "theta_columns": [f"{p}_0" for p in THETA] + [f"{p}_1" for p in THETA],
        "theta": best.tolist(),
        "objective": f_best,
        "huber_delta": HUBER_DELTA,
        "n_runs": len(data),
        "n_inits": len(starts),
        "grammars": ranges,
        "blend": {
            "form": "theta(H) = (1 - eps) theta_Chinchilla + eps theta_H(H), "
            "theta = (log A, log B, log E, alpha, beta)",
            "eps": eps,
            "eps_interval": [float(v) for v in percentile_interval(eps_boot, level)],
            "objective": f_eps,
            "objective_chinchilla_only": float(data.evaluate(blend_theta(best, 0.0))[0][0]),
        },
        "ci_level": level,
        "bootstrap": {
            "n_resamples": n_resamples,
            "seed": seed,
            "stratified_by": "grammar",
            "n_converged": int(conv.sum()),
            "max_iter": MAX_ITER,
            "theta": samples.tolist(),
        },
    }


@dataclass(frozen=True)
class HLawFile:
    theta: np.ndarray
    samples: np.ndarray
    h_ref: float
    h_range: tuple[float, float]
    level: float
    record: dict[str, Any]

    def law_at(self, h: float) -> tuple[np.ndarray, np.ndarray]:
        """The point law and the bootstrap laws (Chinchilla thetas) at compressibility h."""
        return at_h(self.theta, h, self.h_ref)[0], at_h(self.samples, h, self.h_ref)

    def natural_at(self, h: float) -> dict[str, dict[str, float]]:
        """E, A, B, alpha, beta at h, with intervals."""
        point, boot = self.law_at(h)
        nat, iv = to_natural(point)[0], percentile_interval(to_natural(boot), self.level)
        return {
            k: {"value": float(nat[i]), "interval": [float(iv[0, i]), float(iv[1, i])]}
            for i, k in enumerate(NATURAL)
        }


def load_h_law(path: str | os.PathLike[str]) -> HLawFile:
    """Read a ``datalaws-hlaw-v1`` file."""
    record = read_json(path)
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ValueError(f"{path}: not an H-conditioned law file (expected format {FORMAT!r})")
    return HLawFile(
        theta=np.asarray(record["theta"], float),
        samples=np.asarray(record["bootstrap"]["theta"], float).reshape(-1, 10),
        h_ref=float(record["H_ref"]),
        h_range=(float(record["H_range"][0]), float(record["H_range"][1])),
        level=float(record["ci_level"]),
        record=record,
    )
