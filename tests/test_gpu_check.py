"""The GPU check's CPU side, so that it cannot rot without a device: the peak table, the cost model
and its use by the planner and the SLURM preview, torch.compile with bf16 on a CPU, and the check
itself (scripts/gpu_check.py) run with --device cpu on the smallest tiny size."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from conftest import copy_workflow

from datalaws.train import costmodel
from datalaws.train.config import HyperParams, TrainConfigError, from_dict
from datalaws.train.flops import training_flops
from datalaws.train.peaks import PEAKS, UnknownGpuError, gpu_peak, resolve_peak
from datalaws.train.resources import ResourceConfig, plan
from datalaws.train.shape import ModelConfig
from datalaws.train.workflow import scheduler_field

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
FULL = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["train"]
TINY = yaml.safe_load((REPO / "config" / "tiny.yaml").read_text())["train"]


# ---- the peak table ------------------------------------------------------------------------------

DRIVER_NAMES = {  # what torch.cuda.get_device_name() reports -> the table's label
    "NVIDIA A100-SXM4-80GB": "A100",
    "NVIDIA A100-PCIE-40GB": "A100",
    "NVIDIA A100 80GB PCIe": "A100",
    "NVIDIA H100 80GB HBM3": "H100 SXM",
    "NVIDIA H100 PCIe": "H100 PCIe",
    "NVIDIA H100 NVL": "H100 NVL",
    "NVIDIA H200": "H200 SXM",
    "NVIDIA H200 NVL": "H200 NVL",
    "NVIDIA GH200 480GB": "GH200",
    "NVIDIA L40S": "L40S",
    "NVIDIA L40": "L40",
    "NVIDIA L4": "L4",
    "NVIDIA A10": "A10",
    "NVIDIA A30": "A30",
    "NVIDIA A40": "A40",
    "AMD Instinct MI300X": "MI300X",
}


def test_peak_table_picks_each_gpu_by_its_driver_name():
    for name, label in DRIVER_NAMES.items():
        assert gpu_peak(name).label == label, name
    # Same Hopper die, same dense bf16 rate; PCIe and NVL parts run lower clocks.
    assert gpu_peak("NVIDIA H200").bf16_flops == gpu_peak("NVIDIA H100 80GB HBM3").bf16_flops
    assert gpu_peak("NVIDIA H100 PCIe").bf16_flops < gpu_peak("NVIDIA H100 NVL").bf16_flops
    assert gpu_peak("NVIDIA H100 NVL").bf16_flops < gpu_peak("NVIDIA H100 80GB HBM3").bf16_flops
    assert gpu_peak("NVIDIA A100-SXM4-80GB").bf16_flops == 312e12  # the planner's default
    assert ResourceConfig().gpu_peak_flops == gpu_peak("NVIDIA A100-SXM4-80GB").bf16_flops
    for entry in PEAKS:
        assert 5e13 < entry.bf16_flops < 5e15 and entry.source, entry


def test_unknown_gpus_are_refused_and_the_peak_can_be_given():
    for name in ("NVIDIA A10G", "Tesla V100-SXM2-16GB", "NVIDIA GeForce RTX 4090"):
        with pytest.raises(UnknownGpuError, match="--peak-flops"):
            gpu_peak(name)
    assert resolve_peak("NVIDIA A10G", 70e12) == (70e12, "given (--peak-flops)")
    assert resolve_peak("NVIDIA H200")[0] == 989.4e12
    peak, why = resolve_peak(None)
    assert peak is None and "CPU" in why


# ---- the cost model ------------------------------------------------------------------------------


def synthetic_steps(c0: float, c1: float, rate: float) -> list[costmodel.StepTiming]:
    """Step times that follow the model exactly, at the paper's sizes and batch."""
    out = []
    for name, shape in FULL["ladder"].items():
        cfg = ModelConfig(**shape, vocab_size=2001, context=256)
        flops = training_flops(cfg, 32, 255)
        out.append(
            costmodel.StepTiming(cfg.layers, flops, c0 + c1 * cfg.layers + flops / rate, name)
        )
    return out


