"""Shared test fixtures: small grammars and a copy of the workflow to run Snakemake in."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from datalaws.grammar import GrammarSpec, random_grammar

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
CPU_AT_START = pytest.StashKey[list[int]]()
WORKFLOW_FILES = ["Snakefile", "workflow", "config", "profiles", "envs"]


def shipped(section: str) -> dict[str, dict]:
    """One section of the shipped study configs: "full" (config/config.yaml, the paper-scale
    study) and "tiny" (config/tiny.yaml, the CPU study of `make study`)."""
    import yaml

    configs = {"full": "config.yaml", "tiny": "tiny.yaml"}
    return {
        name: yaml.safe_load((REPO / "config" / file).read_text())[section]
        for name, file in configs.items()
    }


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the SLURM module first, then the other slow modules, then the fast ones.

    `make test` spreads modules over workers (pytest-xdist, one module per worker at a time). The
    SLURM tests spend much of their time waiting on the cluster, so starting them first lets the
    rest of the suite run in those waits; longest first also keeps the last worker from starting
    a long module at the end. Whole modules move, so a module's fixtures are still built once.
    """
    weight: dict[str, int] = {}
    for item in items:
        module = item.nodeid.split("::")[0]
        slurm, slow = item.get_closest_marker("slurm"), item.get_closest_marker("slow")
        rank = 0 if slurm else 1 if slow else 2
        weight[module] = min(weight.get(module, 2), rank)
    items.sort(key=lambda item: weight[item.nodeid.split("::")[0]])


def cpu_counters() -> list[int]:
    """The machine's CPU time so far (/proc/stat: user, nice, system, idle, iowait, irq, softirq,
    steal), or an empty list where there is no /proc."""
    try:
        first = Path("/proc/stat").read_text().split("\n", 1)[0]
    except OSError:
        return []
    return [int(field) for field in first.split()[1:9]]


def cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return "unknown CPU"
    return next((line.split(":", 1)[1].strip() for line in lines if "model name" in line), "?")


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[CPU_AT_START] = cpu_counters()


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """How busy the host was while the suite ran, and how much CPU other guests took from it: the
    suite's wall time follows the host's speed and its neighbours (docs/reliability.md), and this
    line is what tells a slow run on a slow or shared host from a slower suite."""
    start, end = config.stash.get(CPU_AT_START, []), cpu_counters()
    if len(start) < 8 or len(end) < 8:
        return
    spent = [after - before for before, after in zip(start, end, strict=True)]
    total = sum(spent) or 1
    idle, steal = spent[3] + spent[4], spent[7]
    busy = 100 * (total - idle - steal) / total
    terminalreporter.write_line(
        f"host: {os.cpu_count()} x {cpu_model()}; during the session {busy:.0f}% busy, "
        f"{100 * steal / total:.1f}% stolen by other guests"
    )


@pytest.fixture(scope="session")
def small_grammar():
    return random_grammar(GrammarSpec(6, 30, 4, 3), seed=11)


def copy_workflow(dest: Path) -> Path:
    """A private copy of the workflow, so tests never touch the checkout's results/."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / name)
    return dest


def copy_slurm_study(dest: Path) -> Path:
    """The workflow with the reduced study of tests/slurm (one grammar), for the SLURM tests."""
    root = copy_workflow(dest)
    (root / "tests" / "slurm").mkdir(parents=True)
    for name in ("config.yaml", "local.yaml"):
        shutil.copy2(REPO / "tests" / "slurm" / name, root / "tests" / "slurm" / name)
    return root


def snakemake(workdir: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run the installed snakemake in ``workdir`` with the venv's tools on PATH."""
    env = dict(os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run(
        [str(VENV_BIN / "snakemake"), *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def launcher(cmd: list[str], run_dir: Path, prelude: str = "") -> subprocess.CompletedProcess:
    """``datalaws.train.launch.run(cmd, run_dir)`` in a fresh interpreter, as a scheduler starts
    it: the launcher makes its process a child subreaper, which the test session must not become.
    ``prelude`` runs first in that interpreter (e.g. to start a child the launcher did not)."""
    code = (
        f"import sys\n{prelude}\nfrom datalaws.train.launch import run\n"
        f"sys.exit(run({cmd!r}, {str(run_dir)!r}))\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
