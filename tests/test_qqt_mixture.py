"""The mixture theorem on hand-computed cases, unequal pools, top-k selection."""

import math

import numpy as np
import pytest

from datalaws.qqt.law import PoolParams
from datalaws.qqt.mixture import MixtureError, mix, mixtures, parse_mix

P1 = PoolParams(2.0, -0.4, 1.0, 1.0, name="top1", pool_size=100)
P2 = PoolParams(2.0, -0.2, 1.0, 2.0, name="top2", pool_size=100)
RANDOM = PoolParams(2.0, -0.3, 1.0, 1.5, name="random", pool_size=100, control=True)


def test_theorem_exponents_by_hand():
    # p = 2: tau_hat = (2, 4), delta_hat = (0.5^(1/2), 0.5^(1/4))
    m = mix([P1, P2])
    assert m.pool_size == 200
    assert np.allclose(m.taus, [2.0, 4.0])
    b_eff = m.exponents(3)
    assert b_eff[0] == pytest.approx((-0.4 - 0.2) / 2)
    assert b_eff[1] == pytest.approx((-0.4 * 0.5**0.5 - 0.2 * 0.5**0.25) / 2)
    assert b_eff[2] == pytest.approx((-0.4 * 0.5 - 0.2 * 0.5**0.5) / 2)
    assert b_eff[1] == pytest.approx(-0.225511, abs=1e-6)


def test_theorem_loss_by_hand():
    m = mix([P1, P2])
    b1, b2 = -0.3, (-0.4 * 0.5**0.5 - 0.2 * 0.5**0.25) / 2
    # two passes over the 200-sample mixture, then half of a third
    assert m.loss(400.0)[0] == pytest.approx(2 * 200**b1 * 2**b2 + 1, rel=1e-12)
    assert m.loss(400.0)[0] == pytest.approx(1.349008, abs=2e-6)
    b3 = (-0.4 * 0.5 - 0.2 * 0.5**0.5) / 2
    assert m.loss(500.0)[0] == pytest.approx(2 * 200**b1 * 2**b2 * 1.25**b3 + 1, rel=1e-12)


def test_single_pool_mixture_is_the_pool():
    n = np.geomspace(10, 5000, 17)
    assert np.allclose(mix([P1]).loss(n), P1.loss(n), rtol=1e-13)


def test_mixture_of_copies_repeats_p_times_less():
    twin = PoolParams(2.0, -0.4, 1.0, 1.0, name="twin", pool_size=100)
    b_eff = mix([P1, twin]).exponents(4)
    assert np.allclose(b_eff, -0.4 * 0.5 ** (np.arange(4) / 2.0))


def test_unequal_pools_are_refused_unless_weighted():
    big = PoolParams(2.0, -0.2, 1.0, 2.0, name="big", pool_size=300)
    with pytest.raises(MixtureError, match="unequal size"):
        mix([P1, big])
    m = mix([P1, big], weight_by_size=True)
    assert np.allclose(m.weights, [0.25, 0.75])
    assert np.allclose(m.taus, [4.0, 2.0 / 0.75])
    assert m.exponents(2)[1] == pytest.approx(
        0.25 * -0.4 * 0.5 ** (1 / 4) + 0.75 * -0.2 * 0.5 ** (0.75 / 2)
    )


def test_weighting_equal_pools_is_the_theorem():
    n = np.geomspace(10, 5000, 9)
    assert np.allclose(mix([P1, P2], weight_by_size=True).loss(n), mix([P1, P2]).loss(n))


def test_pool_size_argument_overrides_and_is_required():
    bare = PoolParams(2.0, -0.4, 1.0, 1.0, name="bare")
    with pytest.raises(MixtureError, match="pool_size unknown"):
        mix([bare, P2])
    assert mix([bare, P2], pool_size=50).pool_size == 100


def test_separately_fitted_a_and_d_combine_geometrically_and_linearly():
    q1 = PoolParams(4.0, -0.4, 1.0, 1.0, name="q1", pool_size=100)
    q2 = PoolParams(1.0, -0.2, 2.0, 2.0, name="q2", pool_size=100)
    m = mix([q1, q2])
    assert m.a == pytest.approx(2.0)
    assert m.d == pytest.approx(1.5)
    # in the first pass the reducible loss is the geometric mean of the members'
    n = 60.0
    assert m.loss(n)[0] - m.d == pytest.approx(math.sqrt((q1.loss(n)[0] - 1) * (q2.loss(n)[0] - 2)))


def test_top_k_skips_controls_and_names_work():
    pools = [P1, RANDOM, P2]
    assert [p.name for p in parse_mix("top2", pools)] == ["top1", "top2"]
    assert [p.name for p in parse_mix("top1+random", pools)] == ["top1", "random"]
    assert [m.name for m in mixtures(None, pools)] == ["top1", "top2"]
    with pytest.raises(MixtureError, match=r"k must lie in 1\.\.2"):
        parse_mix("top3", pools)
    with pytest.raises(MixtureError, match="unknown pools"):
        parse_mix("top1+nope", pools)
    with pytest.raises(MixtureError, match="twice"):
        parse_mix("top1+top1", pools)
