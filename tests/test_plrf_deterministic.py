"""Volterra solver: transform inversion against the exact recursion, and the W-free equivalent."""

from __future__ import annotations

import numpy as np
import pytest

from datalaws.plrf import deterministic as det
from datalaws.plrf.model import PLRF
from datalaws.plrf.resolvent import AsymptoticSpectrum
from datalaws.plrf.spectrum import ExactSpectrum


@pytest.mark.parametrize(("alpha", "beta", "batch"), [(0.7, 0.7, 1), (1.1, 0.3, 3), (0.4, 0.8, 1)])
def test_inversion_matches_recursion(alpha, beta, batch):
    problem = PLRF(alpha, beta, 600, 60)
    spectrum = ExactSpectrum.from_seed(problem, 2)
    gamma = 0.5 * det.stability_limit(spectrum, batch)
    reference = det.recursion(spectrum, gamma, batch, 30000)
    steps = np.unique(np.concatenate([np.arange(0, 40), np.geomspace(40, 30000, 60).round()]))
    values = det.loss_curve(spectrum, gamma, batch, steps.astype(int))
    assert np.max(np.abs(values / reference[steps.astype(int)] - 1)) < 1e-8


def test_loss_curve_keeps_request_order_and_duplicates():
    spectrum = ExactSpectrum.from_seed(PLRF(0.7, 0.7, 300, 30), 0)
    gamma = PLRF(0.7, 0.7, 300, 30).step(0.5)
    steps = np.array([500, 3, 0, 500, 12])
    values = det.loss_curve(spectrum, gamma, 1, steps)
    reference = det.recursion(spectrum, gamma, 1, 500)
    assert np.allclose(values, reference[steps], rtol=1e-8)


def test_asymptotic_resolvent_matches_average_over_w():
    """The W-free Stieltjes transforms equal the mean over draws of W up to the equivalent's
    finite-d bias, a few percent at d = 160 (largest for S_nu, carried by the top spikes)."""
    problem = PLRF(0.7, 0.9, 1600, 160)
    z = np.array([[-0.01, 0.02 - 0.03j, 1e-3 + 2e-3j, 0.3 + 0.2j, 2.5 + 0j]])
    s_mu, s_nu = AsymptoticSpectrum(problem).resolvent(z)
    draws = [ExactSpectrum.from_seed(problem, seed).resolvent(z) for seed in range(12)]
    mean_mu = np.mean([d[0] for d in draws], axis=0)
    mean_nu = np.mean([d[1] for d in draws], axis=0)
    assert np.max(np.abs(s_mu / mean_mu - 1)) < 0.02
    assert np.max(np.abs(s_nu / mean_nu - 1)) < 0.1


def test_asymptotic_fixed_point_values():
    """P* and P(0) of the equivalent against the mean over W, and Herglotz signs off the axis."""
    problem = PLRF(0.6, 0.8, 2000, 200)
    asym = AsymptoticSpectrum(problem)
    exact = [ExactSpectrum.from_seed(problem, seed) for seed in range(8)]
    assert asym.p0 == pytest.approx(exact[0].p0, rel=1e-9)  # quadrature over j > 256
    assert asym.pstar == pytest.approx(np.mean([e.pstar for e in exact]), rel=0.05)
    z = np.array([[1e-4 + 1e-4j, 0.01 + 0.002j, 0.5 + 0.01j]])
    s_mu, s_nu = asym.resolvent(z)
    assert np.all(s_mu.imag > 0) and np.all(s_nu.imag > 0)


@pytest.mark.parametrize(("alpha", "beta"), [(0.7, 0.7), (0.4, 0.8)])
def test_asymptotic_curve_tracks_exact_mean(alpha, beta):
    problem = PLRF.with_ratio(alpha, beta, 300, 10)
    gamma = problem.step(0.5)
    steps = np.unique(np.geomspace(1, 1e6, 25).round()).astype(int)
    asym = det.loss_curve(AsymptoticSpectrum(problem), gamma, 1, steps)
    exact = np.mean(
        [det.loss_curve(ExactSpectrum.from_seed(problem, s), gamma, 1, steps) for s in range(6)],
        axis=0,
    )
    assert np.max(np.abs(asym / exact - 1)) < 0.08
