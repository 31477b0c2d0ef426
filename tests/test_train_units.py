"""Training pieces that need no corpus: schedule, data order, rank shares, config, resources,
launch commands and the launcher's signal and exit-code handling."""

import itertools
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import launcher, shipped
from jsonschema import Draft202012Validator

from datalaws.train import launch
from datalaws.train.config import (
    Arch,
    HyperParams,
    RunOptions,
    TrainConfigError,
    config_hash,
    from_dict,
    parse_spec,
    run_spec,
)
from datalaws.train.data import DocumentOrder, eval_batches, rank_share
from datalaws.train.resources import (
    SIGNAL_EARLY_S,
    ResourceConfig,
    estimate_memory_bytes,
    plan,
)
from datalaws.train.shape import ModelConfig, count_parameters
from datalaws.train.trainer import eval_schedule, final_train_loss, lr_at
from datalaws.train.workflow import (
    final_jsons,
    options_json,
    resources,
    scheduler_field,
    spec_json,
)

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "train.schema.yaml"


# ---- schedule -------------------------------------------------------------------------------


def test_lr_warms_up_linearly_then_decays_to_the_floor_at_the_last_step():
    h = HyperParams(lr=1.0, warmup_frac=0.1, min_lr_ratio=0.1)
    lrs = [lr_at(s, 100, h) for s in range(100)]
    assert lrs[:10] == pytest.approx([(s + 1) / 10 for s in range(10)])
    assert lrs[-1] == pytest.approx(0.1)
    assert all(a >= b for a, b in itertools.pairwise(lrs[9:]))
    assert lrs[54] == pytest.approx(0.55, abs=0.02)  # cosine midpoint


def test_a_one_step_run_uses_the_peak_lr():
    assert lr_at(0, 1, HyperParams(lr=3.0)) == 3.0


def test_eval_points_end_at_the_last_step():
    assert eval_schedule(64, 4) == (16, 32, 48, 64)
    assert eval_schedule(3, 10) == (1, 2, 3)


def test_final_train_loss_averages_the_last_percent():
    losses = list(range(1000))
    assert final_train_loss(losses) == (np.mean(losses[-10:]), 10)
    assert final_train_loss([5.0, 2.0]) == (2.0, 1)


# ---- data order --------------------------------------------------------------------------------


def test_one_epoch_visits_each_pool_document_once_in_a_seeded_order():
    order = DocumentOrder(n_pool=50, n_seen=50, batch_size=8, seed=3)
    seen = np.concatenate([order.batch(s) for s in range(order.steps)])
    assert order.steps == 7 and len(order.batch(6)) == 2
    assert sorted(seen) == list(range(50))
    assert not np.array_equal(seen, np.arange(50))
    again = DocumentOrder(50, 50, 8, seed=3)
    assert np.array_equal(again.batch(4), order.batch(4))  # resume sees the same batch
    assert not np.array_equal(DocumentOrder(50, 50, 8, seed=4).batch(0), order.batch(0))


def test_repeated_passes_get_fresh_permutations():
    order = DocumentOrder(n_pool=10, n_seen=30, batch_size=4, seed=0)
    seen = np.concatenate([order.batch(s) for s in range(order.steps)])
    passes = seen.reshape(3, 10)
    for p in passes:
        assert sorted(p) == list(range(10))
    assert not np.array_equal(passes[0], passes[1])
    assert not np.array_equal(passes[1], passes[2])
    with pytest.raises(IndexError):
        order.batch(order.steps)


@pytest.mark.parametrize(("n", "world"), [(8, 2), (7, 2), (1, 2), (5, 4), (9, 1)])
def test_rank_shares_cover_the_batch_once_with_equal_lengths(n, world):
    rows = np.arange(100, 100 + n)
    shares = [rank_share(rows, r, world) for r in range(world)]
    assert len({len(s[0]) for s in shares}) == 1
    real = np.concatenate([s[0][s[1] == 1] for s in shares])
    assert np.array_equal(real, rows)
    evaluated = [
        rows_[weights == 1] for r in range(world) for rows_, weights in eval_batches(n, 3, r, world)
    ]
    assert sorted(np.concatenate(evaluated)) == list(range(n))


# ---- config ------------------------------------------------------------------------------------


def test_unknown_and_out_of_range_settings_are_named():
    with pytest.raises(TrainConfigError, match="unknown keys \\['learning_rate'\\]"):
        from_dict(HyperParams, {"learning_rate": 1.0}, "train.hyper")
    with pytest.raises(TrainConfigError, match=r"train\.hyper\.lr"):
        HyperParams(lr=0)
    with pytest.raises(TrainConfigError, match="warmup_frac"):
        HyperParams(warmup_frac=1.5)
    with pytest.raises(TrainConfigError, match=r"train\.run\.progress"):
        RunOptions(progress="loud")


