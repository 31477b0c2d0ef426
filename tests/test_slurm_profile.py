"""The SLURM profile without a cluster: what it would submit, through a dry run.

scripts/slurm/preview.py renders each job's sbatch flags with the executor plugin's own code, so
these tests see the partition routing, GPU flags and placements a user's cluster would get.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import copy_workflow

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
PREVIEW = REPO / "scripts" / "slurm" / "preview.py"


def preview(root: Path, *args: str) -> str:
    env = dict(os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}")
    env.pop("SLURM_CONF", None)
    result = subprocess.run(
        [sys.executable, str(PREVIEW), *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture
def machinery(tmp_path):
    shutil.copytree(REPO / "profiles", tmp_path / "profiles")
    for item in (REPO / "tests" / "slurm" / "workflow").iterdir():
        (shutil.copytree if item.is_dir() else shutil.copy2)(item, tmp_path / item.name)
    return tmp_path


def flags(output: str) -> dict[str, str]:
    return dict(re.findall(r"^(\S+): sbatch (.*)$", output, flags=re.M))


def test_user_profile_routes_cpu_and_gpu_jobs(machinery):
    jobs = flags(preview(machinery, "--profile", "profiles/slurm", "--configfile", "config.yaml"))
    assert jobs["slurmtest_cpu"].startswith("-p cpu ")
    assert "--gpus" not in jobs["slurmtest_cpu"]
    assert jobs["slurmtest_probe[placement=single]"].startswith("-p gpu ")
    assert jobs["slurmtest_probe[placement=single]"].endswith(
        "--nodes=1 --cpus-per-task=1 --gpus=1"
    )
    assert jobs["slurmtest_probe[placement=node]"].endswith("--nodes=1 --cpus-per-task=1 --gpus=2")
    multinode = jobs["slurmtest_probe[placement=multinode]"]
    assert "--nodes=2 --ntasks=2 --cpus-per-task=1 --gpus=2" in multinode
    assert "--ntasks-per-gpu" not in " ".join(jobs.values())  # would multiply the CPUs


def test_ci_overlay_replaces_only_the_partitions(machinery):
    user = flags(preview(machinery, "--profile", "profiles/slurm", "--configfile", "config.yaml"))
    ci = flags(
        preview(
            machinery,
            *("--profile", "profiles/slurm", "--profile", "profiles/slurm-ci"),
            *("--configfile", "config.yaml"),
        )
    )
    assert set(ci) == set(user)
    for job, line in user.items():
        renamed = line.replace("-p cpu ", "-p ci_cpu ").replace("-p gpu ", "-p ci_gpu ")
        assert ci[job] == renamed


def paper_training_targets(root: Path) -> list[str]:
    config = yaml.safe_load((root / "config" / "config.yaml").read_text())
    assert "train" in config, "config/config.yaml has no train section yet"
    train = config["train"]
    return [
        f"results/train/{g['name']}/{size}/{budget}/final.json"
        for g in config["grammars"]
        for size in train["sizes"]
        for budget in train["budgets"]
    ]


def test_paper_dry_run_lists_every_training_job(tmp_path):
    """`snakemake --profile profiles/slurm -n` at paper scale: each training run with its GPUs,
    nodes and time limit, and the sbatch flags they become."""
    root = copy_workflow(tmp_path)
    targets = paper_training_targets(root)
    env = dict(os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}")
    env.pop("SLURM_CONF", None)
    dry = subprocess.run(
        [str(VENV_BIN / "snakemake"), "--profile", "profiles/slurm", "-n", *targets],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert dry.returncode == 0, dry.stderr[-3000:]
    blocks = re.findall(r"^rule train:\n((?:    .*\n)+)", dry.stdout + dry.stderr, flags=re.M)
    assert len(blocks) == len(targets)
    for block in blocks:
        resources = re.search(r"resources: (.*)", block).group(1)
        assert re.search(r"\bgpu=[1-9]\d*", resources), resources
        assert re.search(r"\bnodes=[1-9]\d*", resources), resources
        assert re.search(r"\bruntime=[1-9]\d*", resources), resources

    jobs = flags(preview(root, "--profile", "profiles/slurm", *targets, "--rules", "train"))
    assert len(jobs) == len(targets)
    config = yaml.safe_load((root / "config" / "config.yaml").read_text())
    lead = round(config["train"]["resources"]["warning_lead_s"])
    for job, line in jobs.items():
        assert line.startswith("-p gpu "), (job, line)
        assert re.search(r"--gpus=[1-9]\d*$", line) and "--nodes=" in line, (job, line)
        assert f"--signal=URG@{lead}" in line, (job, line)
        limit_s = 60 * int(re.search(r"-t (\d+)", line)[1])
        # SLURM may warn up to a minute early; a lead near the limit would stop a run at once
        assert limit_s >= 2 * (lead + 60), (job, line)


TRAINING_RULES = {"train", "qqt_reference", "qqt_train"}


def test_every_rule_that_trains_gets_the_warning_signal(tmp_path):
    """All training jobs of the tiny study (the grid and the data-filtering runs) ask SLURM for
    the same warning before their limit, from one resource helper; no other job does."""
    root = copy_workflow(tmp_path)
    config = yaml.safe_load((root / "config" / "tiny.yaml").read_text())
    lead = round(config["train"]["resources"]["warning_lead_s"])
    jobs = flags(preview(root, "--profile", "profiles/slurm", "--configfile", "config/tiny.yaml"))
    rules = {job.split("[")[0] for job in jobs}
    assert rules >= TRAINING_RULES, rules
    for job, line in jobs.items():
        trains = job.split("[")[0] in TRAINING_RULES
        assert (f"--signal=URG@{lead}" in line) == trains, (job, line)
        assert ("--signal" in line) == trains, (job, line)
        if trains:
            limit_s = 60 * int(re.search(r"-t (\d+)", line)[1])
            assert limit_s >= 2 * (lead + 60), (job, line)
