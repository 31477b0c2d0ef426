"""The warmup-stable-decay schedule and its trunk/branch runs: a branch started from the trunk's
checkpoint is the run it replaces, trained alone from step 0."""

from __future__ import annotations

import itertools
import json
import math

import pytest
import yaml
from conftest import copy_workflow, snakemake

from datalaws.corpus import write_tokens
from datalaws.grammar import GrammarSpec, random_grammar
from datalaws.sampler import CompiledSampler
from datalaws.train import Arch, HyperParams, RunOptions, TrainInputError, train
from datalaws.train.config import WSD, TrainConfigError, parse_wsd, run_spec, trunk_spec
from datalaws.train.trainer import lr_at
from datalaws.train.workflow import job_tokens

ARCH = Arch(16, 32, 1, 1)
HYPER = HyperParams(batch_size=4, lr=1e-2, min_lr_ratio=0.1, val_sequences=16, eval_points=2)
QUIET = RunOptions(device="cpu", threads=1, checkpoint_every=0, progress="off")
BUDGETS = [16384, 32768, 65536]  # 16, 32 and 64 steps of 4 documents


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("wsd-corpus")
    grammar = random_grammar(GrammarSpec(10, 60, 5, 3), seed=7)
    sampler = CompiledSampler(grammar)
    write_tokens(sampler.documents(256, 256, 1), root / "train.bin", grammar.vocab_size)
    write_tokens(sampler.documents(16, 256, 2), root / "val.bin", grammar.vocab_size)
    return {"train": [str(root / "train.bin")], "val": str(root / "val.bin")}


