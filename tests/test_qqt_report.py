"""Figures and summary of the data-filtering report, from a fit on synthetic runs."""

from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import shipped

from datalaws.atomic import write_json
from datalaws.qqt.decision import compare_measured
from datalaws.qqt.fit import FitConfig, fit_runs
from datalaws.qqt.law import PoolParams
from datalaws.qqt.mixture import mixtures
from datalaws.qqt.report import make_figures, write_summary
from datalaws.qqt.synthetic import synthetic_runs
from datalaws.qqt.workflow import fit_args, targets

S = 1000
POOLS = [
    PoolParams(30.0, -0.40, 1.5, 1.0, name="top00-10"),
    PoolParams(30.0, -0.34, 1.5, 2.5, name="top10-20"),
    PoolParams(30.0, -0.30, 1.5, 6.0, name="top20-30"),
    PoolParams(30.0, -0.33, 1.5, 3.0, name="random"),
]
BUDGETS = [1e3, 8e3, 6.4e4]


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("qqt")
    runs = synthetic_runs(POOLS, S * np.array([0.25, 0.5, 1, 2, 4, 8, 16, 32]), S, noise=0.002)
    runs.to_csv(root / "runs.csv", index=False)
    result = fit_runs(runs, FitConfig(n_boot=5), controls=["random"], fraction=0.1)
    write_json(root / "params.json", result.to_obj())
    trained = pd.concat(
        synthetic_runs([PoolParams(30.0, -0.33, 1.5, 5.0, name=f"top{k}")], [2e3, 2e4], k * S)
        for k in (2, 3)
    )
    compare_measured(mixtures(None, result.pools), trained).to_csv(
        root / "compare.csv", index=False
    )
    return root


@pytest.mark.slow
def test_figures_are_written_as_png_and_pdf(study):
    out = {key: study / f"{key}.png" for key in ("buckets", "mixtures", "frontier")}
    make_figures(study / "params.json", study / "runs.csv", study / "compare.csv", BUDGETS, out)
    for png in out.values():
        assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size > 10_000
        assert png.with_suffix(".pdf").read_bytes()[:4] == b"%PDF"
    first = out["mixtures"].with_suffix(".pdf").read_bytes()
    make_figures(study / "params.json", study / "runs.csv", study / "compare.csv", BUDGETS, out)
    assert out["mixtures"].with_suffix(".pdf").read_bytes() == first  # reruns give equal bytes


def test_summary_states_the_decision_and_the_errors(study):
    text = write_summary(
        study / "params.json", study / "compare.csv", BUDGETS, study / "s.md", study / "b.csv"
    )
    best = pd.read_csv(study / "b.csv")
    assert best.budget.tolist() == BUDGETS
    assert best.best.iloc[0] == "top1" and best.best.iloc[-1] == "top3"
    assert "reproduced: best level loosens with compute" in text
    assert "Mean |predicted - measured|" in text and "| top2 |" in text


def test_workflow_helpers_follow_the_config():
    config = {"qqt": {"runs": "r.csv", "budgets": [1, 2], "fit": {"share": ["a", "d"]}}}
    assert "--share a,d" in fit_args(config) and "--n-boot 200" in fit_args(config)
    assert "results/qqt/compare.csv" not in targets(config)
    config["qqt"]["mixture_runs"] = "m.csv"
    assert "results/qqt/compare.csv" in targets(config)


def test_shipped_qqt_sections_match_the_schema():
    root = Path(__file__).resolve().parents[1]
    schema = yaml.safe_load((root / "workflow/schemas/qqt.schema.yaml").read_text())
    sections = shipped("qqt")
    for section in sections.values():
        jsonschema.validate(section, schema)
    bad = sections["tiny"] | {"fit": {"share": ["tau"]}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
