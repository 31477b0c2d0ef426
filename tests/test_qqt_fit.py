"""The robust fit: recovery of known laws, intervals, bad runs, and the grid search it replaces."""

import numpy as np
import pandas as pd
import pytest

from datalaws.qqt.fit import FitConfig, FitError, fit_runs, grid_search
from datalaws.qqt.law import PoolParams
from datalaws.qqt.runs import RunsError, validate_runs
from datalaws.qqt.synthetic import synthetic_runs

S = 1000.0
BUDGETS = S * np.array([0.125, 0.25, 0.5, 1, 2, 4, 8, 16, 32])
TRUE = [
    PoolParams(30.0, -0.35, 1.8, 2.5, name="top00-10"),
    PoolParams(30.0, -0.28, 1.8, 4.0, name="top10-20"),
    PoolParams(30.0, -0.22, 1.8, 6.0, name="top20-30"),
]


def _rel(fit, true):
    return np.array([abs(getattr(fit, k) / getattr(true, k) - 1) for k in ("a", "b", "tau")])


@pytest.mark.parametrize("share", [(), ("a", "d")])
def test_fit_recovers_noise_free_parameters(share):
    runs = synthetic_runs(TRUE, BUDGETS, S)
    result = fit_runs(runs, FitConfig(n_boot=0, share=share))
    for fit, true in zip(result.pools, TRUE, strict=True):
        assert fit.name == true.name and fit.pool_size == S
        assert np.all(_rel(fit, true) < 1e-4), (fit, true)
        assert fit.d == pytest.approx(true.d, abs=1e-4)
    assert all(b.rmse_log < 1e-6 for b in result.buckets)


def test_noisy_fit_intervals_cover_the_truth():
    runs = synthetic_runs(TRUE, BUDGETS, S, noise=0.003, seed=3)
    result = fit_runs(runs, FitConfig(n_boot=25, seed=0))
    assert result.boot_ok + result.boot_failed == 25 and result.boot_ok >= 20
    for fit, true in zip(result.buckets, TRUE, strict=True):
        ci = fit.interval(0.95)
        for key in ("b", "tau"):
            assert ci[key][0] <= getattr(true, key) <= ci[key][1], (fit.pool.name, key, ci)
        assert abs(fit.pool.b / true.b - 1) < 0.15 and abs(fit.pool.tau / true.tau - 1) < 0.25
    again = fit_runs(runs, FitConfig(n_boot=25, seed=0))
    assert np.array_equal(again.buckets[0].boot, result.buckets[0].boot)  # seeded


def test_shared_fit_ties_a_and_d():
    runs = synthetic_runs(TRUE, BUDGETS, S, noise=0.003, seed=4)
    pools = fit_runs(runs, FitConfig(n_boot=0, share=("a", "d"))).pools
    assert len({p.a for p in pools}) == 1 and len({p.d for p in pools}) == 1
    assert [p.b for p in pools] == sorted(p.b for p in pools)  # quality order kept


def test_fit_beats_the_authors_grid_search_on_the_same_data():
    """The authors' grid search (even on hand-picked linear ranges that contain the truth, 25
    points per axis = 390k evaluations) is less accurate than the multi-start fit."""
    rng = np.random.default_rng(7)
    errors = {"fit": [], "grid": []}
    dense = S * np.geomspace(0.1, 64, 40)
    for seed in range(3):
        true = PoolParams(
            float(rng.uniform(10, 60)),
            float(-rng.uniform(0.15, 0.45)),
            float(rng.uniform(0.5, 2.5)),
            float(rng.uniform(1.5, 9)),
            name="x",
        )
        runs = synthetic_runs([true], BUDGETS, S, noise=0.003, seed=seed)
        fitted = fit_runs(runs, FitConfig(n_boot=0)).pools[0]
        grid, _ = grid_search(runs, points=25, b_range=(-0.5, -0.005), tau_range=(1.0, 10.0))
        for key, est in (("fit", fitted), ("grid", grid)):
            curve = np.sqrt(np.mean(np.log(est.loss(dense, S) / true.loss(dense, S)) ** 2))
            errors[key].append([abs(est.b / true.b - 1), abs(est.tau / true.tau - 1), curve])
    fit_err, grid_err = np.mean(errors["fit"], axis=0), np.mean(errors["grid"], axis=0)
    assert fit_err[1] < grid_err[1]  # half-life
    assert fit_err[2] < grid_err[2]  # whole curve, extrapolated to 64 passes