def test_shipped_train_sections_validate_against_the_schema():
    validator = Draft202012Validator(yaml.safe_load(SCHEMA.read_text()))
    docs = shipped("train")
    assert set(docs) == {"full", "tiny"}
    for section in docs.values():
        validator.validate(section)
        for size in section["sizes"]:
            parse_spec(run_spec(section, size, section["budgets"][0]))
    bad = {**docs["tiny"], "hyper": {**docs["tiny"]["hyper"], "lr": -1}}
    assert list(validator.iter_errors(bad))


def test_full_config_is_the_paper_grid():
    full = shipped("train")["full"]
    shapes = [tuple(full["ladder"][s].values()) for s in full["sizes"]]
    assert shapes == [
        (64, 128, 2, 1), (128, 256, 4, 2), (256, 512, 6, 4), (512, 1024, 10, 8),
        (1024, 2048, 20, 16), (2048, 4096, 30, 32),
    ]  # fmt: skip
    assert full["budgets"] == [100_000, 1_000_000, 5_000_000, 20_000_000, 50_000_000, 100_000_000]
    assert (full["hyper"]["batch_size"], full["hyper"]["lr"]) == (32, 5e-5)


def test_tiny_ladder_spans_more_than_ten_fold_in_parameters():
    tiny = shipped("train")["tiny"]
    counts = [
        count_parameters(Arch(**tiny["ladder"][s]).model(vocab_size=301, context=256))
        for s in tiny["sizes"]
    ]
    assert len(counts) >= 4
    assert counts[-1]["total"] > 10 * counts[0]["total"]
    assert [c["nonembedding"] for c in counts] == sorted(c["nonembedding"] for c in counts)


def test_spec_holds_only_what_changes_the_model():
    tiny = shipped("train")["tiny"]
    size = tiny["sizes"][0]
    spec = json.loads(spec_json(tiny, "g", size, 65536))
    assert set(spec) == {"arch", "hyper", "budget", "unique_tokens", "labels"}
    changed_ops = {**tiny, "run": {**tiny.get("run", {}), "checkpoint_every": 7}}
    assert spec_json(changed_ops, "g", size, 65536) == spec_json(tiny, "g", size, 65536)
    assert json.loads(options_json(changed_ops))["checkpoint_every"] == 7
    override = {**tiny, "hyper_by_size": {size: {"lr": 0.5}}}
    assert json.loads(spec_json(override, "g", size, 65536))["hyper"]["lr"] == 0.5
    assert len(final_jsons(tiny, "g")) == len(tiny["sizes"]) * len(tiny["budgets"])
    assert config_hash({"a": 1, "b": [1.5]}) == config_hash({"b": [1.5], "a": 1})


# ---- resources and launch ----------------------------------------------------------------------


def test_tiny_runs_plan_one_cpu_process(tmp_path):
    tiny = shipped("train")["tiny"]
    r = resources(tiny, tiny["sizes"][-1], max(tiny["budgets"]), tmp_path / "missing.bin")
    assert (r["gpu"], r["nodes"], r["tasks"], r["procs_per_node"]) == (0, 1, 1, 1)
    assert r["launcher"] == "local" and r["runtime"] >= 1 and r["mem_mb"] > 0


def test_gpu_plans_grow_with_flops_and_memory():
    full = shipped("train")["full"]
    rc = from_dict(ResourceConfig, full["resources"], "r")
    h = HyperParams(batch_size=32, lr=5e-5)
    small = plan(ModelConfig(64, 128, 2, 1, 301, 256), 100_000, h, rc)
    assert (small["gpu"], small["nodes"], small["launcher"]) == (1, 1, "local")
    big = ModelConfig(2048, 4096, 30, 32, 2001, 256)
    tight = ResourceConfig(accelerator="gpu", gpu_memory_gb=20, gpus_per_node=4, max_nodes=4)
    multi = plan(big, 100_000_000, h, tight)  # 22 GB of states do not fit one 20 GB GPU
    assert multi["gpu"] >= 2 and multi["launcher"] in ("torchrun", "srun-torchrun")
    assert multi["procs_per_node"] * multi["nodes"] == multi["gpu"]
    slow = ResourceConfig(accelerator="gpu", gpu_peak_flops=1e12, target_runtime_min=60,
                          gpus_per_node=4, max_nodes=4)  # fmt: skip
    many = plan(big, 100_000_000, h, slow)
    assert (many["gpu"], many["nodes"], many["tasks"], many["launcher"]) == (
        16, 4, 4, "srun-torchrun")  # fmt: skip
    assert estimate_memory_bytes(big, 8, 1, True) > estimate_memory_bytes(big, 8, 4, True)


