"""Print a study's acceptance figures as the README's markdown tables, from its laws tables.

    python scripts/study_table.py studies/cpu/results/laws

Reads tables/{parameters,approaches,holdout}.csv and claim.json, which the workflow's laws stage
writes, so the README's numbers are the report's, rounded.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd


def cell(row: pd.Series, key: str, digits: int = 3) -> str:
    """'value [lo, hi]' with ``digits`` significant digits; 'n/a' where undefined."""

    def fmt(x: object) -> str:
        if isinstance(x, str):
            return x
        return "n/a" if pd.isna(x) else f"{x:.{digits}g}"

    return f"{fmt(row[key])} [{fmt(row[key + '_lo'])}, {fmt(row[key + '_hi'])}]"


def parameters(tables: Path) -> str:
    params = pd.read_csv(tables / "parameters.csv")
    lines = ["| grammar | H | E | A | B | alpha | beta |", "|---|---:|---|---|---|---|---|"]
    for _, r in params.iterrows():
        values = " | ".join(cell(r, k) for k in ("E", "A", "B", "alpha", "beta"))
        lines.append(f"| {r['grammar']} | {r['H']:.3f} | {values} |")
    return "\n".join(lines)


def acceptance(tables: Path) -> str:
    params = pd.read_csv(tables / "parameters.csv").set_index("grammar")
    appr = pd.read_csv(tables / "approaches.csv").set_index("grammar")
    hold = pd.read_csv(tables / "holdout.csv").set_index("grammar")
    lines = [
        "| grammar | N_opt exp. A1 | A2 | A3 | A3 width | held-out median / max error | "
        "in 95% PI | log RMSE | residuals |",
        "|---|---|---|---|---:|---|---|---:|---|",
    ]
    for g, r in params.iterrows():
        a, h = appr.loc[g], hold.loc[g]
        width = r["n_opt_exponent_hi"] - r["n_opt_exponent_lo"]
        inside = round(h["coverage_of_prediction_interval"] * h["n_test_runs"])
        lines.append(
            f"| {g} | {cell(a, 'a1')} | {cell(a, 'a2')} | {cell(a, 'a3')} | {width:.3f} | "
            f"{100 * h['median_abs_relative_error']:.2f}% / "
            f"{100 * h['max_abs_relative_error']:.2f}% | {inside}/{int(h['n_test_runs'])} | "
            f"{r['rmse_log']:.4f} | {'structured' if r['residuals_structured'] else 'ok'} |"
        )
    return "\n".join(lines)


def claim(laws: Path) -> str:
    record = json.loads((laws / "claim.json").read_text())
    lines = [
        f"tokens per parameter at C = {record['compute']:.3g} FLOPs:",
        "",
        "| grammar | H | log10 tokens/param [95%] | N_opt inside fitted N | H-law agrees |",
        "|---|---:|---|---|---|",
    ]
    agree = {g["grammar"]: g["agree"] for g in record["h_law_agreement"]}
    for g in record["grammars"]:
        lo, hi = g["interval"]
        lines.append(
            f"| {g['grammar']} | {g['H']:.3f} | {g['log10_tokens_per_param']:.3f} "
            f"[{lo:.3f}, {hi:.3f}] | {g['n_opt_inside_fitted_range']} | "
            f"{agree.get(g['grammar'], 'n/a')} |"
        )
    lo, hi = record["slope_interval"]
    slope = record["slope_log10_tokens_per_param_per_H"]
    lines += ["", f"slope d log10(tokens/param) / dH = {slope:.3g} [{lo:.3g}, {hi:.3g}] "]
    lines[-1] += f"({record['n_resamples']} resamples); verdict: {record['verdict']}"
    for c in record["equal_h_controls"]:
        h = ", ".join(f"{x:.3f}" for x in c["H"])
        differ = sorted(k for k, ok in c["overlap"].items() if not ok)
        lines.append(
            f"equal-H control {' vs '.join(c['grammars'])} (H {h}): "
            + ("laws agree within intervals" if c["agree"] else f"intervals disjoint for {differ}")
        )
    return "\n".join(lines)


def main(laws: str) -> None:
    root = Path(laws)
    print(parameters(root / "tables"), acceptance(root / "tables"), claim(root), sep="\n\n")


if __name__ == "__main__":
    main(sys.argv[1])
