"""A grammar and a real dataset side by side through the whole DAG, under real Snakemake on the
local profile: corpus, gzip and the other measures, training runs, per-source laws, the H-law,
frontiers and a figure (the regressions on H and the tables need three sources)."""

import json
import shutil
import sysconfig
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import copy_workflow, snakemake

from datalaws.config import REPO_CONFIGS
from datalaws.corpus import TokenShards

pytestmark = pytest.mark.slow

# The Python standard library of the interpreter running the tests: real code, always present.
STDLIB = sorted(Path(sysconfig.get_paths()["stdlib"]).glob("[a-c]*.py"))
OVERLAY = {
    "context": 64,
    "grammars": [
        {
            "name": "k15-T100-o8-l4",
            "nonterminals": 15,
            "terminals": 100,
            "max_options": 8,
            "max_length": 4,
        },
    ],
    "datasets": [{"name": "stdlib", "source": "src/*.py"}],
    "data": {"train_tokens": 8192, "val_tokens": 2048, "shard_tokens": 4096},
    "gzip": {"sequences": 100},
    "train": {
        "sizes": ["d16-l1", "d32-l2"],
        "budgets": [2048, 4096, 8192],
        "hyper": {"batch_size": 4, "eval_points": 1, "val_sequences": 16},
    },
    "laws": {"bootstrap": 10},
}


TARGETS = (
    "results/laws/h_law.json",
    "results/laws/frontiers.csv",
    "results/figures/laws/fig2_loss.png",
)


def mixed_copy(root: Path, overlay: dict) -> Path:
    copy_workflow(root)
    (root / "src").mkdir()
    for path in STDLIB:
        shutil.copy2(path, root / "src" / path.name)
    (root / "config" / "mixed.yaml").write_text(yaml.safe_dump(overlay))
    return root


def run(root: Path, *args: str):
    configs = ("--configfile", "config/tiny.yaml", "config/mixed.yaml")
    return snakemake(root, *args, "--profile", "profiles/local", *configs)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = mixed_copy(tmp_path_factory.mktemp("mixed"), OVERLAY)
    result = run(root, "data_all", *TARGETS)
    assert result.returncode == 0, result.stderr[-4000:]
    return root


def test_the_dataset_has_the_grammars_corpus_contract(study):
    shards = sorted((study / "results/corpus/stdlib/train").glob("*.bin"))
    corpus = TokenShards(shards)  # sha256 verified
    assert corpus.n_tokens == 8192 and corpus.vocab_size == 258 and corpus.context == 64
    side = json.loads(shards[0].with_name("000.bin.json").read_text())["dataset"]
    assert {Path(f["path"]).name for f in side["files"]} == {p.name for p in STDLIB}
    gzip = json.loads((study / "results/gzip/stdlib.json").read_text())
    compress = json.loads((study / "results/compress/stdlib.json").read_text())
    assert (gzip["kind"], gzip["tokenizer"]) == ("dataset", "byte")
    assert compress["measures"]["gzip_tokens"]["median"] == gzip["median"]
    assert compress["measures"]["gzip_text"]["median"] > 2 * gzip["median"]


def test_runs_laws_and_the_h_law_hold_both_kinds(study):
    runs = pd.read_csv(study / "results/laws/runs.csv")
    assert runs.groupby("grammar")["kind"].first().to_dict() == {
        "k15-T100-o8-l4": "grammar",
        "stdlib": "dataset/byte",
    }
    assert len(runs) == 12
    h_law = json.loads((study / "results/laws/h_law.json").read_text())
    assert {k: v["kind"] for k, v in h_law["grammars"].items()} == {
        "k15-T100-o8-l4": "grammar",
        "stdlib": "dataset/byte",
    }
    for name in ("k15-T100-o8-l4", "stdlib"):
        assert json.loads((study / f"results/laws/law_{name}.json").read_text())["n_runs"] == 6
    frontiers = pd.read_csv(study / "results/laws/frontiers.csv")
    assert {"k15-T100-o8-l4", "stdlib", "chinchilla"} == set(frontiers["grammar"])
    assert (study / "results/figures/laws/fig2_loss.png").read_bytes()[:4] == b"\x89PNG"


def test_one_dataset_reruns_alone_like_a_grammar(study):
    target = "results/gzip/stdlib.json"
    other = study / "results/gzip/k15-T100-o8-l4.json"
    before = other.stat().st_mtime_ns
    result = run(study, "-f", target)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "rule data_gzip:" in result.stderr and "rule data_dataset_corpus:" not in result.stderr
    assert other.stat().st_mtime_ns == before


def test_a_changed_source_file_rebuilds_the_dataset(study):
    source = study / "src" / STDLIB[0].name
    source.write_text(source.read_text() + "\n# changed\n")
    plan = run(study, "-n", "data_all")
    assert plan.returncode == 0, plan.stderr[-3000:]
    assert "rule data_dataset_documents:" in plan.stdout + plan.stderr
    assert "rule data_grammar:" not in plan.stdout + plan.stderr


def test_a_url_source_fails_before_any_job(tmp_path):
    overlay = OVERLAY | {"datasets": [{"name": "web", "source": "https://example.org/c.txt"}]}
    root = mixed_copy(tmp_path, overlay)
    result = run(root, "data_all")
    assert result.returncode != 0
    assert "datasets[web].source: 'https://example.org/c.txt' is a URL" in result.stderr
    assert not (root / "results").exists()


def test_the_real_study_overlay_is_valid_and_reads_only_the_installed_corpora():
    from snakemake.utils import update_config, validate

    from datalaws.config import SCHEMA

    merged = yaml.safe_load((REPO_CONFIGS / "cpu.yaml").read_text())
    update_config(merged, yaml.safe_load((REPO_CONFIGS / "real.yaml").read_text()))
    validate(merged, str(SCHEMA))
    train = merged["train"]
    assert train["sizes"] == ["d12-l1", "d16-l1", "d24-l2", "d32-l2", "d64-l4"]  # the CPU ladder
    assert "wsd" in train and max(train["budgets"]) <= merged["data"]["train_tokens"]
    sources = [d["source"] for d in merged["datasets"]]
    flat = [s for group in sources for s in ([group] if isinstance(group, str) else group)]
    assert all(s.startswith("corpora/") for s in flat) and len(merged["datasets"]) >= 3
