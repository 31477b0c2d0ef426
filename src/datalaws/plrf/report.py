"""Tables and the markdown summary of the theory arm for the Snakemake report."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence

from datalaws.atomic import write_text
from datalaws.plrf.experiments import phase_row

TABLE_COLUMNS = [
    "alpha",
    "beta",
    "phase",
    "approach",
    "eta_measured",
    "eta_theory",
    "eta_diff",
    "xi_measured",
    "xi_theory",
    "xi_diff",
    "f_lo",
    "f_hi",
    "source",
    "note",
]


def _fmt(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def write_phase_table(points: Sequence[dict], path: str | os.PathLike[str]) -> list[dict]:
    """Measured minus theoretical exponents, both approaches, one row per point and approach."""
    rows = [phase_row(p, approach) for p in points for approach in ("envelope", "isoflop")]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=TABLE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _fmt(row[k]) for k in TABLE_COLUMNS})
    write_text(path, buffer.getvalue())
    return rows


def _pair(fit: dict) -> str:
    if fit.get("eta") is None:
        return "n/a (" + fit.get("note", "no fit") + ")"
    lo, hi = fit["f_window"]
    return (
        f"eta = {fit['eta']:.3f} +- {fit['eta_stderr']:.3f}, xi = {fit['xi']:.3f} +- "
        f"{fit['xi_stderr']:.3f} (f in [{lo:.3g}, {hi:.3g}], {fit['n']} budgets)"
    )


def summary_markdown(
    check: dict, exact: dict, validations: Sequence[dict], rows: Sequence[dict]
) -> str:
    """Headline numbers: the paper's check, its convergence, the exact cross-checks, the table."""
    theo = check["theory"]
    lines = [
        "# PLRF theory arm: summary",
        "",
        f"## The paper's check: alpha = {check['alpha']:g}, beta = {check['beta']:g}",
        "",
        f"Theory ({theo['phase']}): eta = {theo['eta']:.4f}, xi = {theo['xi']:.4f}. "
        f"W-free deterministic equivalent, batch {check['batch']}, step scale "
        f"{check['step_scale']:g}, v = {check['v_ratio']:g} d; grid d in "
        f"[{check['d_range'][0]:.0f}, {check['d_range'][1]:.0f}] ({check['d_count']} sizes), "
        f"computed in {check['seconds']:.1f} s.",
        "",
        "| fit | Approach 1 (envelope) | Approach 2 (IsoFLOP) |",
        "|---|---|---|",
    ]
    for key, label in (
        ("paper_range", f"d up to {check['paper_range']['d_range'][1]:.0f}, whole interior"),
        ("full_range", "all d, whole interior"),
        ("top_window", "all d, " + check["top_window"]["f_window_rule"]),
    ):
        block = check[key]
        lines.append(f"| {label} | {_pair(block['envelope'])} | {_pair(block['isoflop'])} |")
    lines += [
        "",
        "Drift with the f window (Approach 1 / Approach 2):",
        "",
        "| f window | eta | xi |",
        "|---|---|---|",
    ]
    for row in check["window_scan"]:
        one, two = row["envelope"], row["isoflop"]
        if one.get("eta") is None or two.get("eta") is None:
            continue
        lo, hi = row["f_window"]
        lines.append(
            f"| [{lo:.3g}, {hi:.3g}] | {one['eta']:.3f} / {two['eta']:.3f} | "
            f"{one['xi']:.3f} / {two['xi']:.3f} |"
        )
    lines += [
        "",
        "Drift with the largest d (whole interior window):",
        "",
        "| d max | f window | eta | xi |",
        "|---|---|---|---|",
    ]
    for row in check["dmax_scan"]:
        one, two = row["envelope"], row["isoflop"]
        if one.get("eta") is None or two.get("eta") is None or row["f_window"] is None:
            continue
        lo, hi = row["f_window"]
        lines.append(
            f"| {row['d_max']:.0f} | [{lo:.3g}, {hi:.3g}] | {one['eta']:.3f} / "
            f"{two['eta']:.3f} | {one['xi']:.3f} / {two['xi']:.3f} |"
        )
    lines += [
        "",
        "## Exact expected loss against the W-free equivalent",
        "",
        f"Mean over {len(exact['seeds'])} draws of W, d in [{exact['d_range'][0]:.0f}, "
        f"{exact['d_range'][1]:.0f}]: ratio exact / W-free in [{exact['ratio_min']:.3f}, "
        f"{exact['ratio_max']:.3f}].",
        "",
        f"- exact: {_pair(exact['exact']['envelope'])}",
        f"- W-free, same grid: {_pair(exact['asymptotic']['envelope'])}",
        "",
        "## SGD against the deterministic equivalent (same W)",
        "",
        "| alpha | beta | phase | d | runs | max abs z | max rel. diff | SGD s | DE s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for v in validations:
        lines.append(
            f"| {v['alpha']:g} | {v['beta']:g} | {v['phase']} | {v['d']} | {v['runs']} | "
            f"{v['max_abs_z']:.2f} | {v['max_rel_diff']:.4f} | {v['sgd_seconds']:.1f} | "
            f"{v['deterministic_seconds']:.3f} |"
        )
    lines += [
        "",
        "## Phase diagram: measured minus theory (Approach 1)",
        "",
        "| alpha | beta | phase | eta meas. | eta theory | xi meas. | xi theory |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r["approach"] != "envelope":
            continue
        cells = [
            _fmt(r[k]) if not isinstance(r[k], float) else f"{r[k]:.3f}"
            for k in ("eta_measured", "eta_theory", "xi_measured", "xi_theory")
        ]
        lines.append(
            f"| {r['alpha']:g} | {r['beta']:g} | {r['phase']} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines) + "\n"
