"""Snakemake's between-workflow cache (`--cache`) serves the data rules' outputs only to the same
code: an unchanged rerun elsewhere hits the cache, a change to the package code misses it."""

import os
import shutil
from pathlib import Path

import pytest
from conftest import REPO, VENV_BIN, copy_workflow

from datalaws.codekey import closure

pytestmark = pytest.mark.slow  # three small Snakemake runs (about a minute)

NAME = "k15-T100-o8-l4"
GRAMMAR = f"results/grammars/{NAME}.json"


def run_cached(root: Path, src: Path, cache: Path) -> tuple[bool, bytes]:
    """Make one grammar with --cache in a fresh copy of the workflow, running ``src``'s package.

    Returns whether the rule's command ran (Snakemake then moves its output into the cache; a hit
    only links it from there) and the grammar's bytes.
    """
    import subprocess

    copy_workflow(root)
    env = dict(
        os.environ,
        PATH=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
        PYTHONPATH=str(src),
        SNAKEMAKE_OUTPUT_CACHE=str(cache),
    )
    args = [str(VENV_BIN / "snakemake"), GRAMMAR, "--profile", "profiles/local"]
    args += ["--configfile", "config/tiny.yaml", "--cache"]  # --cache last: it takes rule names
    result = subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    ran = f"Moving output file {GRAMMAR} to cache" in result.stderr
    return ran, (root / GRAMMAR).read_bytes()


def test_the_cache_hits_for_the_same_code_and_misses_for_changed_code(tmp_path):
    code = tmp_path / "code"  # the package and the schemas it reads, as a checkout lays them out
    src = copy_workflow(code) / "src"
    shutil.copytree(
        REPO / "src" / "datalaws", src / "datalaws", ignore=shutil.ignore_patterns("__pycache__")
    )
    cache = tmp_path / "cache"
    cache.mkdir()
    ran_first, first = run_cached(tmp_path / "a", src, cache)
    ran_again, again = run_cached(tmp_path / "b", src, cache)
    assert ran_first and not ran_again and again == first
    module = src / "datalaws" / "grammar.py"
    module.write_text(module.read_text() + "\n# a change to the code the data rules run\n")
    ran_changed, changed = run_cached(tmp_path / "c", src, cache)
    assert ran_changed and changed == first


def test_the_data_rules_key_covers_what_their_commands_import():
    modules = closure(("datalaws.cli.data", "datalaws.cli.compress", "datalaws.cli.dataset"))
    assert {"datalaws.sampler", "datalaws.grammar", "datalaws.compressors"} <= modules.keys()
    assert not any(name.startswith(("datalaws.laws", "datalaws.qqt")) for name in modules)
