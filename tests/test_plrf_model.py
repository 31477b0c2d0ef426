"""PLRF model: parameter checks, the step-size limit, and the sums over j."""

from __future__ import annotations

import numpy as np
import pytest

from datalaws.plrf import deterministic as det
from datalaws.plrf.model import (
    PLRF,
    PLRFError,
    StepSizeError,
    draw_features,
    feature_blocks,
    trace_covariance,
)
from datalaws.plrf.quadrature import index_quadrature, power_sum
from datalaws.plrf.resolvent import AsymptoticSpectrum
from datalaws.plrf.spectrum import ExactSpectrum


@pytest.mark.parametrize("alpha", [0.0, -0.3, float("nan")])
def test_alpha_must_be_positive(alpha):
    with pytest.raises(PLRFError, match="alpha"):
        PLRF(alpha, 0.7, 100, 10)


@pytest.mark.parametrize(("v", "d"), [(10, 10), (5, 10)])
def test_v_must_exceed_d(v, d):
    with pytest.raises(PLRFError, match="v must be > d"):
        PLRF(0.7, 0.7, v, d)


def test_ratio_must_exceed_one():
    with pytest.raises(PLRFError, match="v_ratio"):
        PLRF.with_ratio(0.7, 0.7, 10, 1.0)


def test_step_above_limit_names_the_limit():
    problem = PLRF(0.7, 0.7, 400, 40)
    spectrum = ExactSpectrum.from_seed(problem, 0)
    limit = det.stability_limit(spectrum, 1)
    with pytest.raises(StepSizeError, match=f"gamma_max={limit:.6g}"):
        det.loss_curve(spectrum, 1.01 * limit, 1, np.arange(5))
    det.loss_curve(spectrum, 0.99 * limit, 1, np.arange(5))  # just below: accepted


def test_stability_limit_is_where_the_loss_starts_to_diverge():
    problem = PLRF(0.7, 0.5, 200, 20)
    spectrum = ExactSpectrum.from_seed(problem, 1)
    limit = det.stability_limit(spectrum, 2)
    assert det.kernel_norm(spectrum, limit, 2) == pytest.approx(1.0, rel=1e-9)
    below = det.recursion(spectrum, 0.97 * limit, 2, 40000)
    above = det.recursion(spectrum, 1.03 * limit, 2, 40000)
    assert below[-1] == pytest.approx(below[-2000], rel=1e-6)  # settled
    assert above[-1] > 10 * above[-2000] > 0  # growing geometrically


def test_asymptotic_limit_is_close_to_exact_limit():
    problem = PLRF(0.7, 0.7, 4000, 400)
    exact = det.stability_limit(ExactSpectrum.from_seed(problem, 0), 1)
    asym = det.stability_limit(AsymptoticSpectrum(problem), 1)
    assert asym == pytest.approx(exact, rel=0.1)


def test_feature_stream_does_not_depend_on_block_size():
    whole = draw_features(7, 50, seed=3)
    assert whole.std() == pytest.approx(1 / np.sqrt(7), rel=0.2)
    for rows in (1, 8, 64):
        assert np.array_equal(np.concatenate(list(feature_blocks(50, 7, 3, rows))), whole)


def test_quadrature_matches_plain_sums():
    v, alpha = 200_000, 0.35
    j = np.arange(1, v + 1, dtype=float)
    sig = j ** (-2 * alpha)
    nodes, weights = index_quadrature(v)
    assert nodes.size < 600
    qsig = nodes ** (-2 * alpha)
    for z in (-1e-3, 2e-3 + 3e-3j, 0.05 - 0.02j):
        plain = np.sum(sig / (sig - z))
        quad = np.sum(weights * qsig / (qsig - z))
        assert abs(quad / plain - 1) < 1e-5
    assert power_sum(1.4, 3_000_000) == pytest.approx(np.sum(np.arange(1, 3_000_001.0) ** -1.4))
    assert trace_covariance(0.7, 1000) == pytest.approx(np.sum(np.arange(1, 1001.0) ** -1.4))


def test_population_loss_identity():
    """P(0) and P* of the exact spectrum agree with the definition (W theta - b)^T D (...)."""
    problem = PLRF(0.6, 0.9, 120, 15)
    w = draw_features(15, 120, seed=4)
    sig, b = problem.covariance(), problem.target()
    theta_star, *_ = np.linalg.lstsq(np.sqrt(sig)[:, None] * w, np.sqrt(sig) * b, rcond=None)
    resid = w @ theta_star - b
    spectrum = ExactSpectrum.from_seed(problem, 4)
    assert spectrum.pstar == pytest.approx(np.sum(sig * resid**2), rel=1e-9)
    assert spectrum.p0 == pytest.approx(np.sum(sig * b**2))
    assert spectrum.p0 == pytest.approx(spectrum.pstar + spectrum.weights.sum(), rel=1e-9)
