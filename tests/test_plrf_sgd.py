"""One-pass SGD simulation against the exact deterministic equivalent, in several phases."""

from __future__ import annotations

import numpy as np
import pytest

from datalaws.plrf import deterministic as det
from datalaws.plrf.model import PLRF, PLRFError, StepSizeError
from datalaws.plrf.sgd import simulate
from datalaws.plrf.spectrum import ExactSpectrum
from datalaws.plrf.theory import exponents

RECORD = np.array([0, 1, 3, 10, 30, 100, 300, 1000])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("alpha", "beta", "phase"),
    [(0.7, 0.3, "Ia"), (1.0, 0.7, "II"), (0.7, 1.2, "III"), (0.4, 0.8, "IVa")],
)
def test_sgd_mean_agrees_with_deterministic_equivalent(alpha, beta, phase):
    """Mean of 1500 runs on one W equals the expected loss for that W within 4 standard errors
    at every recorded step (the comparison is exact: no asymptotics involved)."""
    assert exponents(alpha, beta).phase == phase
    problem = PLRF(alpha, beta, 96, 24)
    gamma = problem.step(0.5)
    runs = simulate(problem, gamma, 1, RECORD, runs=1500, seed=11)
    expected = det.loss_curve(ExactSpectrum.from_seed(problem, 11), gamma, 1, RECORD)
    assert runs.losses[:, 0] == pytest.approx(expected[0], rel=1e-12)  # theta = 0 exactly
    z = (runs.mean()[1:] - expected[1:]) / runs.stderr()[1:]
    assert np.max(np.abs(z)) < 4.0, z
    assert np.max(np.abs(runs.mean()[1:] / expected[1:] - 1)) < 0.05


def test_sgd_with_batches_and_independent_features():
    """Batch 2, one W per run: the mean tracks the mean of the per-W expected losses."""
    problem = PLRF(0.8, 0.6, 60, 12)
    gamma = problem.step(0.25)
    record = np.array([0, 5, 50, 300])
    runs = simulate(problem, gamma, 2, record, runs=300, seed=40, shared_features=False)
    expected = np.mean(
        [
            det.loss_curve(ExactSpectrum.from_seed(problem, 40 + k), gamma, 2, record)
            for k in range(300)
        ],
        axis=0,
    )
    z = (runs.mean()[1:] - expected[1:]) / runs.stderr()[1:]
    assert np.max(np.abs(z)) < 4.0, z


def test_sgd_refuses_unstable_step():
    problem = PLRF(1.0, 0.7, 96, 24)
    with pytest.raises(StepSizeError, match="stability limit gamma_max="):
        simulate(problem, problem.step(2.0), 1, RECORD, runs=2, seed=0)


def test_sgd_checks_its_arguments():
    problem = PLRF(0.7, 0.7, 40, 8)
    with pytest.raises(PLRFError, match="record"):
        simulate(problem, problem.step(0.3), 1, np.array([5, 3]), runs=2, seed=0)
    with pytest.raises(PLRFError, match="runs"):
        simulate(problem, problem.step(0.3), 1, RECORD, runs=0, seed=0)


def test_validation_summary_excludes_the_deterministic_first_step():
    from datalaws.plrf.experiments import validation

    res = validation(0.7, 0.7, 12, 4, 1, 0.5, max_steps=200, points=6, runs=200, seed=2)
    assert res["z"][0] is None and res["steps"][0] == 0
    assert res["step0_rel_diff"] < 1e-12
    assert res["max_abs_z"] < 4.0
