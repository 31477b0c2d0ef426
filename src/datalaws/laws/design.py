"""Choose a training grid by simulation before spending compute.

A grid of model sizes and token budgets is worth what its fits can tell, and a scaling-law study on
a fixed compute budget has to choose it before any of those fits exist. So each candidate grid is
scored the way its real runs would be analysed: losses are drawn from a plausible law (fitted on a
pilot) with the run-to-run noise measured between seeds, the Approach-3 fit is repeated on every
draw, and the spread of the fitted N_opt exponent ``beta / (alpha + beta)`` over the draws is the
width its 95% interval will have. The same draws give the expected error of the held-out
extrapolation to the largest size, and the noiseless law tells at how many compute levels an
IsoFLOP slice (Approach 2) has its minimum inside the grid. Each candidate's cost comes from the
measured training throughput of each size and the schedule: with warmup-stable-decay branches a
size costs its trunk plus one cooldown per budget, with cosine runs the sum of its budgets.

What simulation cannot see is a law that is wrong in form (a learning transition, a floor the
runs have not reached): the pilot's own residuals show that, and the study's held-out check
measures it.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from datalaws.laws import chinchilla
from datalaws.laws.approaches import Grid, compute_levels, parabola_optima
from datalaws.laws.chinchilla import Law, init_grid, log_loss
from datalaws.laws.objective import RunData


@dataclass(frozen=True)
class Candidate:
    """A grid: named sizes with the laws' N of each, and the token budgets every size trains."""

    sizes: tuple[str, ...]
    n: tuple[float, ...]
    budgets: tuple[int, ...]

    def runs(self) -> tuple[np.ndarray, np.ndarray]:
        """(N, D) of every run, sizes outer."""
        pairs = list(itertools.product(self.n, self.budgets))
        return np.array([p[0] for p in pairs], float), np.array([p[1] for p in pairs], float)

    @property
    def n_span(self) -> float:
        return max(self.n) / min(self.n)

    @property
    def d_span(self) -> float:
        return max(self.budgets) / min(self.budgets)


def schedule_tokens(budgets: Sequence[int], cooldown_frac: float | None) -> float:
    """Tokens one size trains for all its budgets: the trunk to the largest decay start plus one
    cooldown per budget under WSD (``cooldown_frac``), or every run whole under cosine (None)."""
    if cooldown_frac is None:
        return float(sum(budgets))
    return (1 - cooldown_frac) * max(budgets) + cooldown_frac * sum(budgets)


def core_seconds(
    candidate: Candidate,
    tokens_per_core_s: Mapping[str, float],
    cooldown_frac: float | None,
    overhead_s: float = 0.0,
) -> float:
    """CPU-core seconds to train the grid once (per grammar), from each size's measured
    throughput on one core; ``overhead_s`` per job covers start-up and evaluation."""
    jobs = len(candidate.budgets) + (cooldown_frac is not None)
    per_size = schedule_tokens(candidate.budgets, cooldown_frac)
    return sum(per_size / tokens_per_core_s[s] + jobs * overhead_s for s in candidate.sizes)


def simulate_losses(
    law: Law, n: np.ndarray, d: np.ndarray, sigma: float, draws: int, seed: int
) -> np.ndarray:
    """Losses of every run in ``draws`` repetitions: the law times lognormal run-to-run noise."""
    rng = np.random.default_rng(seed)
    return law.loss(n, d)[None, :] * np.exp(sigma * rng.standard_normal((draws, n.size)))


def _starts(law: Law, seed: int, extra: int = 12) -> np.ndarray:
    """The true law plus a few grid points: every draw's optimum lies near the truth, and the grid
    points catch a draw whose optimum moved to another basin."""
    grid = init_grid()
    picks = np.random.default_rng([seed, 7]).choice(len(grid), size=extra, replace=False)
    return np.vstack([law.theta, grid[picks]])


