"""The study that makes the runs: its plan, specs and resources from the config, the per-pool
tables, and the whole chain under Snakemake on a micro config (pool -> reference -> scores ->
buckets -> runs -> fit -> predict -> compare -> summary)."""

import copy
import json

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO, copy_workflow, snakemake

from datalaws.cli import main
from datalaws.qqt import workflow as wf
from datalaws.qqt.study import StudyError, StudyPlan, collect, run_spec, runs_table

TINY = yaml.safe_load((REPO / "config" / "tiny.yaml").read_text())


def test_tiny_plan_pools_and_budgets():
    plan = wf.plan(TINY)
    assert plan.bucket_size == 200
    assert plan.bucket_names == ["top00-10", "top10-20", "top20-30", "top30-40", "random", "clean"]
    assert plan.pool_names[-3:] == ["top2", "top3", "top4"]
    assert plan.samples("top00-10") == [100, 400, 1600, 6400]
    assert plan.samples("top3") == [1600, 6400] and plan.pool_documents("top3") == 600
    assert plan.unique_documents("clean", 1600) == 1600  # the anchor never repeats
    assert plan.controls == ["random", "clean"]


def test_specs_repeat_the_pool_above_one_pass_only():
    specs = wf.pool_specs(TINY, "top00-10")
    assert [s["budget"] for s in specs] == [100 * 256, 400 * 256, 1600 * 256, 6400 * 256]
    assert [s["unique_tokens"] for s in specs] == [None, 200 * 256, 200 * 256, 200 * 256]
    assert specs[0]["arch"] == TINY["train"]["ladder"]["d32-l2"]
    assert specs[0]["hyper"]["lr"] == TINY["train"]["hyper_by_size"]["d32-l2"]["lr"]
    assert all(s["unique_tokens"] is None for s in wf.pool_specs(TINY, "clean"))
    reference = wf.reference_spec(TINY)
    assert reference["budget"] == 400 * 256 and reference["unique_tokens"] == 200 * 256
    assert reference["labels"]["size"] == "d16-l1"


def test_fit_options_and_job_plan_follow_the_config():
    args = wf.fit_args(TINY)
    assert "--control random,clean" in args and "--share d" in args
    assert "--resample residuals" in args
    val = lambda grammar: f"results/corpus/{grammar}/val.bin"  # noqa: E731
    specs = wf.pool_specs(TINY, "top00-10")
    one = [wf.run_resources(TINY, spec, val("k20-T150-o10-l5")) for spec in specs]
    job = wf.job_plan(TINY, specs, val("k20-T150-o10-l5"))
    assert job["runtime"] == sum(r["runtime"] for r in one)
    assert job["cpus_per_task"] == max(r["cpus_per_task"] for r in one) == 1
    assert wf.targets(TINY)[-2:] == ["results/qqt/scorers.json", "results/qqt/buckets.json"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["qqt"].update(runs="other.csv"), "qqt.runs"),
        (lambda c: c["qqt"]["study"].update(grammar="nope"), "qqt.study.grammar"),
        (lambda c: c["qqt"]["study"].update(size="d999"), "qqt.study.size"),
        (lambda c: c["qqt"]["study"].update(passes=[1, 2]), "study.passes"),
        (lambda c: c["qqt"]["study"].update(mixtures=[5]), "study.mixtures"),
        (lambda c: c["qqt"]["study"].update(clean_budgets=[10, 20]), "clean.budgets"),
    ],
)
def test_inconsistent_study_configs_are_refused(change, message):
    config = copy.deepcopy(TINY)
    change(config)
    with pytest.raises(ValueError, match=message):
        wf.pool_specs(config, "top00-10")


def test_runs_table_and_collect():
    def record(pool, seen, unique, loss):
        return {
            "qqt_unique_documents": unique,
            "model": {"context": 256},
            "tokens": seen * 256,
            "val_loss": loss,
            "train_loss": loss,
            "flops_6nd": 1.0,
            "wall_time_s": 1.0,
        }

    table = runs_table("top00-10", [record("a", 100, 200, 2.0), record("a", 400, 200, 1.5)])
    assert table[["samples_seen", "epochs", "unique_samples"]].values.tolist() == [
        [100, 0.5, 200],
        [400, 2.0, 200],
    ]
    assert run_spec({"labels": {}}, "x", 100, 200, 256)["unique_tokens"] is None
    with pytest.raises(StudyError, match="3 distinct"):
        StudyPlan(1000, 0.1, 2, (1.0, 1.0, 2.0), (), ())


