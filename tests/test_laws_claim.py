"""The equal-compressibility control, the claim's verdict and the diagnosis of alternative fitting
choices, on laws with known truth."""

from __future__ import annotations

import pytest

from datalaws.atomic import write_json
from datalaws.laws.chinchilla import Law
from datalaws.laws.claim import equal_h_controls, verdict
from datalaws.laws.diagnostics import VARIANTS, compare_choices, variant_runs
from datalaws.laws.lawfile import fit_law, load_law
from datalaws.laws.synthetic import make_runs

SAME = Law.from_natural(E=0.8, A=60.0, B=150.0, alpha=0.35, beta=0.32)
OTHER = Law.from_natural(E=0.8, A=60.0, B=150.0, alpha=0.60, beta=0.25)


@pytest.fixture(scope="module")
def laws(tmp_path_factory):
    root = tmp_path_factory.mktemp("claim")
    out = {}
    for name, law, seed in (("g1", SAME, 1), ("g2", SAME, 2), ("g3", OTHER, 3)):
        write_json(root / f"{name}.json", fit_law(make_runs(law, seed=seed), n_resamples=40))
        out[name] = load_law(root / f"{name}.json")
    return out


@pytest.mark.slow
def test_grammars_of_equal_h_and_the_same_law_agree_and_different_laws_do_not(laws):
    h = {"g1": 0.300, "g2": 0.310, "g3": 0.315}
    pairs = {tuple(p["grammars"]): p for p in equal_h_controls(laws, h, 1e14, max_dh=0.02)}
    assert set(pairs) == {("g1", "g2"), ("g1", "g3"), ("g2", "g3")}
    assert pairs[("g1", "g2")]["agree"]
    assert not pairs[("g1", "g3")]["agree"] and not pairs[("g2", "g3")]["agree"]
    assert False in pairs[("g1", "g3")]["overlap"].values()
    far = equal_h_controls(laws, {"g1": 0.2, "g2": 0.3, "g3": 0.4}, 1e14, max_dh=0.02)
    assert far == []


def test_verdict_reads_the_sign_off_the_interval():
    assert verdict([0.1, 0.5]).startswith("toward data")
    assert verdict([-0.5, -0.1]).startswith("toward parameters")
    assert verdict([-0.1, 0.5]).startswith("no significant trend")
    assert verdict([None, 0.5]).startswith("undetermined")


@pytest.mark.slow
def test_diagnosis_refits_the_runs_under_each_alternative_choice():
    runs = make_runs(SAME, seed=5)
    runs["n_params"] = runs["N"] * 3
    runs["train_loss"] = runs["loss"] * 0.97
    runs["val_loss"] = runs["loss"]
    dropped = variant_runs(runs, VARIANTS["without the two smallest budgets"])
    assert dropped["D"].min() == sorted(runs["D"].unique())[2]
    assert (variant_runs(runs, VARIANTS["N = total parameters"])["N"] == runs["N"] * 3).all()
    table = compare_choices(runs, n_resamples=10)
    assert list(table["variant"]) == list(VARIANTS)
    as_is = table.iloc[0]
    assert as_is["holdout_median_error"] < 0.05 and as_is["rmse_log"] < 0.05
    # a uniform 3% shift of the loss is absorbed by E and A and B, not by the exponents
    train = table.set_index("variant").loc["loss = final training loss"]
    assert train["n_opt_exponent"] == pytest.approx(as_is["n_opt_exponent"], abs=0.05)


def test_report_tables_round_and_name_unresolved_parameters():
    import pandas as pd

    from datalaws.laws.tables import readable

    table = pd.DataFrame(
        {"A": [12.3456789, None], "B_hi": [4.9e161, 3.0], "rmse_log": [0.0123456789, float("nan")]}
    )
    out = readable(table)
    assert out["A"].tolist() == [12.35, "unresolved"]
    assert out["B_hi"].tolist() == ["unresolved", 3.0]
    assert out["rmse_log"].tolist() == [0.01235, ""]
