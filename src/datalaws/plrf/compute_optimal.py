"""Compute-optimal frontier of PLRF: loss grids over (d, f), envelope and IsoFLOP fits.

f = steps * batch * d. Approach 1 (envelope): at each f take the lowest loss over the d grid and
the d attaining it, keep the f where that d lies strictly inside the grid (the envelope's
interior), and fit P*(f) ~ f^-eta and d*(f) ~ f^xi by least squares in log-log. Approach 2
(IsoFLOP): at each f fit a parabola to log P against log d through the grid points around the
minimum, take its vertex as (d*, P*), and fit the same power laws. Every fit reports the window of
f it used; ``window_scan`` and ``dmax_scan`` show how the exponents move with that window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from datalaws.plrf.deterministic import loss_curve
from datalaws.plrf.model import PLRF, PLRFError
from datalaws.plrf.resolvent import AsymptoticSpectrum
from datalaws.plrf.spectrum import ExactSpectrum

ISOFLOP_HALF_WIDTH = 2  # grid points each side of the minimum in the IsoFLOP parabola
MIN_FIT_POINTS = 4


def log_grid(lo: float, hi: float, per_factor: int, factor: float) -> np.ndarray:
    """lo, lo*factor^(1/per_factor), ... up to hi (inclusive within rounding)."""
    if not (0 < lo < hi) or per_factor < 1:
        raise PLRFError(f"need 0 < lo < hi and per_factor >= 1, got {lo}, {hi}, {per_factor}")
    count = math.floor(per_factor * math.log(hi / lo, factor) + 1e-9)
    return lo * factor ** (np.arange(count + 1) / per_factor)


def d_grid(d_min: int, d_max: int, per_octave: int) -> np.ndarray:
    """Model sizes d_min * 2^(k/per_octave) rounded to integers (duplicates dropped)."""
    return np.unique(np.round(log_grid(d_min, d_max, per_octave, 2.0)).astype(np.int64))


def flops_grid(f_min: float, f_max: float, per_decade: int) -> np.ndarray:
    return log_grid(f_min, f_max, per_decade, 10.0)


@dataclass(frozen=True)
class LossGrid:
    """Expected loss at each (d, f); NaN where f/(batch d) < 1 step."""

    alpha: float
    beta: float
    ds: np.ndarray
    fs: np.ndarray
    losses: np.ndarray
    batch: int
    step_scale: float
    v_ratio: float

    def restrict(self, d_max: float) -> LossGrid:
        keep = self.ds <= d_max
        return LossGrid(
            self.alpha,
            self.beta,
            self.ds[keep],
            self.fs,
            self.losses[keep],
            self.batch,
            self.step_scale,
            self.v_ratio,
        )


def steps_for(fs: np.ndarray, d: int, batch: int) -> np.ndarray:
    """Whole SGD steps that spend (to rounding) each compute budget at model size d."""
    return np.round(np.asarray(fs) / (batch * d)).astype(np.int64)


def loss_grid(
    alpha: float,
    beta: float,
    ds: np.ndarray,
    fs: np.ndarray,
    batch: int = 1,
    step_scale: float = 0.75,
    v_ratio: float = 10.0,
    exact_seeds: list[int] | None = None,
) -> LossGrid:
    """Expected loss over the (d, f) grid from the W-free deterministic equivalent, or, with
    ``exact_seeds``, the mean over those draws of W of the exact expected loss for each W."""
    losses = np.full((len(ds), len(fs)), np.nan)
    for i, d in enumerate(ds):
        problem = PLRF.with_ratio(alpha, beta, int(d), v_ratio)
        gamma = problem.step(step_scale)
        steps = steps_for(fs, int(d), batch)
        ok = steps >= 1
        if not ok.any():
            continue
        if exact_seeds:
            curves = [
                loss_curve(ExactSpectrum.from_seed(problem, s), gamma, batch, steps[ok])
                for s in exact_seeds
            ]
            losses[i, ok] = np.mean(curves, axis=0)
        else:
            losses[i, ok] = loss_curve(AsymptoticSpectrum(problem), gamma, batch, steps[ok])
    return LossGrid(
        float(alpha),
        float(beta),
        np.asarray(ds),
        np.asarray(fs, float),
        losses,
        batch,
        float(step_scale),
        float(v_ratio),
    )


@dataclass(frozen=True)
class Envelope:
    loss: np.ndarray  # lowest loss over d at each f
    index: np.ndarray  # index into ds of the d attaining it
    interior: np.ndarray  # that d is strictly inside the grid and both neighbours exist


def envelope(grid: LossGrid) -> Envelope:
    filled = np.where(np.isnan(grid.losses), np.inf, grid.losses)
    index = np.argmin(filled, axis=0)
    loss = filled[index, np.arange(grid.fs.size)]
    n = grid.ds.size
    inner = (index > 0) & (index < n - 1) & np.isfinite(loss)
    cols = np.arange(grid.fs.size)
    below = np.where(inner, filled[np.maximum(index - 1, 0), cols], np.inf)
    above = np.where(inner, filled[np.minimum(index + 1, n - 1), cols], np.inf)
    interior = inner & np.isfinite(below) & np.isfinite(above)
    return Envelope(np.where(np.isfinite(loss), loss, np.nan), index, interior)


@dataclass(frozen=True)
class PowerFit:
    exponent: float
    stderr: float
    prefactor: float


def fit_power_law(x: np.ndarray, y: np.ndarray) -> PowerFit:
    """y ~ prefactor * x^exponent by least squares in log-log (scipy.stats.linregress)."""
    if len(x) < 3:
        raise PLRFError(f"a power-law fit needs at least 3 points, got {len(x)}")
    res = stats.linregress(np.log(x), np.log(y))
    return PowerFit(float(res.slope), float(res.stderr), float(math.exp(res.intercept)))


def _window_mask(fs: np.ndarray, window: tuple[float, float] | None) -> np.ndarray:
    if window is None:
        return np.ones(fs.shape, dtype=bool)
    lo, hi = window
    return (fs >= lo * (1 - 1e-12)) & (fs <= hi * (1 + 1e-12))


def _summary(fs: np.ndarray, d_opt: np.ndarray, p_opt: np.ndarray, approach: str) -> dict:
    if fs.size < MIN_FIT_POINTS:
        return {
            "approach": approach,
            "n": int(fs.size),
            "eta": None,
            "xi": None,
            "note": f"fewer than {MIN_FIT_POINTS} usable compute budgets in the window",
        }
    loss_fit = fit_power_law(fs, p_opt)
    size_fit = fit_power_law(fs, d_opt)
    return {
        "approach": approach,
        "n": int(fs.size),
        "eta": -loss_fit.exponent,
        "eta_stderr": loss_fit.stderr,
        "xi": size_fit.exponent,
        "xi_stderr": size_fit.stderr,
        "f_window": [float(fs.min()), float(fs.max())],
        "d_star_range": [float(d_opt.min()), float(d_opt.max())],
        "loss_prefactor": loss_fit.prefactor,
        "d_prefactor": size_fit.prefactor,
    }


def approach1(grid: LossGrid, window: tuple[float, float] | None = None) -> dict:
    """Envelope fit over the interior of the envelope within ``window`` (None: all of it)."""
    env = envelope(grid)
    use = env.interior & _window_mask(grid.fs, window)
    return _summary(grid.fs[use], grid.ds[env.index[use]].astype(float), env.loss[use], "envelope")


def isoflop_optima(grid: LossGrid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mask, d*, P*) per f from parabolas in (log d, log P) around each IsoFLOP minimum."""
    env = envelope(grid)
    h = ISOFLOP_HALF_WIDTH
    n = grid.ds.size
    log_d = np.log(grid.ds.astype(float))
    ok = np.zeros(grid.fs.size, dtype=bool)
    d_opt = np.full(grid.fs.size, np.nan)
    p_opt = np.full(grid.fs.size, np.nan)
    for k, i in enumerate(env.index):
        if i - h < 0 or i + h >= n:
            continue
        window = slice(i - h, i + h + 1)
        y = np.log(grid.losses[window, k])
        if not np.all(np.isfinite(y)):
            continue
        c2, c1, c0 = np.polyfit(log_d[window], y, 2)
        if c2 <= 0:
            continue
        vertex = -c1 / (2 * c2)
        if not log_d[i - 1] <= vertex <= log_d[i + 1]:
            continue
        ok[k] = True
        d_opt[k] = math.exp(vertex)
        p_opt[k] = math.exp(c0 - c1 * c1 / (4 * c2))
    return ok, d_opt, p_opt


