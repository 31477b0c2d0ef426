"""Across sources, on laws whose truth is known: which measure predicts the law (rank correlation
with a bootstrap interval), and the grammar H-law's prediction for a dataset's law."""

import numpy as np
import pandas as pd
import pytest

from datalaws.atomic import read_json, write_json
from datalaws.compare import predictors, transfer
from datalaws.compare.predictors import TARGETS, law_targets, rank_correlations
from datalaws.laws.lawfile import fit_law
from datalaws.laws.steps import write_csv
from datalaws.laws.synthetic import law_at, make_runs


def synthetic_targets(hs, compute=1e13, spread=0.02, k=60, seed=0):
    """Point targets of law_at(h) per source, and k jittered copies standing in for bootstrap."""
    rng = np.random.default_rng(seed)
    point = np.vstack([law_targets(law_at(h).theta, compute)[0] for h in hs])
    samples = [law_targets(law_at(h).theta + rng.normal(0, spread, (k, 5)), compute) for h in hs]
    return point, samples


def test_the_measure_that_tracks_h_predicts_every_parameter_and_noise_does_not():
    hs = np.linspace(0.15, 0.6, 8)
    point, samples = synthetic_targets(hs)
    rng = np.random.default_rng(1)
    measures = {"tracks_h": hs + rng.normal(0, 0.005, hs.size), "noise": rng.permutation(hs)}
    result = rank_correlations(measures, point, samples, n_resamples=300, seed=2)
    rows = {(r["measure"], r["target"]): r for r in result["table"]}
    # law_at: E rises with H, A, B, alpha and beta fall.
    for target, sign in (("E", 1), ("A", -1), ("B", -1), ("alpha", -1), ("beta", -1)):
        row = rows[("tracks_h", target)]
        assert row["rho"] == pytest.approx(sign), target
        ends = sorted([sign * row["rho_lo"], sign * row["rho_hi"]])
        assert ends[0] > 0 and ends[1] > 0.9, row  # the interval excludes 0, on the right side
        assert result["best"][target]["measures"] == ["tracks_h"]
        assert result["best"][target]["p_best"][0] > 0.8
    assert rows[("noise", "alpha")]["rho_lo"] < 0 < rows[("noise", "alpha")]["rho_hi"]
    assert rows[("tracks_h", "tokens_per_param")]["rho"] == pytest.approx(
        np.corrcoef(np.argsort(np.argsort(hs)), np.argsort(np.argsort(point[:, -1])))[0, 1]
    )
    assert {r["target"] for r in result["table"]} == set(TARGETS)


def test_too_few_sources_for_a_rank_correlation_are_refused():
    point, samples = synthetic_targets([0.2, 0.4])
    with pytest.raises(ValueError, match="2 sources; a rank correlation needs 3"):
        rank_correlations({"m": np.array([0.2, 0.4])}, point, samples)


def test_a_measure_missing_for_a_source_is_left_out():
    point, samples = synthetic_targets([0.2, 0.3, 0.4, 0.5])
    measures = {"m": np.array([0.2, 0.3, 0.4, 0.5]), "text": np.array([0.5, np.nan, 0.6, 0.7])}
    result = rank_correlations(measures, point, samples, n_resamples=50)
    assert {r["measure"] for r in result["table"]} == {"m"}


SOURCES = {"g1": 0.2, "g2": 0.35, "g3": 0.5, "same": 0.3, "alien": 0.3}


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """Five sources' runs and laws: three grammars and a dataset drawn from law_at(H), and an
    'alien' dataset whose irreducible loss is 0.6 nats above what the family predicts at its H."""
    root = tmp_path_factory.mktemp("compare")
    tables, laws = [], {}
    for i, (name, h) in enumerate(SOURCES.items()):
        law = law_at(h)
        if name == "alien":
            law = type(law).from_natural(**(law.natural() | {"E": law.natural()["E"] + 0.6}))
        runs = make_runs(law, noise=0.005, seed=i).assign(grammar=name, H=h)
        tables.append(runs)
        write_json(root / f"law_{name}.json", fit_law(runs, n_resamples=10, seed=0))
        laws[name] = root / f"law_{name}.json"
        write_json(root / f"gzip_{name}.json", {"median": h})
        measures = {"gzip_tokens": {"median": h}, "zstd_tokens": {"median": 1 - h}}
        write_json(
            root / f"compress_{name}.json",
            {"measures": measures, "kind": "dataset", "tokenizer": "byte"},
        )
    write_csv(root / "runs.csv", pd.concat(tables, ignore_index=True))
    return root, laws


