"""The short text summary of a check's JSON report: the lines a person reads first."""

from __future__ import annotations

from datalaws.train.gpucheck.context import CURVE_TOL, VAL_TOL


def summary_text(report: dict) -> str:
    """The report in a dozen lines (gpu_check.txt); gpu_check.json holds everything."""
    dev, parts = report["device"], report["parts"]
    peak = "none" if dev["peak_flops"] is None else f"{dev['peak_flops']:.4g}"
    lines = [
        f"gpu-check on {dev['name']} ({dev['kind']}, {dev['procs']} process(es), torch "
        f"{dev['torch']}): {'PASSED' if report['passed'] else 'FAILED'} in {report['wall_s']} s",
        f"peak: {peak} FLOP/s ({dev['peak_source']})",
        "",
        *throughput_lines(parts["throughput"]),
        "",
        *check_lines(parts),
        *cost_lines(parts["cost_model"]),
        grid_line(parts["grid"]),
    ]
    lines += [
        f"  {name}: {part['reason']}"
        for name, part in parts.items()
        if part["status"] in ("failed", "skipped") and part.get("reason")
    ]
    return "\n".join(lines) + "\n"


def throughput_lines(part: dict) -> list[str]:
    lines = ["size         params    tok/s        step ms   MFU     memory GB (measured / planner)"]
    for r in part.get("sizes", []):
        if r["status"] != "measured":
            lines.append(f"{r['size']:<12} {r['status']}: {r.get('reason', '')}")
            continue
        mfu = "-" if r["mfu"] is None else f"{100 * r['mfu']:.1f}%"
        memory = "-" if r["measured_memory_gb"] is None else f"{r['measured_memory_gb']:.3f}"
        lines.append(
            f"{r['size']:<12} {r['n_params']:<9.3g} {r['tokens_per_s']:<12,.0f} "
            f"{1000 * r['step_s']:<9.2f} {mfu:<7} {memory} / {r['predicted_memory_gb']:.3f}"
        )
    return lines


def check_lines(parts: dict) -> list[str]:
    c, r, p = parts["correctness"], parts["resume"], parts["packing"]
    correctness = f"correctness (bf16 vs fp32): {c['status']}"
    if "max_curve_gap" in c:
        correctness += (
            f", curve gap {c['max_curve_gap']:.4f} (tol {CURVE_TOL}), val gap "
            f"{c['val_gap']:.4f} (tol {VAL_TOL}), loss {c['first_loss']:.3f} -> "
            f"{c['train_loss']['bf16']:.3f}"
        )
    resume = f"kill and resume (SIGURG): {r['status']}"
    if "gaps" in r:
        resume += (
            f", stopped at step {r['stopped_at_step']}, largest gap "
            f"{max(r['gaps'].values()):.2e} (tol {r['tolerance_nats']:g})"
        )
    packing = f"packing: {p['status']}"
    if p["status"] == "measured":
        packing += f", {p['processes']} x {p['size']} at once: speedup {p['speedup']:.2f}x"
    return [correctness, resume, packing]


def cost_lines(part: dict) -> list[str]:
    if part["status"] != "fitted":
        return [f"cost model: {part['status']}"]
    f, grid = part["fit"], part["study_grid"]
    lines = [
        f"cost model ({f['form']}): {1000 * f['step_overhead_s']:.2f} ms/step + "
        f"{1000 * f['layer_overhead_s']:.3f} ms/layer + FLOPs at {f['flops_per_s']:.3g}/s, "
        f"max error {100 * f['max_rel_error']:.0f}%"
    ]
    if grid["status"] != "computed":
        return lines
    for label in ("measured", "assumed"):
        g = grid[label]
        lines.append(
            f"  study grid, {grid['runs']} runs, {g['basis']}: {g['device_hours_estimated']:.1f} "
            f"device-hours estimated, {g['device_hours_at_limits']:.1f} at the time limits"
        )
    if "packing" in grid:
        k = grid["packing"]
        lines.append(
            f"  packing {k['size']} ({k['speedup']:.2f}x) would save "
            f"{k['saved_device_hours']:.2f} of its {k['device_hours_estimated']:.2f} device-hours"
        )
    return lines


def grid_line(part: dict) -> str:
    line = f"tiny grid ({part.get('mode', 'off')}): {part['status']}"
    return line + (f", {part['wall_s']} s wall" if "wall_s" in part else "")
