"""The import graph: stages stand on files and on each other's public faces, never on the CLI."""

from pathlib import Path

from datalaws.codekey import datalaws_imports

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "datalaws"


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
