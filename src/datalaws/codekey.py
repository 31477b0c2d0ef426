"""A key for the code a rule runs, so Snakemake's between-workflow cache cannot serve stale output.

Snakemake hashes a cached rule's shell line, params and inputs, not the package the shell line
calls: with ``--cache``, a change to ``sampler.py`` would otherwise be answered with corpora sampled
by the old code. The data rules pass ``code_key(...)`` as a param, which Snakemake hashes: the
package version and the source of every ``datalaws`` module the entry modules import, found by
reading their imports (at any depth, inside functions too), so nothing has to list them by hand.
"""

from __future__ import annotations

import ast
import hashlib
from functools import cache
from pathlib import Path

from datalaws import __version__

PACKAGE = "datalaws"
ROOT = Path(__file__).resolve().parent


def _source(module: str) -> Path | None:
    """The file of a ``datalaws`` module, found without importing it (imports can be heavy)."""
    base = ROOT.joinpath(*module.split(".")[1:])
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def datalaws_imports(path: Path) -> set[str]:
    """The ``datalaws`` modules a file imports (a name imported from a package may be a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] == PACKAGE}


def closure(modules: tuple[str, ...]) -> dict[str, Path]:
    """Every ``datalaws`` module reachable by imports from ``modules``, with its source file."""
    seen: dict[str, Path] = {}
    todo = list(modules)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = _source(name)
        if path is None:  # a name imported from a module, not a module itself
            continue
        seen[name] = path
        parents = name.split(".")
        todo += [".".join(parents[:i]) for i in range(1, len(parents))]  # their __init__ runs
        todo += sorted(datalaws_imports(path) - seen.keys())
    return seen


@cache
def code_key(*modules: str) -> str:
    """Package version and a sha256 over the sources of ``modules`` and all they import."""
    digest = hashlib.sha256()
    for name, path in sorted(closure(modules).items()):
        digest.update(name.encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return f"{__version__}:{digest.hexdigest()[:16]}"
