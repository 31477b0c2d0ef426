"""Best filtering level per budget, the frontier, and predicted-vs-measured mixtures."""

import numpy as np
import pandas as pd
import pytest

from datalaws.qqt.decision import (
    best_per_budget,
    compare_measured,
    frontier,
    loosens_with_compute,
    predict_table,
    switch_points,
)
from datalaws.qqt.law import LawDomainError, PoolParams
from datalaws.qqt.mixture import MixtureError, mixtures
from datalaws.qqt.synthetic import synthetic_runs

# The best bucket learns fastest and wears out fastest; worse buckets last longer.
POOLS = [
    PoolParams(30.0, -0.40, 1.5, 1.0, name="q1", pool_size=1000, fraction=0.1),
    PoolParams(30.0, -0.34, 1.5, 2.5, name="q2", pool_size=1000, fraction=0.1),
    PoolParams(30.0, -0.30, 1.5, 6.0, name="q3", pool_size=1000, fraction=0.1),
]


def test_best_is_the_argmin_of_the_table():
    table = predict_table(mixtures(None, POOLS), [500, 4000, 64000])
    assert set(table.columns) >= {"mixture", "budget", "loss", "epochs", "fraction"}
    best = best_per_budget(table)
    for row in best.itertuples():
        group = table[table.budget == row.budget]
        assert row.loss == group.loss.min()
        assert row.best == group.loc[group.loss.idxmin(), "mixture"]
        assert row.margin >= 0
    assert best.fraction.tolist() == pytest.approx([0.1 * k for k in best.pools])


def test_level_loosens_for_pools_that_wear_out():
    best = best_per_budget(predict_table(mixtures(None, POOLS), np.geomspace(300, 3e5, 12)))
    ok, why = loosens_with_compute(best)
    assert ok, why
    assert best.pools.iloc[0] == 1 and best.pools.iloc[-1] == 3


def test_verdicts_that_fail():
    flat = pd.DataFrame({"budget": [1, 2, 3], "pools": [2, 2, 2]})
    assert loosens_with_compute(flat) == (False, "best level is the same (top2) at every budget")
    tight = pd.DataFrame({"budget": [1, 2, 3], "pools": [1, 3, 2]})
    assert not loosens_with_compute(tight)[0]
    assert not loosens_with_compute(flat.iloc[:1])[0]


def test_frontier_switches_once_per_new_level():
    front = frontier(mixtures(None, POOLS), 300, 3e5, points=121)
    switches = switch_points(front)
    assert switches.pools.tolist() == [1, 2, 3]
    assert switches.budget.is_monotonic_increasing
    with pytest.raises(LawDomainError, match="low < high"):
        frontier(mixtures(None, POOLS), 10, 1)


def test_compare_measured_against_the_theorem():
    mixes = mixtures(None, POOLS)
    truth = [
        PoolParams(m.a, -0.3, m.d, 2.0, name=m.name) for m in mixes[:2]
    ]  # deliberately not the theorem's curve, so errors are non-zero
    runs = pd.concat(
        [
            synthetic_runs([truth[0]], [500, 2000], 1000),
            synthetic_runs([truth[1]], [500, 2000], 2000),
        ]
    )
    table = compare_measured(mixes, runs)
    assert len(table) == 4
    assert np.allclose(table.error, table.predicted - table.measured)
    first = table.iloc[0]
    assert first.predicted == pytest.approx(mixes[0].loss(500)[0])
    assert first.measured == pytest.approx(truth[0].loss(500, 1000)[0])


def test_compare_refuses_wrong_pool_size_and_unknown_mixture():
    mixes = mixtures(None, POOLS)
    runs = synthetic_runs([PoolParams(30, -0.3, 1.5, 2, name="top2")], [500, 2000], 1000)
    with pytest.raises(MixtureError, match="top2: run has 1000 unique samples"):
        compare_measured(mixes, runs)
    runs["bucket"] = "top9"
    with pytest.raises(MixtureError, match="unknown mixtures"):
        compare_measured(mixes, runs)


def test_budgets_are_checked():
    with pytest.raises(LawDomainError, match="budgets"):
        predict_table(mixtures(None, POOLS), [100, 0])
    with pytest.raises(LawDomainError, match="budgets"):
        predict_table(mixtures(None, POOLS), [])
