"""``datalaws fit | frontier``: a user's CSV in, a law with intervals out; bad input refused."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import shipped

from datalaws.cli import main
from datalaws.laws import workflow
from datalaws.laws.chinchilla import Law
from datalaws.laws.frontier import allocation
from datalaws.laws.synthetic import make_runs

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    root = tmp_path_factory.mktemp("fit")
    runs = make_runs(noise=0.02, seed=11).assign(comment="ignored column")
    runs.to_csv(root / "runs.csv", index=False)
    rc = main(
        [
            "fit",
            str(root / "runs.csv"),
            "--bootstrap",
            "40",
            "--seed",
            "3",
            "-o",
            str(root / "law.json"),
        ]
    )
    assert rc == 0
    return root, json.loads((root / "law.json").read_text())


def test_fit_writes_estimates_intervals_objective_and_run_count(fitted):
    _, law = fitted
    assert law["n_runs"] == 36
    assert law["n_inits"] == 4500
    assert law["objective"] > 0
    assert law["bootstrap"]["n_resamples"] == 40
    assert len(law["bootstrap"]["theta"]) == 40
    for key in ("E", "A", "B", "alpha", "beta"):
        lo, hi = law["intervals"][key]
        assert lo <= law["params"][key] <= hi
    assert law["min_predicted_loss_in_range"] > 0
    lo, hi = law["frontier"]["n_opt_exponent_interval"]
    assert lo <= law["frontier"]["n_opt_exponent"] <= hi


def test_fit_is_deterministic_given_the_seed(fitted, tmp_path):
    root, law = fitted
    main(
        [
            "fit",
            str(root / "runs.csv"),
            "--bootstrap",
            "40",
            "--seed",
            "3",
            "-o",
            str(tmp_path / "again.json"),
        ]
    )
    assert json.loads((tmp_path / "again.json").read_text()) == law


def test_frontier_prints_and_writes_the_laws_allocation(fitted, tmp_path, capsys):
    root, law = fitted
    rc = main(
        [
            "frontier",
            str(root / "law.json"),
            "--compute",
            "1e15",
            "1e18",
            "--json",
            str(tmp_path / "alloc.json"),
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "N_opt (parameters)" in text and "tokens per parameter" in text
    rows = json.loads((tmp_path / "alloc.json").read_text())["allocations"]
    p = law["params"]
    point = Law.from_natural(p["E"], p["A"], p["B"], p["alpha"], p["beta"])
    expect = allocation(point.theta, [1e15, 1e18])
    np.testing.assert_allclose([r["n_opt"] for r in rows], expect["n_opt"][0], rtol=1e-9)
    for r in rows:
        assert r["n_opt_lo"] <= r["n_opt"] <= r["n_opt_hi"]


def _write(tmp_path, frame: pd.DataFrame):
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    return path


GOOD = pd.DataFrame(
    {
        "N": [1e5, 1e5, 1e6, 1e6, 1e7, 1e7],
        "D": [1e6, 1e7] * 3,
        "loss": [3.0, 2.5, 2.6, 2.1, 2.4, 1.9],
    }
)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (GOOD.drop(columns="loss"), "missing column(s) loss"),
        (GOOD.rename(columns={"N": "params"}), "missing column(s) N"),
        (GOOD.assign(loss=[3.0, -1.0, 2.6, 2.1, 2.4, 1.9]), "loss must be positive"),
        (GOOD.assign(D=[1e6, 0.0, 1e6, 1e7, 1e6, 1e7]), "D must be positive"),
        (GOOD.assign(N=[1e5, np.nan, 1e6, 1e6, 1e7, 1e7]), "N is missing or not a finite"),
        (GOOD.assign(loss=["3", "x", "2", "2", "2", "2"]), "loss is missing or not a finite"),
        (GOOD.head(4), "4 run(s); a law needs at least 5"),
        (GOOD.assign(N=1e6), "N takes one value only"),
    ],
)
def test_fit_refuses_bad_tables_with_a_clear_message(tmp_path, capsys, frame, message):
    out = tmp_path / "law.json"
    rc = main(["fit", str(_write(tmp_path, frame)), "--bootstrap", "20", "-o", str(out)])
    assert rc == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_fit_refuses_too_few_resamples_and_missing_files(tmp_path, capsys):
    path = _write(tmp_path, GOOD)
    assert main(["fit", str(path), "--bootstrap", "3", "-o", str(tmp_path / "x.json")]) == 2
    assert "at least 10 resamples" in capsys.readouterr().err
    assert main(["fit", str(tmp_path / "none.csv"), "-o", str(tmp_path / "x.json")]) == 2
    assert "none.csv" in capsys.readouterr().err


def test_frontier_refuses_non_law_files_and_bad_compute(fitted, tmp_path, capsys):
    root, _ = fitted
    (tmp_path / "x.json").write_text('{"format": "something else"}')
    assert main(["frontier", str(tmp_path / "x.json"), "--compute", "1e18"]) == 2
    assert "not a law file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["frontier", str(root / "law.json"), "--compute", "-5"])


def test_predict_without_a_law_says_how_to_get_one(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["predict", "--h", "0.3", "--compute", "1e13"]) == 2
    assert "results/laws/h_law.json" in capsys.readouterr().err


def test_shipped_laws_sections_validate_and_defaults_come_from_the_schema():
    schema = yaml.safe_load((REPO / "workflow/schemas/laws.schema.yaml").read_text())
    for section in shipped("laws").values():
        jsonschema.validate(section, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"n_param": "embedding"}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"bootstrap": 5}, schema)
    filled = workflow.settings({"laws": {"approaches": {"n_levels": 9}}})
    approaches = schema["properties"]["approaches"]["properties"]
    assert filled["approaches"] == {
        "n_levels": 9,
        "min_points": approaches["min_points"]["default"],
        "min_levels": approaches["min_levels"]["default"],
    }
    assert filled["bootstrap"] == schema["properties"]["bootstrap"]["default"]
    targets = workflow.targets(["a", "b"])
    assert "results/laws/law_b.json" in targets and "results/laws/h_law.json" in targets
    assert json.dumps(targets)  # plain strings, as Snakemake needs


def test_frontier_states_the_fitted_box_and_flags_extrapolation(fitted, tmp_path, capsys):
    root, law = fitted
    (n0, n1), (d0, d1) = law["range"]["N"], law["range"]["D"]
    inside = 6 * (n0 * n1) ** 0.5 * (d0 * d1) ** 0.5
    out = tmp_path / "alloc.json"
    rc = main(["frontier", str(root / "law.json"), "--compute", str(inside), "1e24"])
    rc += main(["frontier", str(root / "law.json"), "--compute", "1e24", "--json", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert f"N from {n0:.3g} to {n1:.3g} parameters" in text
    assert f"EXTRAPOLATION at C = {inside:.3g}: compute" not in text
    expect = np.log10(1e24 / (6 * n1 * d1))
    assert f"EXTRAPOLATION at C = 1e+24: compute C {expect:.1f} decades above" in text
    row = json.loads(out.read_text())["allocations"][0]
    assert row["extrapolation_decades"]["compute"] == pytest.approx(expect)
    assert row["extrapolation_decades"]["n_opt"] > 0


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"alpha": -0.1}, "alpha = -0.1: the loss does not fall with N"),
        ({"B": None}, "B = None: the runs do not resolve the D term"),
        ({"E": 1e24}, "E = 1e+24 exceeds every loss the law was fitted on"),
    ],
)
def test_frontier_refuses_an_unphysical_law_with_the_reason(
    fitted, tmp_path, capsys, change, reason
):
    _, law = fitted
    path = tmp_path / "law.json"
    path.write_text(json.dumps(law | {"params": law["params"] | change}))
    assert main(["frontier", str(path), "--compute", "1e15"]) == 2
    err = capsys.readouterr().err
    assert "is not a physical law" in err and reason in err
