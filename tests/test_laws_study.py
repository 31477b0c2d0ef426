"""The laws stage's steps end to end on synthetic runs from known H-dependent laws, as the
workflow chains them; and ``datalaws predict`` on the H-law they produce."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from datalaws.atomic import read_json, write_json
from datalaws.cli import main
from datalaws.compress import measure
from datalaws.laws import plots, steps, tables, workflow
from datalaws.laws.frontier import allocation, exponents
from datalaws.laws.runs import RunsError, collect_runs
from datalaws.laws.synthetic import law_at, write_study

pytestmark = pytest.mark.slow  # the fixture runs the whole stage once (about 15 s)

GRAMMARS = {"k3": 0.15, "k20": 0.3, "k50": 0.5}
B = 30


@pytest.fixture(scope="module")
def done(tmp_path_factory):
    """Run every step of the stage once, as workflow/rules/laws.smk chains them."""
    root = tmp_path_factory.mktemp("study")
    paths = write_study(root / "in", GRAMMARS, seed=4)
    out = root / "results"
    names = list(GRAMMARS)
    gz = [paths[g]["gzip_json"] for g in names]
    laws = [out / f"law_{g}.json" for g in names]
    for g, law in zip(names, laws, strict=True):
        runs = out / g / "runs.csv"
        steps.collect(paths[g]["final_jsons"], paths[g]["gzip_json"], runs)
        assert main(["fit", str(runs), "--bootstrap", str(B), "-o", str(law)]) == 0
        steps.approaches(runs, law, out / g / "approaches.json", 0.95)
        steps.held_out(runs, out / g / "holdout.json", n_resamples=B)
    steps.combine([out / g / "runs.csv" for g in names], out / "runs.csv")
    for kind in ("approaches", "holdout"):
        steps.merge(names, [out / g / f"{kind}.json" for g in names], out / f"{kind}.json")
    steps.regress_on_h(names, laws, gz, out / "h_regression.json", 0.95)
    steps.h_law(out / "runs.csv", names, laws, out / "h_law.json", n_resamples=B)
    steps.frontiers(
        out / "runs.csv",
        names,
        laws,
        gz,
        out / "h_law.json",
        out / "frontiers.csv",
        out / "crossing.json",
        20,
        1.0,
    )
    steps.claim(out / "runs.csv", names, laws, gz, out / "h_law.json", out / "claim.json", 0.95)
    return {"root": root, "out": out, "names": names, "gz": gz, "laws": laws, "paths": paths}


def test_runs_table_uses_the_configured_n_and_loss(done):
    p = done["paths"]["k3"]
    table = collect_runs(p["final_jsons"], p["gzip_json"])
    first = read_json(p["final_jsons"][0])
    assert table["N"].iloc[0] == first["n_params_nonembedding"]
    assert table["loss"].iloc[0] == first["val_loss"]
    assert table["H"].unique().tolist() == [GRAMMARS["k3"]]
    other = collect_runs(p["final_jsons"], p["gzip_json"], n_param="total", loss="train")
    np.testing.assert_array_equal(other["N"], table["N"] + 5000)
    assert other["loss"].iloc[0] == first["train_loss"]
    with pytest.raises(RunsError, match="n_param"):
        collect_runs(p["final_jsons"], p["gzip_json"], n_param="embedding")


def test_collect_names_the_file_with_a_missing_key(done, tmp_path):
    p = done["paths"]["k3"]
    broken = read_json(p["final_jsons"][0])
    del broken["val_loss"]
    write_json(tmp_path / "final.json", broken)
    with pytest.raises(RunsError, match=r"final\.json: missing key\(s\) val_loss"):
        collect_runs([tmp_path / "final.json"], p["gzip_json"])


def test_per_grammar_laws_recover_the_generating_laws(done):
    for g, path in zip(done["names"], done["laws"], strict=True):
        rec = read_json(path)
        truth = law_at(GRAMMARS[g]).natural()
        assert rec["params"]["alpha"] == pytest.approx(truth["alpha"], abs=0.06)
        assert rec["params"]["beta"] == pytest.approx(truth["beta"], abs=0.06)
        assert rec["params"]["E"] == pytest.approx(truth["E"], rel=0.25)


def test_approaches_agree_with_the_generating_exponent(done):
    res = read_json(done["out"] / "approaches.json")
    for g in done["names"]:
        true_a = exponents(law_at(GRAMMARS[g]).theta)[0, 0]
        lo, hi = res[g]["approach2"]["interval"]  # IsoFLOP slices of a 6 x 6 grid: wide
        assert lo <= true_a <= hi
        assert res[g]["approach3"]["exponent"] == pytest.approx(true_a, abs=0.06)
        assert [d["pair"] for d in res[g]["disagreements"]] == [
            ["approach1", "approach2"],
            ["approach1", "approach3"],
            ["approach2", "approach3"],
        ]
        assert res[g]["disagree"] == any(d["disagree"] for d in res[g]["disagreements"])


def test_holdout_predicts_the_largest_size(done):
    res = read_json(done["out"] / "holdout.json")
    for g in done["names"]:
        assert res[g]["held_out_N"] == 2.0e7
        assert res[g]["n_test_runs"] == 6
        assert res[g]["mean_abs_relative_error"] < 0.08
        pi = np.array([r["pi"] for r in res[g]["runs"]])
        ci = np.array([r["ci"] for r in res[g]["runs"]])
        # residual scatter widens the interval beyond parameter uncertainty alone
        assert np.mean(pi[:, 1] - pi[:, 0]) > np.mean(ci[:, 1] - ci[:, 0]) > 0


def test_holdout_of_a_too_small_grid_is_recorded_as_skipped(tmp_path):
    runs = pd.DataFrame(
        {
            "N": [1e5] * 3 + [1e6] * 3,
            "D": [1e6, 1e7, 1e8] * 2,
            "loss": [3.0, 2.5, 2.2, 2.6, 2.1, 1.8],
        }
    )
    runs.to_csv(tmp_path / "runs.csv", index=False)
    steps.held_out(tmp_path / "runs.csv", tmp_path / "holdout.json", n_resamples=10)
    assert "too few runs" in read_json(tmp_path / "holdout.json")["skipped"]


def test_regression_on_h_and_h_law_find_the_generating_trends(done):
    reg = read_json(done["out"] / "h_regression.json")
    assert reg["degrees_of_freedom"] == 1
    assert reg["params"]["E"]["slope"] > 0
    assert reg["params"]["beta"]["slope"] < 0
    for v in reg["params"].values():
        assert v["slope_interval"][0] <= v["slope"] <= v["slope_interval"][1] or B < 50
        assert 0 <= v["p_value"] <= 1
    for key in ("A", "B"):  # also in log10: the line a log axis shows, positive everywhere
        log_line = reg["params"][key]["log10"]
        expected = np.polyfit(reg["H"], np.log10(reg["points"][key]), 1)
        assert [log_line["slope"], log_line["intercept"]] == pytest.approx(expected, rel=1e-9)
        low, high = log_line["slope_interval"]
        assert low <= log_line["slope"] <= high or B < 50
    assert not {"log10"} & {k for key in ("E", "alpha", "beta") for k in reg["params"][key]}
    hl = read_json(done["out"] / "h_law.json")
    assert hl["H_range"] == [0.15, 0.5]
    c = hl["coefficients"]
    # generating law: alpha = 0.40 - 0.20 H, beta = 0.46 - 0.42 H, log B = 6 - 3 H
    assert c["beta"]["slope"] == pytest.approx(-0.42, abs=0.12)
    assert c["alpha"]["slope"] == pytest.approx(-0.20, abs=0.12)
    assert c["b"]["slope"] == pytest.approx(-3.0, abs=1.0)
    assert 0.0 <= hl["blend"]["eps"] <= 1.0
    assert hl["blend"]["objective"] <= hl["blend"]["objective_chinchilla_only"]
    assert hl["bootstrap"]["n_converged"] == B


def test_a_source_with_an_unresolved_term_is_left_out_of_that_line_and_named(done, tmp_path):
    """A real corpus whose law has no gain from size (python-doc in the real study) has A beyond
    float range: its A is left out of the A line, the other lines keep every source, and the file
    and figure 4 are still written (the study stopped on a NaN in this JSON before)."""
    names, laws = done["names"], []
    for g, path in zip(names, done["laws"], strict=True):
        record = read_json(path)
        if g == names[1]:
            record["log_params"]["a"] = 1.0e6  # exp() overflows: an unresolved A
            a = record["bootstrap"]["theta_columns"].index("a")
            for theta in record["bootstrap"]["theta"]:
                theta[a] = 1.0e6
        write_json(tmp_path / f"law_{g}.json", record)
        laws.append(tmp_path / f"law_{g}.json")
    out = tmp_path / "h_regression.json"
    steps.regress_on_h(names, laws, done["gz"], out, 0.95)
    reg = read_json(out)
    assert reg["params"]["A"]["unresolved"] == [names[1]]
    assert reg["params"]["A"]["slope"] is not None  # through the two resolved sources
    assert all(reg["params"][k]["unresolved"] == [] for k in ("E", "B", "alpha", "beta"))
    assert reg["points"]["A"][names.index(names[1])] is None
    png, pdf = tmp_path / "fig4.png", tmp_path / "fig4.pdf"
    plots.fig4_params(
        grammars=names,
        laws=laws,
        gzip=done["gz"],
        h_regression=out,
        h_law=done["out"] / "h_law.json",
        png=png,
        pdf=pdf,
    )
    assert png.stat().st_size > 0 and pdf.stat().st_size > 0


def test_frontier_crossing_is_where_the_generating_laws_cross(done):
    cross = read_json(done["out"] / "crossing.json")
    mid = [r for r in cross["h_law"] if 1e12 < r["compute"] < 1e14]
    assert mid, cross["h_law"]
    for r in mid:  # synthetic laws were built to cross Chinchilla's near H = 0.27-0.33 here
        assert 0.2 < r["H_cross"] < 0.4
        assert r["inside_fitted_range"]
    frontiers = pd.read_csv(done["out"] / "frontiers.csv")
    assert set(frontiers["grammar"]) == {*GRAMMARS, "chinchilla"}
    ours = frontiers[frontiers["grammar"] != "chinchilla"]
    assert (ours["n_opt_lo"] <= ours["n_opt"]).all() and (ours["n_opt"] <= ours["n_opt_hi"]).all()


def test_claim_measures_how_the_generating_laws_move_tokens_per_parameter(done):
    """The synthetic laws (law_at) shift the optimum toward data as H rises, as the paper says;
    the claim step must find that sign, bracket the true slope, and see the H-law agree with each
    grammar."""
    claim = read_json(done["out"] / "claim.json")
    c, hs = claim["compute"], np.array(list(GRAMMARS.values()))
    runs = pd.read_csv(done["out"] / "runs.csv")
    assert 6 * (runs["N"] * runs["D"]).min() < c < 6 * (runs["N"] * runs["D"]).max()
    true = [np.log10(allocation(law_at(h).theta, [c])["tokens_per_param"][0, 0]) for h in hs]
    true_slope = np.polyfit(hs, true, 1)[0]
    assert true_slope > 1
    lo, hi = claim["slope_interval"]
    assert 0 < lo <= true_slope <= hi
    assert claim["verdict"].startswith("toward data")
    for row, value in zip(claim["grammars"], true, strict=True):
        assert row["interval"][0] <= value <= row["interval"][1], row
    assert claim["h_law_agrees_with_every_grammar"]
    assert tables.claim(claim)["verdict"].nunique() == 1


def test_tables_and_figures_are_written(done, tmp_path):
    out, names, gz, laws = done["out"], done["names"], done["gz"], done["laws"]
    paths = {t: tmp_path / f"{t}.csv" for t in workflow.TABLES}
    tables.write_tables(
        names,
        laws,
        gz,
        out / "h_regression.json",
        out / "h_law.json",
        out / "approaches.json",
        out / "holdout.json",
        out / "crossing.json",
        out / "claim.json",
        paths,
    )
    assert len(pd.read_csv(paths["parameters"])) == 3
    table = pd.read_csv(paths["h_regression"])
    assert sorted(table["parameter"][:5]) == sorted(["E", "A", "B", "alpha", "beta"])
    assert list(table["parameter"][5:]) == ["log10 A", "log10 B"]
    assert pd.read_csv(paths["h_law"])["coefficient"].iloc[-1] == "blend eps"
    drawn = {
        "fig1_gzip": {"grammars": names, "gzip": gz},
        "fig2_loss": {"runs": out / "runs.csv", "grammars": names, "laws": laws, "loss": "val"},
        "fig3_frontiers": {"frontiers": out / "frontiers.csv", "runs": out / "runs.csv"},
        "fig4_params": {
            "grammars": names,
            "laws": laws,
            "gzip": gz,
            "h_regression": out / "h_regression.json",
            "h_law": out / "h_law.json",
        },
        "fig5_approaches": {
            "grammars": names,
            "laws": laws,
            "gzip": gz,
            "approaches": out / "approaches.json",
        },
        "fig6_holdout": {"runs": out / "runs.csv", "holdout": out / "holdout.json", "loss": "val"},
        "fig7_claim": {"claim": out / "claim.json"},
    }
    assert set(drawn) == set(workflow.FIGURES)
    for name, kwargs in drawn.items():
        png, pdf = tmp_path / f"{name}.png", tmp_path / f"{name}.pdf"
        getattr(plots, name)(**kwargs, png=png, pdf=pdf)
        assert png.read_bytes()[:4] == b"\x89PNG" and pdf.read_bytes()[:4] == b"%PDF"


def test_predict_evaluates_the_h_law_and_warns_outside_its_range(done, tmp_path, capsys):
    law = str(done["out"] / "h_law.json")
    assert (
        main(
            [
                "predict",
                "--h",
                "0.3",
                "--compute",
                "1e13",
                "--law",
                law,
                "--json",
                str(tmp_path / "p.json"),
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "inside the range" in text and "N_opt" in text
    res = read_json(tmp_path / "p.json")
    assert res["inside_range"] is True
    assert res["params"]["beta"]["value"] == pytest.approx(law_at(0.3).natural()["beta"], abs=0.06)
    assert main(["predict", "--h", "0.9", "--compute", "1e13", "--law", law]) == 0
    assert "OUTSIDE the range" in capsys.readouterr().out


def test_predict_measures_data_with_datalaws_compress(done, tmp_path, capsys):
    rng = np.random.default_rng(0)
    words = np.array(["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta"])
    (tmp_path / "text.txt").write_text(" ".join(rng.choice(words, 80000)))
    law = str(done["out"] / "h_law.json")
    assert (
        main(
            [
                "predict",
                str(tmp_path / "text.txt"),
                "--compute",
                "1e13",
                "--law",
                law,
                "--json",
                str(tmp_path / "p.json"),
            ]
        )
        == 0
    )
    res = read_json(tmp_path / "p.json")
    raw = measure(tmp_path / "text.txt", n_sequences=1000, seed=0)["median"]
    assert res["measurement"]["text_bytes_H"] == raw  # shown, on its own scale
    assert res["measurement"]["unit"] == "token" and res["data_kind"] == "dataset/byte"
    assert res["H"] < raw / 2  # the law's scale: 4-byte ids of the bytes
