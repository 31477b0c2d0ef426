"""The cost model from the measured sizes, and what the study grid costs by it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch

from datalaws.train import costmodel
from datalaws.train.config import from_dict, ladder, size_hyper
from datalaws.train.gpucheck.context import Setup, options_for
from datalaws.train.resources import ResourceConfig, plan, runtime_basis


def part_cost_model(s: Setup, sizes: list[dict]) -> dict:
    """Fit the measured step times, save the model, and price the study grid with it."""
    measured = [r for r in sizes if r["status"] == "measured"]
    if not measured:
        return {"status": "skipped", "reason": "no size was measured"}
    points = [
        costmodel.StepTiming(r["layers"], r["flops_per_step_per_device"], r["step_s"], r["size"])
        for r in measured
    ]
    meta = {
        "measured_by": "make gpu-check (datalaws.train.gpucheck)",
        "config": str(s.args.config),
        "context": s.corpus.context,
        "vocab_size": s.corpus.vocab_size,
        "procs": s.args.procs,
        "threads": s.threads,
        "compile": options_for(s).get("compile", "auto"),
        "peak_flops": s.peak,
        "torch": torch.__version__,
    }
    model = costmodel.fit(points, "gpu" if s.cuda else "cpu", s.device_name, meta)
    path = s.out / "cost_model.json"
    costmodel.save(model, path)
    fit = {
        k: getattr(model, k)
        for k in ("form", "step_overhead_s", "layer_overhead_s", "flops_per_s", "max_rel_error")
    }
    return {"status": "fitted", "path": str(path), "fit": fit, "study_grid": grid_hours(s, path)}


def grid_hours(s: Setup, model_path: Path) -> dict:
    """Device-hours of every run of the config's grid, from the cost model and from the config's
    assumed rate: at the planned time limits, and as the bare estimate."""
    settings = {**s.section.get("resources", {}), "cost_model": ""}
    rc = from_dict(ResourceConfig, settings, "train.resources")
    try:
        measured_rc = replace(rc, cost_model=str(model_path))
    except ValueError as err:
        return {"status": "skipped", "reason": str(err)}
    totals = {}
    for label, config in (("measured", measured_rc), ("assumed", rc)):
        at_limits = estimated = 0.0
        for grammar in s.study.get("grammars", []):
            vocab = grammar.get("terminals", rc.vocab_size_hint - 1) + 1
            for size in s.section["sizes"]:
                cfg = ladder(s.section)[size].model(vocab, s.study.get("context", 256))
                for budget in s.section["budgets"]:
                    p = plan(cfg, budget, size_hyper(s.section, size), config)
                    devices = p["gpu"] or p["procs_per_node"]
                    at_limits += devices * p["runtime"] / 60
                    estimated += devices * p["estimate_min"] / 60
        totals[label] = {
            "basis": runtime_basis(config),
            "device_hours_at_limits": at_limits,
            "device_hours_estimated": estimated,
        }
    return {
        "status": "computed",
        "runs": len(s.study.get("grammars", []))
        * len(s.section["sizes"])
        * len(s.section["budgets"]),
        **totals,
    }
