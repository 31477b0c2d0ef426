"""The `train` rule under real Snakemake: lint, a 2-run grid, and content-based rerun rules
(run options never retrain, hyperparameters do). Uses a throwaway Snakefile with stub data
helpers around the repository's train.smk, since the data rules are tested elsewhere."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import shipped

from datalaws.corpus import write_tokens
from datalaws.grammar import GrammarSpec, random_grammar
from datalaws.sampler import CompiledSampler

ROOT = Path(__file__).resolve().parents[1]

STUB_COMMON = """
def grammar_names():
    return [g["name"] for g in config["grammars"]]


def data_train_shards(grammar):
    return [f"results/corpus/{grammar}/train/000.bin"]


def data_val_path(grammar):
    return f"results/corpus/{grammar}/val.bin"
"""

SNAKEFILE = """
configfile: "config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/train.smk"


rule all:
    input:
        train_targets(),
    default_target: True
"""


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    cmd = [sys.executable, "-m", "snakemake", "-d", str(workdir), "-s", str(workdir / "Snakefile")]
    return subprocess.run([*cmd, *args], env=env, capture_output=True, text=True, timeout=600)


def write_config(workdir: Path, **hyper) -> None:
    tiny = shipped("train")["tiny"]
    section = {
        **tiny,
        "sizes": ["d16-l1", "d32-l2"],
        "budgets": [16384],
        "hyper": {**tiny["hyper"], "batch_size": 8, "eval_points": 1, "val_sequences": 8, **hyper},
    }
    config = {"grammars": [{"name": "g"}], "train": section}
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))


@pytest.mark.slow
def test_train_rule_runs_and_reruns_only_for_model_changes(tmp_path):
    rules = tmp_path / "workflow" / "rules"
    rules.mkdir(parents=True)
    shutil.copy(ROOT / "workflow/rules/train.smk", rules / "train.smk")
    shutil.copytree(ROOT / "envs", tmp_path / "envs")
    (rules / "common.smk").write_text(STUB_COMMON)
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    write_config(tmp_path)
    grammar = random_grammar(GrammarSpec(10, 60, 5, 3), seed=3)
    docs = CompiledSampler(grammar).documents(72, 256, 1)
    write_tokens(docs[:64], tmp_path / "results/corpus/g/train/000.bin", grammar.vocab_size)
    write_tokens(docs[64:], tmp_path / "results/corpus/g/val.bin", grammar.vocab_size)

    lint = snakemake(tmp_path, "--lint")
    assert lint.returncode == 0, lint.stdout + lint.stderr

    done = snakemake(tmp_path, "--cores", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    for size in ("d16-l1", "d32-l2"):
        final = json.loads((tmp_path / f"results/train/g/{size}/16384/final.json").read_text())
        assert (final["grammar"], final["size"], final["budget"]) == ("g", size, 16384)
        assert (tmp_path / f"logs/train/g/{size}/16384.log").exists()
        assert (tmp_path / f"results/benchmarks/train/g/{size}/16384.tsv").exists()

    assert "Nothing to be done" in snakemake(tmp_path, "-n").stdout
    tiny_run = yaml.safe_load((tmp_path / "config.yaml").read_text())
    tiny_run["train"]["run"] = {**tiny_run["train"]["run"], "checkpoint_every": 3, "log_every_s": 1}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(tiny_run))
    assert "Nothing to be done" in snakemake(tmp_path, "-n").stdout  # run options: no retrain
    write_config(tmp_path, weight_decay=0.05)  # a hyperparameter: both runs are stale
    changed = snakemake(tmp_path, "-n", "--quiet", "rules")
    assert changed.returncode == 0, changed.stderr
    assert re.search(r"^train\s+2$", changed.stdout, re.MULTILINE), changed.stdout
