"""The tiny study on the device, end to end through Snakemake (or its dry run on a CPU)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np

from datalaws import atomic
from datalaws.train.gpucheck import runs
from datalaws.train.gpucheck.context import Setup, failed_run

GRID_FILES = ["Snakefile", "workflow", "config", "profiles", "envs"]
TRAIN_JOB = re.compile(r"^rule train:\n((?:    .*\n)+)", re.M)  # a job in a dry run


def part_grid(s: Setup, mode: str) -> dict:
    """The tiny study on this GPU through Snakemake (``run``), or only its dry run (``dry``)."""
    repo = Path(s.args.repo)
    snakemake = shutil.which("snakemake")
    missing = [f for f in GRID_FILES if not (repo / f).exists()]
    if missing or snakemake is None or (mode == "run" and shutil.which("datalaws") is None):
        why = f"{repo} lacks {missing}" if missing else "snakemake or datalaws not on PATH"
        return {"status": "skipped", "reason": why}
    if s.left() < 30:
        return {"status": "skipped", "reason": "time budget"}
    root = s.work / "grid"
    root.mkdir(parents=True, exist_ok=True)
    for name in GRID_FILES:
        (shutil.copytree if (repo / name).is_dir() else shutil.copy2)(repo / name, root / name)
    base = [snakemake, "--profile", "profiles/local", "--configfile", "config/tiny.yaml",
            "config/tiny-gpu.yaml", "--cores", str(s.args.grid_cores)]  # fmt: skip
    result = {"mode": mode, "command": " ".join([*base[1:], "laws_all"])}
    return result | (dry_run(s, root, base) if mode == "dry" else full_run(s, root, base))


def dry_run(s: Setup, root: Path, base: list[str]) -> dict:
    """Snakemake plans the grid with the GPU overlay: every training job asks for a GPU."""
    ran = runs.run([*base, "-n", "laws_all"], s.log("grid"), s.left(), cwd=root)
    if ran["exit_code"] != 0:
        return failed_run(s, "grid", ran, "the dry run")
    blocks = TRAIN_JOB.findall(s.log("grid").read_text())
    on_gpu = [b for b in blocks if re.search(r"\bgpu=1\b", b) and '"device":"cuda"' in b]
    return {
        "status": "passed" if blocks and len(on_gpu) == len(blocks) else "failed",
        "wall_s": ran["wall_s"],
        "training_jobs": len(blocks),
        "training_jobs_on_gpu": len(on_gpu),
        "note": "dry run only: no GPU here",
    }


def full_run(s: Setup, root: Path, base: list[str]) -> dict:
    """The grid, its laws and the HTML report; every run must have trained on the GPU in bf16.

    Each of the many concurrent runs compiles in its own process, so inductor's pool of compile
    workers is turned off (one pool per run would oversubscribe the cores many times over).
    """
    env = dict(os.environ, TORCHINDUCTOR_COMPILE_THREADS="1")
    ran = runs.run([*base, "laws_all"], s.log("grid"), s.left(), env=env, cwd=root)
    if ran["exit_code"] != 0:
        return failed_run(s, "grid", ran, "snakemake")
    report = [*base, "--report", "report.html", "laws_all"]
    reported = runs.run(report, s.log("grid"), s.left(), env=env, cwd=root)
    finals = [atomic.read_json(p) for p in sorted((root / "results/train").rglob("final.json"))]
    on_device = [f for f in finals if f["device"] != "cpu" and f["dtype"] == "bfloat16"]
    laws = sorted(p.name for p in (root / "results/laws").glob("law_*.json"))
    ok = reported["exit_code"] == 0 and bool(finals) and len(on_device) == len(finals)
    return {
        "status": "passed" if ok and laws else "failed",
        "wall_s": ran["wall_s"],
        "report_wall_s": reported["wall_s"],
        "runs": len(finals),
        "runs_on_gpu_bf16": len(on_device),
        "laws": laws,
        "mean_val_loss": float(np.mean([f["val_loss"] for f in finals])) if finals else None,
    }
