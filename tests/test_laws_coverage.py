"""Bootstrap intervals cover the true law at about the nominal rate over repeated draws.

40 data sets are drawn from one known law (a 6 x 6 grid of runs, 2% log-normal noise); each is
fitted and bootstrapped (100 resamples), and we count how often each parameter's 95% interval holds
the truth. If the intervals are calibrated, each count is Binomial(40, 0.95): P(count <= 32) =
0.0007, so requiring >= 33/40 per parameter fails a calibrated method with probability < 0.4%
across the five parameters (the draws are seeded, so the outcome is in fact fixed). Coverage alone
cannot catch intervals that are too wide, so the bootstrap standard deviation is also compared with
the spread of the 40 point estimates, whose own sampling error is about 1/sqrt(2 * 39) = 11%:
the band [0.65, 1.6] is 3 such errors around 1, widened upwards for the bootstrap's known small-
sample conservatism.
"""

from __future__ import annotations

import numpy as np
import pytest

from datalaws.laws.bootstrap import bootstrap_fit, percentile_interval
from datalaws.laws.chinchilla import fit, init_grid, to_natural
from datalaws.laws.objective import RunData
from datalaws.laws.synthetic import DEFAULT_LAW, make_runs

DRAWS = 40
RESAMPLES = 100


@pytest.mark.slow
def test_intervals_cover_the_truth_at_the_nominal_rate():
    truth = to_natural(DEFAULT_LAW.theta)[0]
    # A 225-point subset of the grid and 3 + 1 starts per resample keep 40 refits affordable;
    # the CLI always searches all 4500 grid points and starts resamples from 8 + 4.
    grid = init_grid()[::20]
    covered, points, boot_sd = [], [], []
    for draw in range(DRAWS):
        runs = make_runs(DEFAULT_LAW, noise=0.02, seed=1000 + draw)
        data = RunData(runs.N, runs.D, runs.loss)
        full = fit(data, grid=grid, n_optima=3)
        boot = to_natural(
            bootstrap_fit(data, full, n_resamples=RESAMPLES, seed=draw, n_grid_starts=1).theta
        )
        lo, hi = percentile_interval(boot, 0.95)
        covered.append((lo <= truth) & (truth <= hi))
        points.append(to_natural(full.law.theta)[0])
        boot_sd.append(boot.std(axis=0))
    counts = np.sum(covered, axis=0)
    assert np.all(counts >= 33), dict(zip(("E", "A", "B", "alpha", "beta"), counts, strict=True))
    ratio = np.mean(boot_sd, axis=0) / np.std(points, axis=0, ddof=1)
    assert np.all((ratio > 0.65) & (ratio < 1.6)), ratio
