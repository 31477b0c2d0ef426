"""Compute-optimal fits: recovering a known power law, windows, and the PLRF check itself."""

from __future__ import annotations

import numpy as np
import pytest

from datalaws.plrf import compute_optimal as co
from datalaws.plrf.model import PLRFError


def _synthetic(a: float = 1.0, b: float = 0.6, per_octave: int = 8) -> co.LossGrid:
    """P(f, d) = 3 d^-a + 2 (f/d)^-b: at fixed f the optimum is d* ~ f^(b/(a+b)) and
    P* ~ f^(-ab/(a+b)), exactly."""
    ds = co.d_grid(16, 16384, per_octave)
    fs = co.flops_grid(1e3, 1e12, 10)
    d, f = ds[:, None].astype(float), fs[None, :]
    losses = 3 * d**-a + 2 * (f / d) ** -b
    losses[f < d] = np.nan  # less than one step
    return co.LossGrid(0.0, 0.0, ds, fs, losses, 1, 0.0, 0.0)


@pytest.mark.parametrize(("a", "b"), [(1.0, 0.6), (0.7, 1.4)])
def test_both_approaches_recover_a_known_power_law(a, b):
    grid = _synthetic(a, b)
    xi, eta = b / (a + b), a * b / (a + b)
    one, two = co.approach1(grid), co.approach2(grid)
    assert one["n"] > 20 and two["n"] > 20
    assert one["xi"] == pytest.approx(xi, abs=0.01)
    assert one["eta"] == pytest.approx(eta, abs=0.002)
    assert two["xi"] == pytest.approx(xi, abs=0.002)
    assert two["eta"] == pytest.approx(eta, abs=0.002)


def test_envelope_interior_and_windows():
    grid = _synthetic()
    env = co.envelope(grid)
    assert not env.interior[-1]  # at f = 1e12 the optimum d ~ 5.6e4 is beyond the grid: an edge
    assert env.interior[0]
    lo, hi = co.interior_window(grid)
    one = co.approach1(grid, (lo * 10, hi / 10))
    # Inside the window up to the rounding of grid points, as the window mask allows (1e-12).
    assert one["f_window"][0] >= lo * 10 * (1 - 1e-12) and one["f_window"][1] <= hi / 10 * (
        1 + 1e-12
    )
    assert co.top_window(grid, 1.0) == (pytest.approx(hi / 10), hi)
    scan = co.window_scan(grid, width=2.0, stride=1.0)
    assert len(scan) >= 3
    assert all(abs(r["isoflop"]["xi"] - 0.375) < 0.005 for r in scan)
    dscan = co.dmax_scan(grid, [1024, 16384])
    assert [r["d_max"] for r in dscan] == [1024, 16384]


def test_window_with_too_few_points_is_reported():
    grid = _synthetic()
    res = co.approach1(grid, (1e20, 1e21))
    assert res["eta"] is None and "fewer than" in res["note"]
    with pytest.raises(PLRFError):
        co.fit_power_law(np.array([1.0, 2.0]), np.array([1.0, 2.0]))


def test_grids():
    assert list(co.d_grid(200, 1600, 1)) == [200, 400, 800, 1600]
    assert co.flops_grid(1e4, 1e6, 2) == pytest.approx([1e4, 10**4.5, 1e5, 10**5.5, 1e6])
    with pytest.raises(PLRFError):
        co.d_grid(100, 50, 2)


def test_plrf_check_on_a_small_grid():
    """alpha = beta = 0.7 with d from 100 to 3200: already within 0.05 of theory (0.643, 0.5)."""
    grid = co.loss_grid(0.7, 0.7, co.d_grid(100, 3200, 4), co.flops_grid(1e3, 1e8, 10))
    one, two = co.approach1(grid), co.approach2(grid)
    for res in (one, two):
        assert res["eta"] == pytest.approx(0.643, abs=0.05)
        assert res["xi"] == pytest.approx(0.5, abs=0.06)
