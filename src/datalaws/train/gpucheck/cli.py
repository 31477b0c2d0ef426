"""The check's command line, set-up and order of parts (``scripts/gpu_check.py`` calls ``main``)."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import torch
import yaml

from datalaws import atomic
from datalaws.train import gpucheck
from datalaws.train.config import ladder, size_hyper
from datalaws.train.gpucheck import runs
from datalaws.train.gpucheck.context import FORMAT, Setup
from datalaws.train.gpucheck.cost import part_cost_model
from datalaws.train.gpucheck.grid import part_grid
from datalaws.train.gpucheck.parts import (
    memory_table,
    part_correctness,
    part_packing,
    part_resume,
    part_throughput,
)
from datalaws.train.gpucheck.summary import summary_text
from datalaws.train.peaks import resolve_peak
from datalaws.train.resources import ResourceConfig


def guarded(name: str, fn: Any, *args: Any) -> dict:
    """Run one part; an exception fails that part (with its traceback) and not the others."""
    t0 = time.perf_counter()
    try:
        result = fn(*args)
    except Exception as err:
        result = {
            "status": "failed",
            "reason": f"{type(err).__name__}: {err}",
            "traceback": traceback.format_exc()[-3000:],
        }
    result["part_wall_s"] = round(time.perf_counter() - t0, 2)
    print(f"gpu-check: {name}: {result['status']} ({result['part_wall_s']} s)", flush=True)
    return result


def run_check(s: Setup) -> dict:
    """Every part in order, within the time budget; the report as JSON-able dict."""
    args = s.args
    t0 = time.perf_counter()
    hyper = size_hyper(s.section, args.check_size)
    documents = max(args.check_steps * hyper.batch_size, 256)
    hint = s.section.get("resources", {}).get("vocab_size_hint", ResourceConfig.vocab_size_hint)
    vocab = args.vocab or hint
    s.corpus = runs.make_corpus(
        s.work / "corpus", vocab, s.study.get("context", 256), documents, args.seed
    )
    grid_mode = args.grid if args.grid != "auto" else ("run" if s.cuda else "dry")
    reserve = {"run": 60 * args.grid_reserve_min, "dry": 30.0, "off": 0.0}[grid_mode]
    parts: dict[str, dict] = {}
    with ThreadPoolExecutor(2) as pool:  # independent small runs: at once saves their start-up
        correctness = pool.submit(guarded, "correctness", part_correctness, s)
        resume = pool.submit(guarded, "resume", part_resume, s)
        parts["correctness"], parts["resume"] = correctness.result(), resume.result()
    parts["throughput"] = guarded("throughput", part_throughput, s, reserve)
    sizes = parts["throughput"].get("sizes", [])
    measured = [r for r in sizes if r["status"] == "measured"]
    parts["memory"] = memory_table(measured)
    smallest = measured[0] if measured else None
    parts["packing"] = guarded("packing", part_packing, s, smallest, reserve)
    parts["cost_model"] = guarded("cost_model", part_cost_model, s, sizes, parts["packing"])
    if grid_mode == "off":
        parts["grid"] = {"status": "skipped", "reason": "--grid off"}
    else:
        parts["grid"] = guarded("grid", part_grid, s, grid_mode)
    return {
        "format": FORMAT,
        "passed": not any(p["status"] == "failed" for p in parts.values()),
        "device": {
            "kind": s.device,
            "name": s.device_name,
            "peak_flops": s.peak,
            "peak_source": s.peak_source,
            "procs": args.procs,
            "torch": torch.__version__,
            "cuda": torch.version.cuda or "none",
        },
        "config": str(args.config),
        "time_limit_s": 60 * args.time_limit_min,
        "wall_s": round(time.perf_counter() - t0, 1),
        "parts": parts,
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The check's options; the defaults are what ``make gpu-check`` runs on one GPU."""
    p = argparse.ArgumentParser(
        prog="gpu_check",
        description=gpucheck.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--device", choices=("auto", "cuda", "cpu"), default="auto")
    p.add_argument("--config", default="config/config.yaml", help="study config (train section)")
    p.add_argument("--sizes", nargs="+", help="ladder sizes to measure (default: train.sizes)")
    p.add_argument("--procs", type=int, default=1, help="GPUs (or CPU processes) per run")
    p.add_argument("--peak-flops", type=float, default=0.0, help="override the peak table")
    p.add_argument("--compile", choices=("auto", "on", "off"), help="override train.run.compile")
    p.add_argument("--vocab", type=int, default=0, help="default: train.resources.vocab_size_hint")
    p.add_argument("--warmup-steps", type=int, default=5)
    p.add_argument("--measure-steps", type=int, default=15)
    p.add_argument("--check-size", help="size of the correctness and resume runs (default: first)")
    p.add_argument("--check-steps", type=int, default=200)
    p.add_argument("--check-lr", type=float, default=1e-3)
    p.add_argument("--pack", type=int, help="concurrent runs of the smallest size (cuda: 4)")
    p.add_argument(
        "--grid",
        choices=("auto", "run", "dry", "off"),
        default="auto",
        help="tiny study on the GPU (auto: run on cuda, dry run on cpu)",
    )
    p.add_argument("--grid-cores", type=int, default=os.cpu_count() or 1)
    p.add_argument(
        "--grid-reserve-min",
        type=float,
        default=3.5,
        help="minutes kept for the tiny grid when it runs",
    )
    p.add_argument("--time-limit-min", type=float, default=8.0)
    p.add_argument("--threads", type=int, default=1, help="torch threads per CPU process")
    p.add_argument("--seed", type=int, default=0, help="the check corpus's grammar and samples")
    p.add_argument("--repo", default=".", help="the workflow to copy for the grid part")
    p.add_argument("--out", default=os.environ.get("OUT") or "results/gpu-check")
    p.add_argument("--work", help="scratch folder (default: a temporary one, removed at the end)")
    args = p.parse_args(argv)
    for name in ("procs", "warmup_steps", "measure_steps", "check_steps", "threads"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.check_steps < 30:
        p.error("--check-steps must be >= 30 (the resume check stops a third of the way in)")
    return args


def setup(args: argparse.Namespace, work: Path) -> Setup:
    """Read the study config, choose the device and its peak, start the clock."""
    with open(args.config, encoding="utf-8") as handle:
        study = yaml.safe_load(handle)
    if not isinstance(study, dict) or "train" not in study:
        raise ValueError(f"--config: {args.config} has no train section")
    section = study["train"]
    sizes = args.sizes or list(section["sizes"])
    unknown = sorted(set(sizes) - set(ladder(section)))
    if unknown:
        raise ValueError(f"--sizes: {unknown} not in train.ladder of {args.config}")
    args.check_size = args.check_size or sizes[0]
    if args.check_size not in ladder(section):
        raise ValueError(f"--check-size: {args.check_size!r} not in train.ladder of {args.config}")
    cuda = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
    if cuda and not torch.cuda.is_available():
        raise ValueError(
            f"--device cuda: no CUDA device is available to torch {torch.__version__} (a CPU "
            "build sees no GPU; the README says how to install a CUDA build)"
        )
    if cuda and args.procs > torch.cuda.device_count():
        raise ValueError(f"--procs {args.procs}: only {torch.cuda.device_count()} GPU(s) here")
    name = torch.cuda.get_device_name(0) if cuda else "cpu"
    peak, source = resolve_peak(name if cuda else None, args.peak_flops)
    if args.pack is None:
        args.pack = 4 if cuda else 0
    return Setup(
        args=args,
        study=study,
        section=section,
        cuda=cuda,
        device_name=name,
        peak=peak,
        peak_source=source,
        sizes=sizes,
        out=Path(args.out),
        work=work,
        deadline=time.monotonic() + 60 * args.time_limit_min,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the check; 0 if no part failed, 1 if one did, 2 for bad arguments or config."""
    args = parse_args(argv)
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="gpu-check-"))
    try:
        s = setup(args, work)
        report = run_check(s)
    except (ValueError, FileNotFoundError) as err:
        print(f"gpu_check: error: {err}", file=sys.stderr)
        return 2
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    out = Path(args.out)
    atomic.write_json(out / "gpu_check.json", report)
    text = summary_text(report)
    atomic.write_text(out / "gpu_check.txt", text)
    print(text, end="")
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