@pytest.mark.slow  # five law fits and an H-law fit, about 25 s on a busy machine
def test_grammar_h_law_predicts_a_dataset_of_its_family_and_not_an_alien(fitted):
    root, laws = fitted
    grammars = ["g1", "g2", "g3"]
    transfer.family_h_law(
        root / "runs.csv", grammars, [laws[g] for g in grammars], root / "h.json", n_resamples=10
    )
    assert read_json(root / "h.json")["fitted_on"] == grammars
    datasets = ["same", "alien"]
    transfer.transfer(
        root / "h.json",
        datasets,
        [laws[d] for d in datasets],
        [root / f"gzip_{d}.json" for d in datasets],
        [root / f"compress_{d}.json" for d in datasets],
        root / "runs.csv",
        root / "t.json",
        root / "t.csv",
        compute=1e13,
    )
    out = read_json(root / "t.json")["datasets"]
    same, alien = out["same"], out["alien"]
    assert same["inside_h_range"] and same["measures"]["gzip_tokens"] == 0.3
    assert abs(same["params"]["beta"]["error"]) < 0.05
    assert same["loss_error"]["predicted_law"] < 0.02
    truth = law_at(0.3).natural()["E"] + 0.6
    assert alien["params"]["E"]["fitted"] == pytest.approx(truth, abs=0.05)
    assert alien["params"]["E"]["error"] == pytest.approx(-0.6, abs=0.1)  # predicted too low
    assert alien["loss_error"]["predicted_law"] > 5 * alien["loss_error"]["own_fit"]
    table = pd.read_csv(root / "t.csv")
    assert list(table["dataset"]) == datasets and "tokens_per_param_error" in table


@pytest.mark.slow  # shares the fixture's five law fits
def test_predictors_file_step_ranks_measures_of_every_source(fitted):
    root, laws = fitted
    names = ["g1", "g2", "g3", "same"]
    predictors.compare(
        names,
        [root / f"compress_{n}.json" for n in names],
        [laws[n] for n in names],
        root / "runs.csv",
        root / "p.json",
        root / "p.csv",
        n_resamples=100,
    )
    result = read_json(root / "p.json")
    assert result["n_sources"] == 4 and result["compute"] > 0
    assert set(result["best"]["beta"]["measures"]) == {"gzip_tokens", "zstd_tokens"}  # mirrors
    rho = {r["measure"]: r["rho"] for r in result["table"] if r["target"] == "beta"}
    assert rho["gzip_tokens"] == pytest.approx(-1) and rho["zstd_tokens"] == pytest.approx(1)


def test_the_stage_plans_only_what_its_sources_allow_with_the_schemas_defaults():
    from datalaws.compare import workflow

    assert workflow.settings({}) == {"bootstrap": 1000, "seed": 0, "compute": None}
    assert workflow.settings({"compare": {"seed": 3}})["seed"] == 3
    grammars = [{"name": f"g{i}"} for i in range(3)]
    dataset = [{"name": "d", "source": "x"}]
    assert workflow.targets({"grammars": grammars[:2]}) == []
    assert workflow.targets({"grammars": grammars}) == [
        workflow.PREDICTORS,
        workflow.table_path("predictors"),
    ]
    assert workflow.TRANSFER in workflow.targets({"grammars": grammars[:2], "datasets": dataset})
    assert workflow.TRANSFER not in workflow.targets(
        {"grammars": grammars[:1], "datasets": dataset}
    )
