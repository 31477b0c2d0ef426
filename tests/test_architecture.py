"""The import graph: stages stand on files and on each other's public faces, never on the CLI."""

import re
import subprocess
import sys
from pathlib import Path

from datalaws.codekey import datalaws_imports

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "datalaws"
HEAVY = ("torch", "scipy.stats", "numba")


def test_no_stage_imports_the_cli():
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            m for m in datalaws_imports(path) if m.split(".")[:2] == ["datalaws", "cli"]
        )
        for path in PACKAGE.rglob("*.py")
        if path.relative_to(PACKAGE).parts[0] != "cli"
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_scanner_sees_an_import_inside_a_function(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from datalaws.cli import main\n    return main\n")
    assert "datalaws.cli" in datalaws_imports(module)


def test_planning_the_workflow_imports_no_heavy_library():
    """Every Snakemake process (and every SLURM job step, which plans again) imports what the rules
    import; torch, scipy.stats and numba there cost seconds per process and plan nothing."""
    modules = sorted(
        {
            name
            for smk in (REPO / "workflow" / "rules").glob("*.smk")
            for name in re.findall(r"^(?:import|from) (datalaws[\w.]*)", smk.read_text(), re.M)
        }
    )
    assert "datalaws.train.workflow" in modules and "datalaws.config" in modules
    code = (
        f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout.strip()
    assert loaded == "[]"
