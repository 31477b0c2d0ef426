"""The repetition law on hand-computed cases, its fractional last pass, utility and domain."""

import math
import re

import numpy as np
import pytest

from datalaws.qqt.law import (
    LawDomainError,
    PoolParams,
    decay,
    log_growth,
    log_increments,
    loss,
    n_passes,
    utility,
)

# a = 2, b = -0.5, d = 1, tau = 1 (delta = 0.5), pool of 100 samples.
A, B, D, TAU, S = 2.0, -0.5, 1.0, 1.0, 100.0


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (25, 2 * 25**-0.5 + 1),  # part of the first pass: plain power law
        (100, 2 * 100**-0.5 + 1),  # one full pass
        (150, 2 * 100**-0.5 * 1.5**-0.25 + 1),  # half of pass 2, exponent b delta
        (200, 2 * 100**-0.5 * 2**-0.25 + 1),
        (300, 2 * 100**-0.5 * 2**-0.25 * 1.5**-0.125 + 1),  # pass 3, exponent b delta^2
    ],
)
def test_law_matches_hand_computed_values(n, expected):
    assert loss(n, S, A, B, D, TAU)[0] == pytest.approx(expected, rel=1e-12)


def test_hand_computed_numbers_written_out():
    # y(300) = 2 * 0.1 * 0.840896 * 0.950580 + 1 = 1.159868 (four factors computed by hand)
    assert loss(300, S, A, B, D, TAU)[0] == pytest.approx(1.159868, abs=2e-6)
    assert loss(150, S, A, B, D, TAU)[0] == pytest.approx(1.180720, abs=2e-6)


def test_decay_halves_utility_after_tau_passes():
    assert decay(1.0) == 0.5
    params = PoolParams(A, -0.3, D, 4.0)
    assert params.exponents(9)[8] == pytest.approx(-0.3 * 0.25)  # two half-lives after pass 1


def test_long_half_life_is_a_plain_power_law():
    n = np.array([50.0, 1e3, 1e5])
    assert np.allclose(loss(n, S, A, B, D, 1e12), A * n**B + D, rtol=1e-8)


def test_repetition_hurts_and_curve_is_continuous_at_pass_ends():
    n = np.array([299.999999, 300.0, 300.000001])
    y = loss(n, S, A, B, D, TAU)
    assert np.ptp(y) < 1e-8
    fresh = A * 1000.0**B + D
    assert loss(1000.0, S, A, B, D, TAU)[0] > fresh  # ten passes are worth less than new data


def test_passes_count_the_pass_in_progress():
    assert n_passes([1, 100, 101, 250], S).tolist() == [1, 1, 2, 3]


def test_utility_is_the_derivative_within_a_pass():
    for n in (40.0, 150.0, 370.0):
        h = 1e-4
        numeric = (loss(n + h, S, A, B, D, TAU) - loss(n - h, S, A, B, D, TAU)) / (2 * h)
        assert utility(n, S, A, B, D, TAU)[0] == pytest.approx(numeric[0], rel=1e-5)
    k3 = B * 0.25 * (loss(250.0, S, A, B, D, TAU)[0] - D) / 250.0
    assert utility(250.0, S, A, B, D, TAU)[0] == pytest.approx(k3)


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"b": 0.0}, "b must be < 0"),
        ({"b": 0.1}, "b must be < 0"),
        ({"tau": 0.0}, "tau must be > 0"),
        ({"tau": -2.0}, "tau must be > 0"),
        ({"d": -0.1}, "d (irreducible loss) must be >= 0"),
        ({"a": 0.0}, "a must be > 0"),
        ({"b": math.nan}, "b must be finite"),
        ({"pool_size": 0.0}, "pool_size must be > 0"),
    ],
)
def test_parameters_outside_their_domain_are_refused(kwargs, word):
    values = {"a": A, "b": B, "d": D, "tau": TAU} | kwargs
    with pytest.raises(LawDomainError, match=re.escape(word)):
        PoolParams(**values, name="x")


@pytest.mark.parametrize("n", [0.0, -5.0, math.nan, math.inf])
def test_samples_seen_must_be_positive_and_finite(n):
    with pytest.raises(LawDomainError, match="samples_seen"):
        loss(n, S, A, B, D, TAU)


def test_pool_size_needed_for_prediction():
    with pytest.raises(LawDomainError, match="pool_size is needed"):
        PoolParams(A, B, D, TAU, name="p").loss(10.0)


def test_fast_growth_equals_the_pass_by_pass_product():
    rng = np.random.default_rng(0)
    n = rng.uniform(1, 5000, 200)
    size = rng.choice([37.0, 100.0, 999.0], 200)
    incs = log_increments(n, size)
    beta = -0.3 * 0.8 ** np.arange(incs.shape[1])
    assert np.allclose(log_growth(n, size, n_passes(n, size), beta), incs @ beta, atol=1e-12)
