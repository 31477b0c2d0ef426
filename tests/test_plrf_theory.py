"""Phases and exponents: the paper's formulas, the derived ones, boundaries, and outside."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from datalaws.plrf.model import PLRFError
from datalaws.plrf.theory import IV_SPLIT, exponents


def test_paper_check_point():
    t = exponents(0.7, 0.7)
    assert t.phase == "II/III"
    assert t.eta == pytest.approx(0.642857, abs=1e-6)
    assert t.xi == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("alpha", "beta", "phase", "eta", "xi"),
    [
        (0.7, 0.3, "Ia", 1.0 / 2.4, 1.0 / 2.4),
        (1.0, 0.7, "II", 2.4 / 3.4, 0.7 / 1.7),
        (0.7, 1.2, "III", 1 - 1 / 2.8, 0.5),
        (0.4, 0.3, "Ib", 0.2, 0.5),
        (0.4, 0.8, "IVa", 0.4, 0.5),
        (0.27, 0.8, "IVb", 1.14 * 0.46 / (2 * (1.6 * 0.73 - 0.27)), 0.53 / (1.6 * 0.73 - 0.27)),
        (0.2, 0.8, "Ic", 0.4 / 1.76, 1 / 1.76),
    ],
)
def test_each_phase(alpha, beta, phase, eta, xi):
    t = exponents(alpha, beta)
    assert (t.phase, t.eta, t.xi) == (phase, pytest.approx(eta), pytest.approx(xi))
    assert t.note == ""


def test_exponents_are_continuous_across_boundaries_except_xi_at_iv_split():
    """Crossing any boundary changes eta continuously; xi jumps only between IVa and IVb, where
    K_pp stops depending on d at fixed f and the optimum slides along a flat valley."""
    eps = 1e-7
    edges = [(0.5, b) for b in (0.2, 0.4, 0.8, 1.2)]  # 2a = 1
    edges += [(a, 0.5) for a in (0.1, 0.2, 0.3, 0.45, 0.7, 1.0)]  # 2b = 1
    edges += [(a, a) for a in (0.6, 0.9)]  # II / III
    edges += [(0.25, b) for b in (0.6, 1.0)] + [(IV_SPLIT, b) for b in (0.6, 1.0)]
    for a, b in edges:
        around = [exponents(a + da, b + db) for da, db in itertools.product((-eps, eps), repeat=2)]
        around = [t for t in around if t.eta is not None]
        etas = [t.eta for t in around]
        assert max(etas) - min(etas) < 1e-5, (a, b, [(t.phase, t.eta) for t in around])
        xis = [t.xi for t in around]
        if a != IV_SPLIT:
            assert max(xis) - min(xis) < 1e-5, (a, b, [(t.phase, t.xi) for t in around])
        else:
            assert max(xis) - min(xis) > 0.01


def test_boundary_points_say_so():
    t = exponents(0.5, 0.8)
    assert t.phase == "III/IVa" and t.eta == pytest.approx(0.5) and "2 alpha = 1" in t.note
    t = exponents(IV_SPLIT, 0.8)
    assert t.phase == "IVb/IVa" and t.eta is not None and t.xi is None
    assert "disagree" in t.note


def test_outside_the_phases_is_reported_not_extrapolated():
    for a, b in [(0.2, 0.2), (0.3, 0.1), (0.1, -0.5)]:
        t = exponents(a, b)
        assert t.phase == "none" and t.eta is None and t.xi is None
        assert "no formula applies" in t.note


def test_alpha_must_be_positive():
    with pytest.raises(PLRFError, match="alpha must be > 0"):
        exponents(0.0, 0.7)
    with pytest.raises(PLRFError, match="finite"):
        exponents(np.nan, 0.7)