def test_collect_keeps_order_and_refuses_a_pool_twice(tmp_path):
    for name in ("b", "a"):
        pd.DataFrame(
            {
                "bucket": [name],
                "samples_seen": [1],
                "epochs": [1],
                "unique_samples": [1],
                "loss": [1],
            }
        ).to_csv(tmp_path / f"{name}.csv", index=False)
    assert collect([tmp_path / "b.csv", tmp_path / "a.csv"])["bucket"].tolist() == ["b", "a"]
    with pytest.raises(StudyError, match="appears in both"):
        collect([tmp_path / "a.csv", tmp_path / "a.csv"])


def test_study_commands_refuse_bad_input_with_exit_2(tmp_path, capsys):
    argv = ["qqt", "train-pool", "x", "--pool", "p.bin", "--val", "v.bin", "--specs", "[]"]
    assert main([*argv, "--runs-dir", str(tmp_path), "-o", str(tmp_path / "r.csv")]) == 2
    assert "non-empty JSON list" in capsys.readouterr().err
    (tmp_path / "s.csv").write_text("document,gzip\n0,0.5\n")
    argv = ["qqt", "buckets", "p.bin", str(tmp_path / "s.csv"), "--scorer", "reference_loss"]
    assert main([*argv, "--seed", "0", "--out-dir", str(tmp_path), "--report", "r.json"]) == 2
    assert "--scorer" in capsys.readouterr().err
    assert not (tmp_path / "r.csv").exists()


MICRO_QQT = {
    "runs": "results/qqt/runs/buckets.csv",
    "mixture_runs": "results/qqt/runs/mixtures.csv",
    "budgets": [20, 80, 320],
    "fraction": 0.1,
    "control": "random",
    "fit": {"n_boot": 4, "resample": "residuals", "share": ["d"]},
    "study": {
        "grammar": "g",
        "documents": 200,
        "passes": [0.5, 2, 8],
        "buckets": 2,
        "mixtures": [2],
        "mixture_budgets": [40, 160],
        "clean_budgets": [20, 40, 80],
        "size": "d16-l1",
        "reference": {"documents": 50, "size": "d16-l1", "passes": 2},
    },
}


@pytest.mark.slow
def test_micro_study_runs_end_to_end_under_snakemake(tmp_path):
    root = copy_workflow(tmp_path)
    config = copy.deepcopy(TINY)
    config["context"] = 64
    config["grammars"] = [
        {"name": "g", "nonterminals": 6, "terminals": 30, "max_options": 4, "max_length": 3}
    ]
    config["data"].update(train_tokens=64 * 64, val_tokens=32 * 64, shard_tokens=64 * 64)
    config["train"].update(sizes=["d16-l1"], budgets=[64 * 64])
    config["train"]["hyper"].update(val_sequences=32, eval_points=1)
    config["qqt"] = MICRO_QQT
    (root / "config" / "tiny.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(root, "--profile", "profiles/local", "qqt_all")
    assert result.returncode == 0, result.stderr[-4000:]

    scorers = json.loads((root / "results/qqt/scorers.json").read_text())
    assert scorers["scorers"]["reference_loss"]["spearman_with_rate"] > 0.8
    runs = pd.read_csv(root / "results/qqt/runs/buckets.csv")
    assert list(dict.fromkeys(runs["bucket"])) == ["top00-10", "top10-20", "random", "clean"]
    bucket = runs[runs["bucket"] == "top00-10"]
    assert bucket["samples_seen"].tolist() == [10, 40, 160]
    assert bucket["epochs"].tolist() == [0.5, 2.0, 8.0]
    assert np.isfinite(runs["loss"]).all()
    clean = runs[runs["bucket"] == "clean"]
    assert (clean["unique_samples"] == clean["samples_seen"]).all()
    compare = pd.read_csv(root / "results/qqt/compare.csv")
    assert compare["mixture"].tolist() == ["top2", "top2"]
    assert compare["measured"].tolist() == pytest.approx(
        pd.read_csv(root / "results/qqt/runs/mixtures.csv")["loss"].tolist()
    )
    params = json.loads((root / "results/qqt/params.json").read_text())
    floors = {b["d"] for b in params["buckets"]}
    assert len(floors) == 1  # shared d
    summary = (root / "results/qqt/summary.md").read_text()
    assert "Paper's qualitative result" in summary and "predicted - measured" in summary
    assert "reference_loss: Spearman" in summary
    for name in ("buckets", "mixtures", "frontier"):
        assert (root / f"results/qqt/figures/{name}.png").stat().st_size > 10_000