def test_cost_model_fit_recovers_the_coefficients_of_its_form():
    model = costmodel.fit(synthetic_steps(3e-3, 4e-4, 3.5e14), "gpu", "NVIDIA H200", {})
    assert model.form == "overhead+rate"
    assert model.step_overhead_s == pytest.approx(3e-3, rel=1e-6)
    assert model.layer_overhead_s == pytest.approx(4e-4, rel=1e-6)
    assert model.flops_per_s == pytest.approx(3.5e14, rel=1e-6)
    assert model.max_rel_error < 1e-9
    # One measured size (the CPU check): only a rate, which reproduces that size exactly.
    one = synthetic_steps(3e-3, 4e-4, 3.5e14)[2:3]
    rate = costmodel.fit(one, "cpu", "cpu", {})
    assert (rate.form, rate.step_overhead_s, rate.layer_overhead_s) == ("rate", 0.0, 0.0)
    assert rate.step_seconds(one[0].layers, one[0].flops_per_step) == pytest.approx(one[0].step_s)
    with pytest.raises(costmodel.CostModelError, match="no measured steps"):
        costmodel.fit([], "gpu", "x", {})


def test_cost_model_files_round_trip_and_bad_ones_are_named(tmp_path):
    model = costmodel.fit(synthetic_steps(1e-3, 2e-4, 1e14), "gpu", "NVIDIA A100", {"a": 1})
    path = tmp_path / "cost_model.json"
    costmodel.save(model, path)
    assert costmodel.load(path) == model
    with pytest.raises(costmodel.CostModelError, match="not found; `make gpu-check` writes one"):
        costmodel.load(tmp_path / "missing.json")
    record = json.loads(path.read_text())
    (tmp_path / "neg.json").write_text(json.dumps(record | {"flops_per_s": -1.0}))
    with pytest.raises(costmodel.CostModelError, match=r"neg.json: flops_per_s"):
        costmodel.load(tmp_path / "neg.json")
    (tmp_path / "other.json").write_text(json.dumps({"format": "something else"}))
    with pytest.raises(costmodel.CostModelError, match=r"other\.json: not a cost model"):
        costmodel.load(tmp_path / "other.json")


def gpu_cost_model(path: Path, c0: float = 5e-3, c1: float = 5e-4, rate: float = 1.5e14) -> Path:
    costmodel.save(costmodel.fit(synthetic_steps(c0, c1, rate), "gpu", "NVIDIA A100", {}), path)
    return path


