"""The runs that check the training code on the device: correctness, resume, throughput, packing.

Each part returns a JSON-able dict with a ``status`` (``passed``, ``failed``, ``measured``,
``skipped`` ...) and its numbers; a failed run's log tail travels with it.
"""

from __future__ import annotations

import shutil
import signal
from pathlib import Path
from typing import Any

import numpy as np
import torch

from datalaws import atomic
from datalaws.train import launch, peak_memory
from datalaws.train.config import ladder, size_hyper
from datalaws.train.flops import training_flops
from datalaws.train.gpucheck import runs
from datalaws.train.gpucheck.context import (
    CURVE_TOL,
    RESUME_TOL,
    SMOOTH,
    VAL_TOL,
    Setup,
    failed_run,
    launched,
    moving_mean,
    options_for,
    spec_for,
)
from datalaws.train.resources import estimate_memory_bytes
from datalaws.train.shape import count_parameters


def part_correctness(s: Setup) -> dict:
    """bf16 and fp32 from the same seed, both at once; their loss curves must agree."""
    size, steps = s.args.check_size, s.args.check_steps
    result: dict[str, Any] = {
        "size": size,
        "steps": steps,
        "lr": s.args.check_lr,
        "tolerance": {"curve_nats": CURVE_TOL, "val_nats": VAL_TOL},
    }
    started = {}
    for precision in ("bf16", "fp32"):  # at once: they are independent, and start-up dominates
        spec, _ = spec_for(s, size, steps, lr=s.args.check_lr, eval_points=4, precision=precision)
        name = f"correctness-{precision}"
        cmd, out = launched(s, name, spec)
        started[precision] = (name, out, runs.start(cmd, s.log(name)))
    codes = {p: runs.wait(proc, s.left()) for p, (_, _, proc) in started.items()}
    curves, finals = {}, {}
    for precision, (name, out, _) in started.items():
        if codes[precision] != 0:
            ran = {"exit_code": codes[precision]}
            return result | failed_run(s, name, ran, f"the {precision} run")
        curves[precision] = [r["train_loss"] for r in runs.step_records(out)]
        finals[precision] = atomic.read_json(out / "final.json")
    gap = np.abs(moving_mean(curves["bf16"], SMOOTH) - moving_mean(curves["fp32"], SMOOTH))
    val_gap = abs(finals["bf16"]["val_loss"] - finals["fp32"]["val_loss"])
    passed = float(gap.max()) <= CURVE_TOL and val_gap <= VAL_TOL
    return result | {
        "status": "passed" if passed else "failed",
        "first_loss": curves["fp32"][0],
        "train_loss": {p: finals[p]["train_loss"] for p in finals},
        "val_loss": {p: finals[p]["val_loss"] for p in finals},
        "dtype": {p: finals[p]["dtype"] for p in finals},
        "max_curve_gap": float(gap.max()),
        "val_gap": val_gap,
    }


def part_resume(s: Setup) -> dict:
    """A bf16 run stopped by SIGURG to every process of it a third of the way in (exit 75), then
    rerun; alongside, the same run uninterrupted, which the resumed one must end like."""
    steps = s.args.check_steps
    spec, _ = spec_for(
        s, s.args.check_size, steps, lr=s.args.check_lr, eval_points=4, precision="bf16"
    )
    ref_cmd, reference = launched(s, "resume-reference", spec)
    ref_proc = runs.start(ref_cmd, s.log("resume-reference"))
    try:
        result = interrupt_and_resume(s, spec, steps)
    finally:
        ref_code = runs.wait(ref_proc, s.left())
    if result["status"] == "failed":
        return result
    if ref_code != 0:
        return result | failed_run(s, "resume-reference", {"exit_code": ref_code}, "reference")
    out = s.work / "resume"
    final, ref = atomic.read_json(out / "final.json"), atomic.read_json(reference / "final.json")
    logged = [r["step"] for r in runs.step_records(out)]
    losses = [r["train_loss"] for r in runs.step_records(out)]
    ref_losses = [r["train_loss"] for r in runs.step_records(reference)]
    after = slice(result["stopped_at_step"], result["stopped_at_step"] + 5)  # just restarted
    gaps = {
        "train_loss": abs(final["train_loss"] - ref["train_loss"]),
        "val_loss": abs(final["val_loss"] - ref["val_loss"]),
        "steps_after_resume": float(np.max(np.abs(np.subtract(losses[after], ref_losses[after])))),
    }
    once = logged == list(range(1, steps + 1))
    passed = max(gaps.values()) <= result["tolerance_nats"] and once and final["attempts"] == 2
    return result | {
        "status": "passed" if passed else "failed",
        "attempts": final["attempts"],
        "each_step_logged_once": once,
        "gaps": gaps,
    }