def test_grid_search_is_limited_to_its_grid_even_without_noise():
    runs = synthetic_runs(TRUE[:1], BUDGETS, S)
    grid, _ = grid_search(runs, points=12)
    fitted = fit_runs(runs, FitConfig(n_boot=0)).pools[0]
    assert np.max(_rel(fitted, TRUE[0])) < 1e-4 < np.max(_rel(grid, TRUE[0]))


def _runs(**overrides):
    frame = synthetic_runs(TRUE[:1], BUDGETS[:4], S)
    for key, value in overrides.items():
        frame.loc[1, key] = value
    return frame


def test_bucket_with_too_few_budgets_is_refused():
    frame = synthetic_runs(TRUE[:2], BUDGETS[:4], S)
    frame = frame[~((frame.bucket == "top10-20") & (frame.samples_seen > BUDGETS[1]))]
    with pytest.raises(RunsError, match=r"fewer than 3 distinct samples_seen.*'top10-20' has 2"):
        fit_runs(frame)
    doubled = pd.concat([frame[frame.bucket == "top10-20"]] * 3)  # repeats are not new budgets
    with pytest.raises(RunsError, match="fewer than 3 distinct"):
        validate_runs(doubled)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"loss": np.nan}, "'loss' must be a finite number > 0"),
        ({"loss": -1.0}, "'loss' must be a finite number > 0"),
        ({"samples_seen": 0.0}, "'samples_seen' must be a finite number > 0"),
        ({"epochs": 7.0}, "epochs 7 != samples_seen / unique_samples"),
    ],
)
def test_bad_rows_are_refused(overrides, message):
    with pytest.raises(RunsError, match=message):
        validate_runs(_runs(**overrides))


def test_missing_column_and_bad_options():
    with pytest.raises(RunsError, match="missing columns"):
        validate_runs(_runs().drop(columns="epochs"))
    with pytest.raises(FitError, match="share may name"):
        FitConfig(share=("tau",))
    with pytest.raises(FitError, match="order"):
        fit_runs(_runs(), FitConfig(n_boot=0), order=["nope"])


def _few_runs_with_anchor(seed: int) -> pd.DataFrame:
    """Two buckets at 4 budgets (the tiny study's design, 1% noise) and a clean anchor of fresh
    data (unique samples = samples seen), all with the floor d = 1."""
    pools = [
        PoolParams(150.0, -0.9, 1.0, 8.0, name="top00-10"),
        PoolParams(60.0, -0.7, 1.0, 20.0, name="top10-20"),
    ]
    runs = synthetic_runs(pools, 200.0 * np.array([0.5, 2, 8, 32]), 200.0, noise=0.01, seed=seed)
    n = np.array([400.0, 1600.0, 6400.0])
    anchor = PoolParams(5000.0, -1.5, 1.0, 1.0).loss(n, n)
    noise = np.exp(0.01 * np.random.default_rng(seed).standard_normal(3))
    fresh = pd.DataFrame(
        {"bucket": "clean", "samples_seen": n, "epochs": 1.0, "unique_samples": n}
    ).assign(loss=anchor * noise)
    return pd.concat([runs, fresh], ignore_index=True)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_clean_anchor_with_shared_d_pins_the_floor_and_residuals_resample(seed):
    runs = _few_runs_with_anchor(seed)
    shared = fit_runs(runs, FitConfig(n_boot=10, share=("d",), resample="residuals"))
    assert shared.pools[0].d == pytest.approx(1.0, abs=0.03)
    assert shared.boot_failed == 0  # every budget stays in a residual resample
    # Without the anchor, 4 noisy runs per bucket leave floor and wear-out confounded.
    alone = fit_runs(runs[runs["bucket"] != "clean"], FitConfig(n_boot=0))
    assert max(abs(p.d - 1.0) for p in alone.pools) > 0.05
    # Resampling runs drops below 3 distinct budgets in most resamples of 3-4 runs.
    by_runs = fit_runs(runs, FitConfig(n_boot=10, share=("d",), resample="runs"))
    assert by_runs.boot_failed >= 8
