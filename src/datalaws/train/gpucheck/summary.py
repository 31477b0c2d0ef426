"""The short text summary of a check's JSON report."""

from __future__ import annotations

from datalaws.train.gpucheck.context import CURVE_TOL, VAL_TOL


def _fmt(value: float | None, spec: str, missing: str = "-") -> str:
    return missing if value is None else format(value, spec)


def summary_text(report: dict) -> str:
    """The few lines a person reads first; the JSON holds everything."""
    dev, parts = report["device"], report["parts"]
    lines = [
        f"gpu-check on {dev['name']} ({dev['kind']}, {dev['procs']} process(es), torch "
        f"{dev['torch']}): {'PASSED' if report['passed'] else 'FAILED'} in {report['wall_s']} s",
        f"peak: {_fmt(dev['peak_flops'], '.4g', 'none')} FLOP/s ({dev['peak_source']})",
        "",
        "size         params    tok/s        step ms   MFU     memory GB (measured / predicted)",
    ]
    for r in parts["throughput"].get("sizes", []):
        if r["status"] != "measured":
            lines.append(f"{r['size']:<12} {r['status']}: {r.get('reason', '')}")
            continue
        mfu = "-" if r["mfu"] is None else f"{100 * r['mfu']:.1f}%"
        lines.append(
            f"{r['size']:<12} {r['n_params']:<9.3g} {r['tokens_per_s']:<12,.0f} "
            f"{1000 * r['step_s']:<9.2f} {mfu:<7} {_fmt(r['measured_memory_gb'], '.3f')} / "
            f"{r['predicted_memory_gb']:.3f}"
        )
    c, rs = parts["correctness"], parts["resume"]
    lines += ["", f"correctness (bf16 vs fp32): {c['status']}"]
    if "max_curve_gap" in c:
        lines[-1] += (
            f", curve gap {c['max_curve_gap']:.4f} (tol {CURVE_TOL}), val gap "
            f"{c['val_gap']:.4f} (tol {VAL_TOL}), loss {c['first_loss']:.3f} -> "
            f"{c['train_loss']['bf16']:.3f}"
        )
    lines.append(f"kill and resume (SIGURG): {rs['status']}")
    if "gaps" in rs:
        lines[-1] += (
            f", stopped at step {rs['stopped_at_step']}, largest gap "
            f"{max(rs['gaps'].values()):.2e} (tol {rs['tolerance_nats']:g})"
        )
    p = parts["packing"]
    lines.append(f"packing: {p['status']}")
    if p["status"] == "measured":
        lines[-1] += f", {p['processes']} x {p['size']} at once: speedup {p['speedup']:.2f}x"
    cm = parts["cost_model"]
    lines.append(f"cost model: {cm['status']}")
    if cm["status"] == "fitted":
        f = cm["fit"]
        lines[-1] += (
            f" ({f['form']}): {1000 * f['step_overhead_s']:.2f} ms/step + "
            f"{1000 * f['layer_overhead_s']:.3f} ms/layer + FLOPs at "
            f"{f['flops_per_s']:.3g}/s, max error {100 * f['max_rel_error']:.0f}%"
        )
        grid = cm["study_grid"]
        if grid["status"] == "computed":
            for label in ("measured", "assumed"):
                g = grid[label]
                lines.append(
                    f"  study grid, {grid['runs']} runs, {g['basis']}: "
                    f"{g['device_hours_estimated']:.1f} device-hours estimated, "
                    f"{g['device_hours_at_limits']:.1f} at the time limits"
                )
    g = parts["grid"]
    lines.append(f"tiny grid ({g.get('mode', 'off')}): {g['status']}")
    if "wall_s" in g:
        lines[-1] += f", {g['wall_s']} s wall"
    for name, part in parts.items():
        if part["status"] in ("failed", "skipped") and part.get("reason"):
            lines.append(f"  {name}: {part['reason']}")
    return "\n".join(lines) + "\n"