def test_a_warning_lead_near_the_time_limit_is_refused():
    """SLURM warns at once when the lead exceeds the limit, and up to a minute early anyway: a
    lead that is not well below the shortest limit would stop runs before they train."""
    with pytest.raises(TrainConfigError, match=r"warning_lead_s.*min_runtime_min to at least 6"):
        ResourceConfig(min_runtime_min=2, warning_lead_s=120)
    with pytest.raises(TrainConfigError, match="warning_lead_s"):
        from_dict(ResourceConfig, {"min_runtime_min": 3, "warning_lead_s": 45}, "r")
    rc = ResourceConfig(min_runtime_min=6, warning_lead_s=120, gpu_model="a100", accelerator="gpu")
    for budget in (256, 10**6, 10**9):
        r = plan(ModelConfig(64, 128, 2, 1, 301, 256), budget, HyperParams(), rc)
        assert 60 * r["runtime"] >= 2 * (r["warning_lead_s"] + SIGNAL_EARLY_S)
        assert scheduler_field(r, "slurm_extra") == "--signal=URG@120"
        assert scheduler_field(r, "gpu_model") == "a100"
        assert scheduler_field(r, "tasks_per_gpu") == 0


def test_shipped_configs_keep_the_lead_well_below_their_limits():
    for name in ("config/config.yaml", "config/tiny.yaml"):
        config = yaml.safe_load((ROOT / name).read_text())
        rc = from_dict(ResourceConfig, config["train"]["resources"], name)
        assert 60 * rc.min_runtime_min >= 2 * (rc.warning_lead_s + SIGNAL_EARLY_S), name


def test_launch_commands_follow_the_resources():
    args = ["--spec", '{"a": 1}']
    assert launch.launch_command(1, 1, args, python="py")[:3] == ["py", "-m", launch.WORKER_MODULE]
    run2 = launch.launch_command(1, 2, args, python="py")
    assert run2[:5] == ["py", "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    assert run2[-2:] == args
    multi = launch.launch_command(3, 4, args, python="py")
    assert multi[:4] == ["srun", "--nodes=3", "--ntasks-per-node=1", "--kill-on-bad-exit=1"]
    script = multi[-1]
    assert "--nnodes=$SLURM_NNODES" in script and "--nproc_per_node=4" in script
    assert "--rdzv_backend=c10d --rdzv_endpoint=$head:$((20000 + SLURM_JOB_ID % 20000))" in script
    assert script.endswith("--spec '{\"a\": 1}'")


CHILD = """
import json, signal, sys, time
from pathlib import Path
run = Path(sys.argv[1])
def stop(signum, frame):
    (run / "preempted.json").write_text(json.dumps({"signal": signum}))
    sys.exit(75 if sys.argv[2] == "75" else 1)
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGUSR1, stop)
(run / "started").write_text("")
time.sleep(30)
"""


@pytest.mark.parametrize(("sig", "child_code"), [(signal.SIGUSR1, "75"), (signal.SIGTERM, "1")])
def test_launcher_forwards_the_signal_and_reports_preemption(tmp_path, sig, child_code):
    """Under torchrun the worker's 75 arrives as torchrun's 1: the marker file decides."""
    (tmp_path / "child.py").write_text(CHILD)
    code = (
        "import sys; from datalaws.train.launch import run; "
        f"sys.exit(run([sys.executable, {str(tmp_path / 'child.py')!r}, {str(tmp_path)!r}, "
        f"{child_code!r}], {str(tmp_path)!r}))"
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.time() + 20
    while not (tmp_path / "started").exists() and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(sig)
    assert proc.wait(timeout=20) == launch.EXIT_PREEMPTED
    assert json.loads((tmp_path / "preempted.json").read_text())["signal"] == sig


def test_launcher_passes_other_exit_codes_through(tmp_path):
    assert launcher([sys.executable, "-c", "import sys; sys.exit(2)"], tmp_path).returncode == 2
    killed = launcher([sys.executable, "-c", "import os; os.kill(os.getpid(), 9)"], tmp_path)
    assert killed.returncode == 128 + 9


ORPHANING_WORKER = """
import subprocess, sys
subprocess.Popen([sys.executable, "-c", "import time, pathlib, sys; time.sleep(1); "
                  "pathlib.Path(sys.argv[1]).write_text('saved')", sys.argv[1]])
"""


def test_launcher_waits_for_orphaned_workers_but_not_for_children_it_did_not_start(tmp_path):
    """A worker torchrun stopped waiting for still finishes its save before the launcher exits;
    a child the calling process already had (a daemon, in a long-lived process) never blocks it."""
    saved = tmp_path / "saved"
    prelude = (
        "import atexit, subprocess\n"
        "daemon = subprocess.Popen(['sleep', '600'], stdout=subprocess.DEVNULL, "
        "stderr=subprocess.DEVNULL)\n"
        "atexit.register(daemon.kill)"
    )
    done = launcher([sys.executable, "-c", ORPHANING_WORKER, str(saved)], tmp_path, prelude)
    assert done.returncode == 0, done.stderr
    assert saved.read_text() == "saved"