def test_wsd_schedule_warms_up_holds_the_peak_and_decays_to_the_floor():
    wsd = WSD(trunk_budget=10**6, warmup_steps=10, cooldown_frac=0.2)
    h = HyperParams(lr=1.0, min_lr_ratio=0.1)
    steps = 100
    lrs = [lr_at(s, steps, h, wsd) for s in range(steps)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert wsd.decay_start(steps) == 80
    assert all(lr == 1.0 for lr in lrs[10:80])
    assert all(a > b for a, b in itertools.pairwise(lrs[80:]))  # strictly decaying
    assert lrs[-1] == pytest.approx(0.1)  # the floor at the last step, as cosine
    assert lrs[80] == pytest.approx(0.1 + 0.9 * (1 - math.sqrt(1 / 20)))  # 1-sqrt shape


def test_specs_carry_the_schedule_only_when_configured():
    section = {
        "sizes": ["s"],
        "budgets": BUDGETS,
        "ladder": {"s": {"dim": 16, "ffn": 32, "layers": 1, "heads": 1}},
        "hyper": {"batch_size": 4},
    }
    assert "wsd" not in run_spec(section, "s", 16384)  # cosine specs are as before
    section["wsd"] = {"warmup_steps": 3}
    wsd, branches = parse_wsd(run_spec(section, "s", 16384))
    assert wsd == WSD(trunk_budget=65536, warmup_steps=3) and branches is None
    assert parse_wsd(trunk_spec(section, "s"))[1] == BUDGETS
    # the trunk trains up to the largest decay start; a branch only its own decay
    assert job_tokens(section, "s", 65536, 256, "trunk") == 51 * 4 * 256
    assert job_tokens(section, "s", 16384, 256, "branch") == 3 * 4 * 256
    with pytest.raises(TrainConfigError, match="cooldown_frac"):
        WSD(trunk_budget=1, warmup_steps=1, cooldown_frac=0)


@pytest.mark.slow
def test_a_branch_from_the_trunk_equals_the_run_trained_alone(corpus, tmp_path):
    wsd = WSD(trunk_budget=max(BUDGETS), warmup_steps=3)
    trunk = train(
        corpus["train"], corpus["val"], tmp_path / "trunk", arch=ARCH, budget=max(BUDGETS),
        hyper=HYPER, options=QUIET, wsd=wsd, branch_budgets=BUDGETS,
    )  # fmt: skip
    assert (tmp_path / "trunk" / "trunk.json").exists()
    assert not (tmp_path / "trunk" / "final.json").exists()
    assert sorted(int(s) for s in trunk["branches"]) == [13, 26, 51]  # each budget's decay start
    assert trunk["steps"] == 51
    for budget in (BUDGETS[0], BUDGETS[-1]):
        branch = train(
            corpus["train"], corpus["val"], tmp_path / f"b{budget}", arch=ARCH, budget=budget,
            hyper=HYPER, options=QUIET, wsd=wsd, trunk_dir=tmp_path / "trunk",
        )  # fmt: skip
        alone = train(
            corpus["train"], corpus["val"], tmp_path / f"a{budget}", arch=ARCH, budget=budget,
            hyper=HYPER, options=QUIET, wsd=wsd,
        )  # fmt: skip
        assert branch["config_hash"] == alone["config_hash"]
        assert branch["steps"] == alone["steps"] == budget // 256 // 4
        assert branch["val_loss"] == pytest.approx(alone["val_loss"], abs=1e-6)
        assert branch["train_loss"] == pytest.approx(alone["train_loss"], abs=1e-6)
        assert branch["tokens"] == budget


def test_a_branch_without_its_trunk_checkpoint_is_refused(corpus, tmp_path):
    wsd = WSD(trunk_budget=max(BUDGETS), warmup_steps=3)
    with pytest.raises(TrainInputError, match="no checkpoint of this run's WSD trunk"):
        train(
            corpus["train"], corpus["val"], tmp_path / "b", arch=ARCH, budget=BUDGETS[0],
            hyper=HYPER, options=QUIET, wsd=wsd, trunk_dir=tmp_path / "missing",
        )  # fmt: skip
    with pytest.raises(TrainInputError, match="warmup_steps"):
        train(
            corpus["train"], corpus["val"], tmp_path / "w", arch=ARCH, budget=BUDGETS[0],
            hyper=HYPER, options=QUIET, wsd=WSD(trunk_budget=max(BUDGETS), warmup_steps=14),
        )  # fmt: skip


@pytest.mark.slow
def test_the_wsd_grid_runs_through_snakemake_trunks_first(tmp_path):
    """The real rules: one train_trunk per size, then one train job per budget that starts from
    it; a second call has nothing to do."""
    root = copy_workflow(tmp_path)
    config = yaml.safe_load((root / "config" / "tiny.yaml").read_text())
    for arm in ("plrf", "qqt"):
        config.pop(arm)
    config["grammars"] = [config["grammars"][0]]
    config["data"].update(train_tokens=65536, val_tokens=8192, shard_tokens=65536)
    train = config["train"]
    train.update(sizes=["d16-l1", "d32-l2"], budgets=BUDGETS, wsd={"warmup_steps": 4})
    train["hyper"].update(eval_points=1, val_sequences=8)
    (root / "wsd.yaml").write_text(yaml.safe_dump(config))
    args = ("train_all", "--cores", "2", "--replace-workflow-config", "--configfile", "wsd.yaml")
    done = snakemake(root, *args)
    assert done.returncode == 0, done.stderr[-3000:]
    grammar = config["grammars"][0]["name"]
    for size in train["sizes"]:
        trunk = json.loads((root / f"results/train/{grammar}/{size}/trunk/trunk.json").read_text())
        assert sorted(int(s) for s in trunk["branches"]) == [13, 26, 51]
        for budget in BUDGETS:
            run = root / f"results/train/{grammar}/{size}/{budget}"
            final = json.loads((run / "final.json").read_text())
            assert final["tokens"] == budget
            assert final["spec"]["wsd"]["trunk_budget"] == max(BUDGETS)
            log = (root / f"logs/train/{grammar}/{size}/{budget}.log").read_text()
            assert "branched from the trunk" in log
    again = snakemake(root, *args)
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr
