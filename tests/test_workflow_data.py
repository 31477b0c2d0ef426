"""The data half of the DAG through real Snakemake on the local profile."""

import itertools
import json
import re

import pytest
import yaml
from conftest import copy_workflow, snakemake

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """The tiny study's data stages, run once on the local profile."""
    root = copy_workflow(tmp_path_factory.mktemp("study"))
    result = snakemake(root, "--profile", "profiles/local", "data_all")
    assert result.returncode == 0, result.stderr[-3000:]
    return root


def tiny_grammars(root):
    return [g["name"] for g in yaml.safe_load((root / "config/tiny.yaml").read_text())["grammars"]]


def test_lint_is_clean(tmp_path):
    result = snakemake(copy_workflow(tmp_path), "--lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "good condition" in result.stdout + result.stderr


def test_dry_run_shows_the_whole_paper_dag(tmp_path):
    result = snakemake(copy_workflow(tmp_path), "-n", "--quiet", "rules")
    assert result.returncode == 0, result.stderr
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", result.stdout, flags=re.M))
    assert counts["data_grammar"] == "9"
    assert counts["data_train_shard"] == str(9 * 10)
    assert counts["data_gzip"] == "9"


def test_bad_config_fails_before_any_job(tmp_path):
    root = copy_workflow(tmp_path)
    config = yaml.safe_load((root / "config/tiny.yaml").read_text())
    config["grammars"][0]["nonterminals"] = 0
    (root / "config/tiny.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(root, "--profile", "profiles/local")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "nonterminals" in output and "minimum" in output
    assert not (root / "results").exists()


def test_tiny_data_stages_produce_spread_compressibility(study):
    medians = {
        g: json.loads((study / f"results/gzip/{g}.json").read_text())["median"]
        for g in tiny_grammars(study)
    }
    ordered = sorted(medians.values())
    assert len(ordered) >= 4
    assert all(b - a > 0.03 for a, b in itertools.pairwise(ordered)), medians


def test_same_config_gives_identical_bytes(study, tmp_path):
    """A second checkout rebuilds the easiest and the hardest grammar's data (grammar, every
    shard and sidecar, gzip statistics) byte for byte; the grammars between take the same path."""
    grammars = tiny_grammars(study)
    grammars = {grammars[0], grammars[-1]}
    files = sorted(p.relative_to(study) for p in (study / "results").rglob("*") if p.is_file())
    data_files = [
        f
        for f in files
        if f.parts[1] in {"grammars", "corpus", "gzip"}
        and (f.parts[2] in grammars or f.stem in grammars)
    ]
    assert len(data_files) >= 10
    again = copy_workflow(tmp_path)
    result = snakemake(again, "--profile", "profiles/local", *map(str, data_files))
    assert result.returncode == 0, result.stderr[-3000:]
    for rel in data_files:
        assert (study / rel).read_bytes() == (again / rel).read_bytes(), rel


def test_one_grammar_reruns_alone(study):
    grammar = tiny_grammars(study)[0]
    target = f"results/gzip/{grammar}.json"
    others = [study / f"results/gzip/{g}.json" for g in tiny_grammars(study)[1:]]
    before = [p.stat().st_mtime_ns for p in others]
    result = snakemake(study, "--profile", "profiles/local", "-f", target)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "rule data_gzip:" in result.stderr and "rule data_train_shard:" not in result.stderr
    assert [p.stat().st_mtime_ns for p in others] == before