def fitted_laws(n: np.ndarray, d: np.ndarray, losses: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The Approach-3 fit (theta rows) of every row of ``losses``."""
    return np.array(
        [chinchilla.fit(RunData(n, d, row), grid=starts, n_optima=1).law.theta for row in losses]
    )


def nopt_exponent(theta: np.ndarray) -> np.ndarray:
    """N_opt ~ C^a with a = beta / (alpha + beta), per theta row."""
    theta = np.atleast_2d(theta)
    return theta[:, 4] / (theta[:, 3] + theta[:, 4])


def isoflop_levels(law: Law, candidate: Candidate, n_levels: int = 30, min_points: int = 3) -> int:
    """Compute levels at which Approach 2 finds its minimum inside the grid, on the noiseless law:
    fewer than three and the IsoFLOP exponent is undefined however little noise there is."""
    n, d = candidate.runs()
    log_c = np.log(compute_levels(n, d, n_levels))
    optima, _ = parabola_optima(Grid.from_runs(n, d, law.loss(n, d)), log_c, min_points)
    return int(np.isfinite(optima).sum())


@dataclass(frozen=True)
class Score:
    """What a candidate grid is expected to deliver for one law."""

    width: float  # 95% spread of the fitted N_opt exponent over the draws
    bias: float  # median fitted exponent minus the law's
    holdout_error: float  # median over draws of the median |relative error| on the largest size
    isoflop_levels: int


def score(law: Law, candidate: Candidate, sigma: float, draws: int = 100, seed: int = 0) -> Score:
    """Simulate ``draws`` studies on this grid and summarise their fits (see the module doc)."""
    n, d = candidate.runs()
    losses = simulate_losses(law, n, d, sigma, draws, seed)
    starts = _starts(law, seed)
    a = nopt_exponent(fitted_laws(n, d, losses, starts))
    lo, mid, hi = np.quantile(a, [0.025, 0.5, 0.975])
    largest = n == n.max()
    held = fitted_laws(n[~largest], d[~largest], losses[:, ~largest], starts)
    predicted = np.exp(log_loss(held, np.log(n[largest]), np.log(d[largest])))
    errors = np.median(np.abs(predicted / losses[:, largest] - 1), axis=1)
    return Score(
        width=float(hi - lo),
        bias=float(mid - nopt_exponent(law.theta)[0]),
        holdout_error=float(np.median(errors)),
        isoflop_levels=isoflop_levels(law, candidate),
    )


def candidates(
    ladder: Mapping[str, float],
    budget_choices: Sequence[Sequence[int]],
    min_sizes: int = 5,
    min_n_span: float = 100.0,
    min_d_span: float = 30.0,
) -> list[Candidate]:
    """Every run of consecutive ladder sizes (ordered by N) with every budget list, kept where the
    study's minimum spans hold: ``min_sizes`` sizes over ``min_n_span`` x N, budgets over
    ``min_d_span`` x D."""
    names = sorted(ladder, key=ladder.get)
    out = []
    for lo in range(len(names)):
        for hi in range(lo + min_sizes, len(names) + 1):
            sizes = tuple(names[lo:hi])
            for budgets in budget_choices:
                c = Candidate(sizes, tuple(ladder[s] for s in sizes), tuple(sorted(budgets)))
                if c.n_span >= min_n_span and c.d_span >= min_d_span:
                    out.append(c)
    return out


def rank(
    laws: Sequence[Law],
    grid_candidates: Sequence[Candidate],
    sigma: float,
    cost_s: Mapping[Candidate, float],
    limit_s: float,
    draws: int = 100,
    seed: int = 0,
) -> list[dict]:
    """Score every affordable candidate (``cost_s`` within ``limit_s``) against every law and rank
    them by the widest N_opt-exponent interval over the laws, narrowest first; candidates over the
    limit are listed after, unscored."""
    rows = []
    for c in grid_candidates:
        row = {
            "sizes": list(c.sizes),
            "n": list(c.n),
            "budgets": list(c.budgets),
            "n_span": c.n_span,
            "d_span": c.d_span,
            "cost_s": cost_s[c],
            "affordable": cost_s[c] <= limit_s,
        }
        if row["affordable"]:
            scores = [score(law, c, sigma, draws, seed) for law in laws]
            row |= {
                "width": max(s.width for s in scores),
                "holdout_error": max(s.holdout_error for s in scores),
                "isoflop_levels": min(s.isoflop_levels for s in scores),
                "per_law": [s.__dict__ for s in scores],
            }
        rows.append(row)
    return sorted(rows, key=lambda r: (not r["affordable"], r.get("width", np.inf), r["cost_s"]))


def format_ranking(rows: Sequence[dict], cores: int, top: int) -> str:
    """The best ``top`` affordable candidates as a table (wall minutes at ``cores`` cores)."""
    lines = [
        f"{'sizes':<40} {'budgets':<22} {'N span':>7} {'wall min':>8} {'a width':>8} "
        f"{'holdout':>8} {'isoflop':>7}"
    ]
    for r in [r for r in rows if r["affordable"]][:top]:
        budgets = f"{r['budgets'][0]:.3g}..{r['budgets'][-1]:.3g} x{len(r['budgets'])}"
        lines.append(
            f"{','.join(r['sizes']):<40} {budgets:<22} {r['n_span']:>7.0f} "
            f"{r['cost_s'] / cores / 60:>8.1f} {r['width']:>8.3f} {r['holdout_error']:>8.2%} "
            f"{r['isoflop_levels']:>7d}"
        )
    skipped = sum(not r["affordable"] for r in rows)
    lines.append(f"{skipped} candidates over the time limit were not scored")
    return "\n".join(lines)