def approach2(grid: LossGrid, window: tuple[float, float] | None = None) -> dict:
    """IsoFLOP fit over the compute budgets in ``window`` whose parabola vertex is interior."""
    ok, d_opt, p_opt = isoflop_optima(grid)
    use = ok & _window_mask(grid.fs, window)
    return _summary(grid.fs[use], d_opt[use], p_opt[use], "isoflop")


def interior_window(grid: LossGrid) -> tuple[float, float] | None:
    """Smallest and largest f where the envelope is interior (None if nowhere)."""
    env = envelope(grid)
    if not env.interior.any():
        return None
    fs = grid.fs[env.interior]
    return float(fs.min()), float(fs.max())


def top_window(grid: LossGrid, decades: float) -> tuple[float, float] | None:
    """The last ``decades`` of the envelope's interior: the largest compute budgets, where
    finite-size corrections are smallest."""
    full = interior_window(grid)
    if full is None:
        return None
    lo, hi = full
    return max(lo, hi / 10**decades), hi


def window_scan(grid: LossGrid, width: float = 2.0, stride: float = 0.5) -> list[dict]:
    """Both approaches in sliding windows of ``width`` decades of f, ``stride`` apart."""
    full = interior_window(grid)
    if full is None:
        return []
    lo, hi = full
    rows = []
    start = math.log10(lo)
    while start + width <= math.log10(hi) + 1e-9:
        window = (10**start, 10 ** (start + width))
        rows.append(
            {
                "f_window": list(window),
                "envelope": approach1(grid, window),
                "isoflop": approach2(grid, window),
            }
        )
        start += stride
    return rows


def dmax_scan(grid: LossGrid, d_maxes: list[float]) -> list[dict]:
    """Both approaches over the whole interior window of the grid cut at each d_max."""
    rows = []
    for d_max in d_maxes:
        sub = grid.restrict(d_max)
        if sub.ds.size < 3:
            continue
        rows.append(
            {
                "d_max": float(sub.ds.max()),
                "d_min": float(sub.ds.min()),
                "f_window": interior_window(sub),
                "envelope": approach1(sub),
                "isoflop": approach2(sub),
            }
        )
    return rows
