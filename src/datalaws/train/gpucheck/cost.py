"""The cost model from the measured sizes, and what the study grid costs by it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch

from datalaws.train import costmodel
from datalaws.train.config import from_dict, ladder, size_hyper
from datalaws.train.gpucheck.context import Setup, options_for
from datalaws.train.resources import ResourceConfig, plan, runtime_basis


def part_cost_model(s: Setup, sizes: list[dict], packing: dict) -> dict:
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
    return {
        "status": "fitted",
        "path": str(path),
        "fit": fit,
        "study_grid": grid_hours(s, path, packing),
    }


def grid_plans(s: Setup, rc: ResourceConfig) -> list[tuple[str, dict]]:
    """(size, resource plan) of every run of the config's grid, as the training rule plans it."""
    context = s.study.get("context", 256)
    out = []
    for grammar in s.study.get("grammars", []):
        vocab = grammar.get("terminals", rc.vocab_size_hint - 1) + 1
        for size in s.section["sizes"]:
            cfg = ladder(s.section)[size].model(vocab, context)
            hyper = size_hyper(s.section, size)
            out += [(size, plan(cfg, budget, hyper, rc)) for budget in s.section["budgets"]]
    return out


def device_hours(plans: list[tuple[str, dict]], key: str) -> float:
    """Devices x minutes (``runtime``: the time limit, ``estimate_min``: the bare estimate)."""
    return sum((p["gpu"] or p["procs_per_node"]) * p[key] / 60 for _, p in plans)


def grid_hours(s: Setup, model_path: Path, packing: dict) -> dict:
    """Device-hours of the config's grid by the cost model and by the config's assumed rate, and
    what packing the measured size would save (its runs' hours shrink by the packing speedup)."""
    settings = {**s.section.get("resources", {}), "cost_model": ""}
    assumed = from_dict(ResourceConfig, settings, "train.resources")
    try:
        measured = replace(assumed, cost_model=str(model_path))
    except ValueError as err:
        return {"status": "skipped", "reason": str(err)}
    result: dict = {"status": "computed"}
    for label, rc in (("measured", measured), ("assumed", assumed)):
        plans = grid_plans(s, rc)
        result["runs"] = len(plans)
        result[label] = {
            "basis": runtime_basis(rc),
            "device_hours_at_limits": device_hours(plans, "runtime"),
            "device_hours_estimated": device_hours(plans, "estimate_min"),
        }
        if label == "measured" and packing.get("status") == "measured":
            packed = [(size, p) for size, p in plans if size == packing["size"]]
            hours = device_hours(packed, "estimate_min")
            result["packing"] = {
                "size": packing["size"],
                "speedup": packing["speedup"],
                "device_hours_estimated": hours,
                "saved_device_hours": hours * max(0.0, 1 - 1 / packing["speedup"]),
            }
    return result
