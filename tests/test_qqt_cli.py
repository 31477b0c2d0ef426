"""``datalaws qqt fit / predict / compare`` end to end on files, and their bad-input errors."""

import json

import numpy as np
import pandas as pd
import pytest

from datalaws.cli import main
from datalaws.qqt.law import PoolParams
from datalaws.qqt.mixture import mix
from datalaws.qqt.synthetic import synthetic_runs

S = 1000
POOLS = [
    PoolParams(30.0, -0.40, 1.5, 1.0, name="top00-10"),
    PoolParams(30.0, -0.34, 1.5, 2.5, name="top10-20"),
    PoolParams(30.0, -0.30, 1.5, 6.0, name="top20-30"),
    PoolParams(30.0, -0.33, 1.5, 3.0, name="random"),
]
BUDGETS = S * np.array([0.25, 0.5, 1, 2, 4, 8, 16])


@pytest.fixture
def runs_csv(tmp_path):
    path = tmp_path / "runs.csv"
    synthetic_runs(POOLS, BUDGETS, S, noise=0.002, seed=0).to_csv(path, index=False)
    return path


def test_fit_then_predict_then_compare(tmp_path, runs_csv, capsys):
    params = tmp_path / "params.json"
    assert main(["qqt", "fit", str(runs_csv), "-o", str(params), "--n-boot", "8"]) == 0
    obj = json.loads(params.read_text())
    assert obj["format"] == "datalaws-qqt-params-v1"
    assert [b["name"] for b in obj["buckets"]] == [p.name for p in POOLS]
    assert [b["control"] for b in obj["buckets"]] == [False, False, False, True]
    for entry, true in zip(obj["buckets"], POOLS, strict=True):
        assert entry["pool_size"] == S and len(entry["bootstrap"]) > 0
        assert abs(entry["tau"] / true.tau - 1) < 0.3

    out = tmp_path / "pred.json"
    argv = ["qqt", "predict", str(params), "--pool-size", str(S), "--budgets", "500,4000,64000"]
    code = main([*argv, "-o", str(out), "--csv", str(tmp_path / "pred.csv")])
    assert code == 0
    pred = json.loads(out.read_text())
    assert set(pred["mixtures"]) == {"top1", "top2", "top3"}  # the control is left out
    assert [row["budget"] for row in pred["best"]] == [500, 4000, 64000]
    assert len(pd.read_csv(tmp_path / "pred.csv")) == 9
    assert "best:" in capsys.readouterr().out

    measured = synthetic_runs([PoolParams(30.0, -0.3, 1.5, 4.0, name="top2")], [500, 8000], 2 * S)
    measured.to_csv(tmp_path / "mix.csv", index=False)
    table = tmp_path / "compare.csv"
    code = main(["qqt", "compare", str(params), str(tmp_path / "mix.csv"), "-o", str(table)])
    assert code == 0
    frame = pd.read_csv(table)
    assert frame.mixture.tolist() == ["top2", "top2"]
    assert np.allclose(frame.measured, measured.loss)


def test_predict_accepts_parameters_fitted_elsewhere(tmp_path, capsys):
    path = tmp_path / "elsewhere.json"
    path.write_text(
        json.dumps([{"name": p.name, "a": p.a, "b": p.b, "d": p.d, "tau": p.tau} for p in POOLS])
    )
    assert main(["qqt", "predict", str(path), "--pool-size", "1000", "--budgets", "2e3"]) == 0
    printed = capsys.readouterr().out
    expected = mix(POOLS[:4], 1000).loss(2000.0)[0]  # top4: 'random' is not marked control here
    assert f"{expected:.4f}" in printed


def _error(capsys, argv):
    assert main(argv) == 2
    return capsys.readouterr().err


def test_bad_inputs_exit_2_with_a_clear_message(tmp_path, runs_csv, capsys):
    frame = pd.read_csv(runs_csv)
    few = tmp_path / "few.csv"
    frame[frame.samples_seen <= BUDGETS[1]].to_csv(few, index=False)
    err = _error(capsys, ["qqt", "fit", str(few), "-o", str(tmp_path / "x.json")])
    assert "fewer than 3 distinct samples_seen" in err
    assert not (tmp_path / "x.json").exists()  # nothing half-written

    bad = tmp_path / "bad.json"
    for entry, message in (
        ({"a": 1, "b": 0.2, "d": 0, "tau": 1}, "utility b must be < 0"),
        ({"a": 1, "b": -0.2, "d": 0, "tau": 0}, "half-life tau must be > 0"),
        ({"a": 1, "b": -0.2, "d": 0}, "lacks ['tau']"),
    ):
        bad.write_text(json.dumps([entry]))
        err = _error(capsys, ["qqt", "predict", str(bad), "--pool-size", "10", "--budgets", "5"])
        assert message in err

    unequal = tmp_path / "unequal.json"
    unequal.write_text(
        json.dumps(
            [
                {"name": "x", "a": 1, "b": -0.2, "d": 0, "tau": 1, "pool_size": 100},
                {"name": "y", "a": 1, "b": -0.1, "d": 0, "tau": 2, "pool_size": 300},
            ]
        )
    )
    err = _error(capsys, ["qqt", "predict", str(unequal), "--budgets", "500"])
    assert "unequal size" in err
    argv = ["qqt", "predict", str(unequal), "--budgets", "500", "--weight-by-size"]
    assert main(argv) == 0
    err = _error(capsys, ["qqt", "predict", str(unequal), "--budgets", "5,x"])
    assert "--budgets" in err
    err = _error(capsys, ["qqt", "predict", str(tmp_path / "missing.json"), "--budgets", "5"])
    assert "missing.json" in err