def test_the_planner_takes_time_limits_from_a_cost_model_and_says_so(tmp_path):
    assumed = from_dict(ResourceConfig, FULL["resources"], "train.resources")
    measured = replace(assumed, cost_model=str(gpu_cost_model(tmp_path / "cm.json")))
    hyper = HyperParams(batch_size=32)
    small, big = ModelConfig(64, 128, 2, 1, 2001, 256), ModelConfig(1024, 2048, 20, 16, 2001, 256)
    for cfg, budget in ((small, 100_000_000), (big, 100_000_000)):
        a, m = plan(cfg, budget, hyper, assumed), plan(cfg, budget, hyper, measured)
        assert a["runtime_basis"] == "assumed_mfu:0.3"
        assert m["runtime_basis"] == f"measured:{tmp_path / 'cm.json'}"
        assert scheduler_field(m, "runtime_basis") == m["runtime_basis"]
        steps = math.ceil(budget // 256 / 32)
        step_s = 5e-3 + 5e-4 * cfg.layers + training_flops(cfg, 32, 255) / 1.5e14
        assert m["estimate_min"] == pytest.approx(steps * step_s / 60, rel=1e-3)
        assert m["runtime"] == max(
            math.ceil(measured.startup_min + measured.runtime_safety * steps * step_s / 60),
            int(measured.min_runtime_min),
        )
    # The small model is overhead-bound: far slower than 30% of peak would make it.
    assert (
        plan(small, 10**8, hyper, measured)["estimate_min"]
        > 5 * plan(small, 10**8, hyper, assumed)["estimate_min"]
    )
    # A slow GPU by the cost model needs more GPUs for the same target runtime.
    slow = replace(measured, cost_model=str(gpu_cost_model(tmp_path / "slow.json", rate=1e12)))
    assert plan(big, 10**8, hyper, slow)["gpu"] > plan(big, 10**8, hyper, measured)["gpu"]


def test_a_missing_or_foreign_cost_model_stops_the_plan_before_any_job(tmp_path):
    with pytest.raises(TrainConfigError, match=r"train.resources.cost_model: .*not found"):
        ResourceConfig(accelerator="gpu", cost_model=str(tmp_path / "none.json"))
    path = gpu_cost_model(tmp_path / "gpu.json")
    with pytest.raises(
        TrainConfigError, match=r"measured on a gpu .*, but train.resources.accelerator is 'cpu'"
    ):
        from_dict(ResourceConfig, TINY["resources"] | {"cost_model": str(path)}, "r")


# ---- torch.compile and bf16 on a CPU -------------------------------------------------------------


@pytest.mark.slow
def test_compiled_bf16_training_matches_eager_on_cpu(tmp_path, monkeypatch):
    """The GPU default (bf16 + torch.compile of every block) through train(), on a CPU:
    dynamo, AOT autograd and inductor's lowering of our blocks. About 40 CPU-seconds of
    compilation with a cold inductor cache."""
    import torch
    import torch._inductor.config as inductor_config
    from torch._dynamo.utils import counters

    from datalaws.train import Arch, RunOptions, train
    from datalaws.train.gpucheck.runs import make_corpus

    monkeypatch.setattr(inductor_config, "compile_threads", 1)  # no worker pool on 2 cores
    corpus = make_corpus(tmp_path / "corpus", 61, 256, 64, seed=3)
    hyper = HyperParams(batch_size=4, lr=1e-2, val_sequences=16, eval_points=1, precision="bf16")
    results = {}
    for mode in ("off", "on"):
        options = RunOptions(device="cpu", threads=1, compile=mode, checkpoint_every=0,
                             progress="off")  # fmt: skip
        results[mode] = train(corpus.train, corpus.val, tmp_path / mode, arch=Arch(16, 32, 1, 1),
                              budget=8 * 4 * 256, hyper=hyper, options=options)  # fmt: skip
    assert counters["stats"]["unique_graphs"] >= 1  # the blocks were compiled, not run eagerly
    eager, compiled = results["off"], results["on"]
    assert eager["dtype"] == compiled["dtype"] == "bfloat16"
    assert compiled["config_hash"] == eager["config_hash"]  # compiling never changes the run
    assert compiled["train_loss"] == pytest.approx(eager["train_loss"], abs=1e-3)
    assert compiled["val_loss"] == pytest.approx(eager["val_loss"], abs=1e-3)
    assert torch.isfinite(torch.tensor(compiled["val_loss"]))


# ---- the check on a CPU --------------------------------------------------------------------------


def test_bad_arguments_are_refused_before_any_run(tmp_path, capsys):
    from datalaws.train.gpucheck.cli import main

    tiny = str(REPO / "config" / "tiny.yaml")
    cases = {
        "not in train.ladder": ["--device", "cpu", "--config", tiny, "--sizes", "d99"],
        "has no train section": ["--device", "cpu", "--config", str(REPO / "envs/datalaws.yaml")],
        "--check-size": ["--device", "cpu", "--config", tiny, "--check-size", "d99"],
    }
    for message, args in cases.items():
        assert main([*args, "--out", str(tmp_path / "out")]) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # nothing written, nothing run


@pytest.fixture(scope="module")
def cpu_check(tmp_path_factory) -> dict:
    """scripts/gpu_check.py --device cpu on the smallest tiny size, every part, grid as dry run."""
    out = tmp_path_factory.mktemp("gpu-check")
    env = dict(os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}")
    env.pop("OUT", None)
    args = ["--device", "cpu", "--config", str(REPO / "config" / "tiny.yaml"), "--sizes", "d16-l1",
            "--check-steps", "90", "--warmup-steps", "2", "--measure-steps", "4", "--pack", "2",
            "--peak-flops", "1e11", "--grid", "dry", "--repo", str(REPO),
            "--out", str(out)]  # fmt: skip
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gpu_check.py"), *args],
        cwd=out,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return {"out": out, "report": json.loads((out / "gpu_check.json").read_text()),
            "stdout": done.stdout}  # fmt: skip


@pytest.mark.slow
def test_the_check_runs_every_part_on_cpu(cpu_check):
    report, parts = cpu_check["report"], cpu_check["report"]["parts"]
    assert report["passed"] and report["device"]["kind"] == "cpu"
    assert (cpu_check["out"] / "gpu_check.txt").read_text() in cpu_check["stdout"]
    c = parts["correctness"]
    assert c["status"] == "passed" and c["dtype"] == {"bf16": "bfloat16", "fp32": "float32"}
    assert c["train_loss"]["bf16"] < c["first_loss"] - 0.5  # the runs learned something
    assert c["max_curve_gap"] <= c["tolerance"]["curve_nats"]
    r = parts["resume"]
    assert r["status"] == "passed" and r["exit_codes"] == [75, 0] and r["attempts"] == 2
    assert 30 <= r["stopped_at_step"] < 90 and r["each_step_logged_once"]
    assert max(r["gaps"].values()) <= 1e-6  # exact on a CPU
    (size,) = parts["throughput"]["sizes"]
    assert size["status"] == "measured" and size["size"] == "d16-l1"
    assert size["tokens_per_s"] == pytest.approx(4 * 256 / size["step_s"])
    assert size["mfu"] == pytest.approx(size["achieved_flops_per_device"] / 1e11)
    assert size["steps_measured"] == 4
    (memory,) = parts["memory"]["sizes"]
    assert memory["measured_memory_gb"] > 0 and memory["predicted_memory_gb"] > 0
    p = parts["packing"]
    assert p["status"] == "measured" and len(p["tokens_per_s_each"]) == 2
    assert p["aggregate_tokens_per_s"] == pytest.approx(sum(p["tokens_per_s_each"]))
    g = parts["grid"]
    assert g["status"] == "passed" and g["mode"] == "dry"
    assert g["training_jobs"] == g["training_jobs_on_gpu"] == 64  # the tiny grid, all on a GPU


@pytest.mark.slow
def test_the_measured_cost_model_prices_the_grid(cpu_check):
    part = cpu_check["report"]["parts"]["cost_model"]
    assert part["status"] == "fitted" and part["fit"]["form"] == "rate"  # one size measured
    model = costmodel.load(part["path"])
    (point,) = model.points
    assert (model.accelerator, point.size) == ("cpu", "d16-l1")
    grid = part["study_grid"]
    assert grid["runs"] == 64 and grid["measured"]["basis"] == f"measured:{part['path']}"
    assert grid["assumed"]["basis"].startswith("assumed_cpu_flops:")
    packing = grid["packing"]  # the packed size's hours, shrunk by the measured speedup
    speedup = cpu_check["report"]["parts"]["packing"]["speedup"]
    saved = packing["device_hours_estimated"] * max(0.0, 1 - 1 / speedup)
    assert packing["size"] == "d16-l1" and packing["saved_device_hours"] == pytest.approx(saved)
    rc = from_dict(ResourceConfig, TINY["resources"] | {"cost_model": part["path"]}, "r")
    cfg = ModelConfig(16, 32, 1, 1, 301, 256)
    planned = plan(cfg, 524288, HyperParams(batch_size=4), rc)
    step_s = training_flops(cfg, 4, 255) / model.flops_per_s
    assert planned["estimate_min"] == pytest.approx(512 * step_s / 60, abs=1e-3)  # 512 steps


# ---- the SLURM preview ---------------------------------------------------------------------------


@pytest.mark.slow
def test_preview_states_the_measured_basis_of_the_gpu_tiny_grid(tmp_path):
    """The tiny study with the GPU overlay and a measured cost model: every training job asks for
    one GPU, and the preview says its time limits come from the cost model."""
    root = copy_workflow(tmp_path)
    model = gpu_cost_model(root / "cost_model.json")
    overlay = root / "config" / "measured.yaml"
    overlay.write_text(yaml.safe_dump({"train": {"resources": {"cost_model": "cost_model.json"}}}))
    env = dict(os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}")
    env.pop("SLURM_CONF", None)
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "slurm" / "preview.py"), "--profile",
         "profiles/slurm", "--configfile", "config/tiny.yaml", "config/tiny-gpu.yaml",
         str(overlay.relative_to(root)), "--rules", "train"],
        cwd=root, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    jobs = [line for line in done.stdout.splitlines() if line.startswith("train[")]
    assert len(jobs) == 64 and all(line.endswith("--gpus=1") for line in jobs)
    assert f"Time limits of 64 training jobs from: measured cost model from {model.name}" in (
        done.stdout
    )


def test_preview_spells_out_each_basis():
    sys.path.insert(0, str(REPO / "scripts" / "slurm"))
    try:
        from preview import describe_basis
    finally:
        sys.path.pop(0)
    assert describe_basis("measured:results/gpu-check/cost_model.json") == (
        "measured cost model from results/gpu-check/cost_model.json"
    )
    assert describe_basis("assumed_mfu:0.3") == "assumed MFU 0.3, unmeasured"
    assert "unmeasured" in describe_basis("assumed_cpu_flops:1e+10")
