"""The theory arm's rules, run through the real Snakefile from a private copy of the workflow,
with the tiny config's plrf section cut further (``plrf_all`` is the target, so nothing else
runs)."""

from __future__ import annotations

import csv
import json

import pytest
import yaml
from conftest import REPO, copy_workflow, shipped, snakemake


def _micro(tiny: dict) -> dict:
    """The tiny config cut further so the end-to-end test fits the test budget (the tiny config
    itself takes ~40 s on 2 idle cores, measured separately)."""
    plrf = tiny["plrf"]
    plrf["check"]["grid"] |= {"d_max": 3200, "d_per_octave": 2, "f_max": 1.0e8}
    plrf["check"]["paper_d_max"] = 1600
    plrf["exact"] = {"seeds": [0], "grid": plrf["exact"]["grid"] | {"d_max": 400}}
    plrf["validation"] |= {"points": [[0.7, 1.2]], "runs": 400, "max_steps": 300}
    plrf["phase_diagram"] |= {"alpha": [0.9], "beta": [0.3, 1.1]}
    plrf["phase_diagram"]["grid"] |= {"d_max": 3200, "f_max": 1.0e8}
    return tiny


@pytest.fixture
def plrf_workflow(tmp_path):
    copy_workflow(tmp_path)
    tiny = yaml.safe_load((REPO / "config" / "tiny.yaml").read_text())
    (tmp_path / "config/plrf_tiny.yaml").write_text(yaml.safe_dump(_micro(tiny)))
    return tmp_path


CONFIG = ("--replace-workflow-config", "--configfile", "config/plrf_tiny.yaml")


def test_full_config_matches_schema():
    jsonschema = pytest.importorskip("jsonschema")
    schema = yaml.safe_load((REPO / "workflow/schemas/plrf.schema.yaml").open())
    for section in shipped("plrf").values():
        jsonschema.Draft202012Validator(schema).validate(section)
    bad = shipped("plrf")["full"]
    bad["v_ratio"] = 1.0
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(bad)


def test_rules_lint_and_plan(plrf_workflow):
    lint = snakemake(plrf_workflow, *CONFIG, "--lint")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    plan = snakemake(plrf_workflow, "plrf_all", *CONFIG, "-n", "--quiet", "rules")
    assert plan.returncode == 0, plan.stderr
    for rule in (
        "plrf_check",
        "plrf_exact",
        "plrf_phase_point",
        "plrf_validate",
        "plrf_figures",
        "plrf_phase_diagram",
        "plrf_summary",
    ):
        assert rule in plan.stdout


@pytest.mark.slow
def test_tiny_study_runs_end_to_end(plrf_workflow):
    run = snakemake(plrf_workflow, "plrf_all", *CONFIG, "-c2", "--quiet", timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    results = plrf_workflow / "results/plrf"
    for name in (
        "frontier",
        "isoflop",
        "convergence",
        "validation",
        "exact_check",
        "phase_diagram",
    ):
        assert (results / f"figures/{name}.png").stat().st_size > 10_000
        assert (results / f"figures/{name}.pdf").exists()
    check = json.loads((results / "check/summary.json").read_text())
    assert check["top_window"]["envelope"]["eta"] == pytest.approx(0.643, abs=0.05)
    assert check["top_window"]["envelope"]["xi"] == pytest.approx(0.5, abs=0.06)
    rows = list(csv.DictReader((results / "phase_table.csv").open()))
    assert len(rows) == 2 * 2
    assert json.loads((results / "validation/a0.7_b1.2.json").read_text())["max_abs_z"] < 4
    assert "The paper's check" in (results / "summary.md").read_text()
