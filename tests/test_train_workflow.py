"""The `train` rule under real Snakemake and the real Snakefile: lint, a 2-run grid on a small
grammar (its data rules run too), and content-based rerun rules (run options never retrain,
hyperparameters do)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import copy_workflow

ROOT = Path(__file__).resolve().parents[1]


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """The real Snakefile on the tiny config and this test's overlay (``overlay.yaml``)."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    cmd = [sys.executable, "-m", "snakemake", "train_all", "--profile", "profiles/local"]
    cmd += ["--configfile", "config/tiny.yaml", "overlay.yaml"]
    return subprocess.run(
        [*cmd, *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=600
    )


def write_config(workdir: Path, **hyper) -> None:
    """One small grammar, two sizes, one budget; ``hyper`` overrides hyperparameters."""
    tiny = yaml.safe_load((ROOT / "config" / "tiny.yaml").read_text())
    train = tiny["train"]
    section = {
        **train,
        "sizes": ["d16-l1", "d32-l2"],
        "budgets": [16384],
        "hyper": {**train["hyper"], "batch_size": 8, "eval_points": 1, "val_sequences": 8, **hyper},
    }
    grammar = {"name": "g", "nonterminals": 10, "terminals": 60, "max_options": 5, "max_length": 3}
    data = {**tiny["data"], "train_tokens": 32768, "val_tokens": 8192, "shard_tokens": 32768}
    overlay = {"grammars": [grammar], "data": data, "train": section}
    (workdir / "overlay.yaml").write_text(yaml.safe_dump(overlay))


@pytest.mark.slow
def test_train_rule_runs_and_reruns_only_for_model_changes(tmp_path):
    copy_workflow(tmp_path)
    write_config(tmp_path)

    lint = snakemake(tmp_path, "--lint")
    assert lint.returncode == 0, lint.stdout + lint.stderr

    done = snakemake(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    for size in ("d16-l1", "d32-l2"):
        final = json.loads((tmp_path / f"results/train/g/{size}/16384/final.json").read_text())
        assert (final["grammar"], final["size"], final["budget"]) == ("g", size, 16384)
        assert (tmp_path / f"logs/train/g/{size}/16384.log").exists()
        assert (tmp_path / f"results/benchmarks/train/g/{size}/16384.tsv").exists()

    assert "Nothing to be done" in snakemake(tmp_path, "-n").stdout
    tiny_run = yaml.safe_load((tmp_path / "overlay.yaml").read_text())
    tiny_run["train"]["run"] = {**tiny_run["train"]["run"], "checkpoint_every": 3, "log_every_s": 1}
    (tmp_path / "overlay.yaml").write_text(yaml.safe_dump(tiny_run))
    assert "Nothing to be done" in snakemake(tmp_path, "-n").stdout  # run options: no retrain
    write_config(tmp_path, weight_decay=0.05)  # a hyperparameter: both runs are stale
    changed = snakemake(tmp_path, "-n", "--quiet", "rules")
    assert changed.returncode == 0, changed.stderr
    assert re.search(r"^train\s+2$", changed.stdout, re.MULTILINE), changed.stdout
