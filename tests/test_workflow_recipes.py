"""The README's recipes, checked against the DAG Snakemake would run (dry runs, no training)."""

from __future__ import annotations

import re

import pytest
import yaml
from conftest import REPO, copy_workflow, snakemake

TINY = yaml.safe_load((REPO / "config" / "tiny.yaml").read_text())


def dry_run_jobs(root, *targets: str) -> list[tuple[str, str]]:
    """(rule, wildcards) of every job a forced dry run lists."""
    out = snakemake(root, "--profile", "profiles/local", "-n", "-F", *targets)
    assert out.returncode == 0, out.stderr[-3000:]
    text = out.stdout + out.stderr
    return re.findall(
        r"^(?:local)?rule (\w+):\n(?:    (?!wildcards).*\n)*(?:    wildcards: (.*)\n)?",
        text,
        flags=re.M,
    )


@pytest.mark.slow
def test_rerunning_one_grammar_reruns_its_whole_chain_and_nothing_else(tmp_path):
    root = copy_workflow(tmp_path)
    g = TINY["grammars"][1]["name"]
    jobs = dry_run_jobs(
        root, f"results/laws/law_{g}.json", f"results/laws/{g}/holdout.json",
        f"results/laws/{g}/approaches.json",
    )  # fmt: skip
    rules = [rule for rule, _ in jobs]
    train = TINY["train"]
    assert rules.count("train") == len(train["sizes"]) * len(train["budgets"])
    for rule in ("data_grammar", "data_gzip", "data_val", "laws_collect", "laws_fit"):
        assert rules.count(rule) == 1, rule
    assert {"laws_holdout", "laws_approaches"} <= set(rules)
    others = [t["name"] for t in TINY["grammars"] if t["name"] != g]
    for rule, wildcards in jobs:
        assert not any(o in wildcards for o in others), (rule, wildcards)
        assert f"grammar={g}" in wildcards or rule == "data_val" or g in wildcards, (
            rule,
            wildcards,
        )