def interrupt_and_resume(s: Setup, spec: dict, steps: int) -> dict:
    """Start the run, SIGURG it a third of the way in, expect exit 75 and a checkpoint, rerun."""
    cmd, out = launched(s, "resume", spec)
    result: dict[str, Any] = {"size": s.args.check_size, "steps": steps,
                              "tolerance_nats": RESUME_TOL[s.device], "status": "ran"}  # fmt: skip
    proc = runs.start(cmd, s.log("resume"))
    if not runs.wait_for_step(proc, out, steps // 3, s.left()):
        code = runs.wait(proc, s.left())
        why = f"the run ended before the signal at step {steps // 3}"
        return result | failed_run(s, "resume", {"exit_code": code}, why)
    runs.signal_tree(proc.pid, signal.SIGURG)
    first = runs.wait(proc, s.left())
    latest = out / "ckpt" / "latest.json"
    if first != launch.EXIT_PREEMPTED or not latest.exists():
        return result | failed_run(s, "resume", {"exit_code": first}, "after SIGURG (75 expected)")
    stopped_at = atomic.read_json(latest)["step"]
    again = runs.run(cmd, s.log("resume"), s.left())
    if again["exit_code"] != 0:
        return result | failed_run(s, "resume", again, "the resumed run")
    return result | {"stopped_at_step": stopped_at, "exit_codes": [first, again["exit_code"]]}


def measure_size(s: Setup, size: str, name: str, timeout_s: float, steps: int) -> dict:
    """One size at the study's batch: steady step time, tokens/s, MFU, peak memory."""
    arch = ladder(s.section)[size]
    hyper = size_hyper(s.section, size)
    cfg = arch.model(s.corpus.vocab_size, s.corpus.context)
    procs = s.args.procs
    bf16 = hyper.precision == "bf16" or (hyper.precision == "auto" and s.cuda)
    rows = -(-hyper.batch_size // procs)
    predicted = estimate_memory_bytes(cfg, rows, procs, bf16)
    params = count_parameters(cfg)
    result: dict[str, Any] = {
        "size": size,
        "layers": cfg.layers,
        "n_params": params["total"],
        "n_params_nonembedding": params["nonembedding"],
        "batch_size": hyper.batch_size,
        "rows_per_device": rows,
        "dtype": "bfloat16" if bf16 else "float32",
        "predicted_memory_gb": round(predicted / 2**30, 3),
    }
    if s.cuda and predicted > torch.cuda.get_device_properties(0).total_memory:
        return result | {"status": "does not fit", "reason": "planner's estimate > device memory"}
    spec, tokens_per_step = spec_for(s, size, steps)
    out = s.work / name
    worker = [*runs.worker_args(s.corpus, spec, options_for(s)), "--out", str(out)]
    cmd = launch.launch_command(1, procs, worker, module=peak_memory.MODULE)
    ran = runs.run(cmd, s.log(name), timeout_s, env=launch.launch_env(s.threads))
    shutil.rmtree(out / "ckpt", ignore_errors=True)  # the final weights: disk, not needed
    if ran["exit_code"] != 0:
        oom = "out of memory" in runs.log_tail(s.log(name), 20000).lower()
        if oom:
            return result | {"status": "out of memory"}
        return result | failed_run(s, name, ran, f"{size}")
    timing = runs.steady_step_seconds(runs.step_records(out), tokens_per_step, s.args.warmup_steps)
    flops_per_device = training_flops(cfg, rows, cfg.context - 1)
    achieved = flops_per_device / timing["step_s"]
    return (
        result
        | timing
        | peak_memory_gb(out, s.cuda)
        | {
            "status": "measured",
            "tokens_per_s": tokens_per_step / timing["step_s"],
            "flops_per_step_per_device": flops_per_device,
            "achieved_flops_per_device": achieved,
            "mfu": achieved / s.peak if s.peak else None,
            "wall_s": ran["wall_s"],
        }
    )


def peak_memory_gb(run_dir: Path, cuda: bool) -> dict:
    """The largest peak over a run's ranks: device memory on a GPU (allocated, and reserved by
    the caching allocator), the whole process's resident set on a CPU."""
    records = [atomic.read_json(p) for p in sorted(run_dir.glob("peak_memory_rank*.json"))]
    if not records:
        return {"measured_memory": None, "measured_memory_gb": None, "reserved_memory_gb": None}

    def largest(key: str) -> float:
        return round(max(r.get(key, 0) for r in records) / 2**30, 3)

    if cuda:
        return {
            "measured_memory": "device peak allocated",
            "measured_memory_gb": largest("device_peak_allocated_bytes"),
            "reserved_memory_gb": largest("device_peak_reserved_bytes"),
        }
    return {
        "measured_memory": "host peak RSS (whole process)",
        "measured_memory_gb": largest("host_peak_rss_bytes"),
        "reserved_memory_gb": None,
    }


def part_throughput(s: Setup, reserve_s: float) -> dict:
    """Sizes in ladder order until one does not fit, or the time left for them runs out."""
    rows, steps = [], s.args.warmup_steps + s.args.measure_steps
    for size in s.sizes:
        budget = s.left() - reserve_s
        if budget < 30:
            rows.append({"size": size, "status": "skipped", "reason": "time budget"})
            continue
        row = measure_size(s, size, f"throughput-{size}", budget, steps)
        rows.append(row)
        print(f"gpu-check: throughput {size}: {row['status']}", flush=True)
        if row["status"] in ("does not fit", "out of memory"):
            break
    failed = any(r["status"] == "failed" for r in rows)
    measured = sum(r["status"] == "measured" for r in rows)
    return {
        "status": "failed" if failed else ("measured" if measured else "skipped"),
        "warmup_steps": s.args.warmup_steps,
        "sizes": rows,
    }


def part_packing(s: Setup, single: dict | None, reserve_s: float) -> dict:
    """``--pack`` copies of one size at once on the one device, against the same size alone."""
    k = s.args.pack
    if k < 2 or single is None:
        return {"status": "skipped", "reason": "--pack < 2 or no size measured"}
    if s.left() - reserve_s < 30:
        return {"status": "skipped", "reason": "time budget"}
    size, steps = single["size"], s.args.warmup_steps + 3 * s.args.measure_steps
    spec, tokens_per_step = spec_for(s, size, steps)
    procs = []
    for i in range(k):
        out = s.work / f"packing-{i}"
        worker = [*runs.worker_args(s.corpus, spec, options_for(s)), "--out", str(out)]
        cmd = launch.launch_command(1, 1, worker, module=peak_memory.MODULE)
        procs.append((out, runs.start(cmd, s.log(f"packing-{i}"), launch.launch_env(s.threads))))
    codes = [runs.wait(proc, s.left() - reserve_s) for _, proc in procs]
    if any(code != 0 for code in codes):
        return {
            "status": "failed",
            "size": size,
            "exit_codes": codes,
            "log_tail": runs.log_tail(s.log("packing-0")),
        }
    warmup = s.args.warmup_steps
    rates = [
        tokens_per_step
        / runs.steady_step_seconds(runs.step_records(out), tokens_per_step, warmup)["step_s"]
        for out, _ in procs
    ]
    return {
        "status": "measured",
        "size": size,
        "processes": k,
        "tokens_per_s_each": rates,
        "aggregate_tokens_per_s": sum(rates),
        "alone_tokens_per_s": single["tokens_per_s"],
        "speedup": sum(rates) / single["tokens_per_s"],
    }


def memory_table(measured: list[dict]) -> dict:
    """Each measured size's peak memory beside the planner's estimate for it."""
    keys = ("size", "measured_memory", "measured_memory_gb", "reserved_memory_gb")
    rows = [{k: r.get(k) for k in (*keys, "predicted_memory_gb")} for r in measured]
    return {"status": "measured" if measured else "skipped", "sizes": rows}
