"""Print a study's acceptance figures as the README's markdown tables, from its laws tables.

    python scripts/study_table.py studies/cpu/results/laws
    python scripts/study_table.py studies/real/results/laws studies/real/results/compare

Reads tables/{parameters,approaches,holdout}.csv and claim.json, which the workflow's laws stage
writes, and, given the compare folder, its tables/{transfer,predictors}.csv, so the README's
numbers are the report's, rounded.
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


MEASURES = ("gzip", "zstd", "bz2", "lzma", "unigram")


def transfer(tables: Path) -> str:
    """Per dataset: H under each compressor, its own law beside the grammar H-law's prediction."""
    frame = pd.read_csv(tables / "transfer.csv")
    lines = [
        "| dataset | H: " + ", ".join(MEASURES) + " (tokens) | gzip (text) | inside grammar H "
        "| E fit / H-law | alpha fit / H-law | beta fit / H-law | loss error H-law / own fit |",
        "|---|---|---:|---|---|---|---|---|",
    ]
    for _, r in frame.iterrows():
        hs = ", ".join(f"{r[f'H_{m}_tokens']:.3f}" for m in MEASURES)
        pairs = " | ".join(
            f"{r[f'{k}_fitted']:.3g} / {r[f'{k}_predicted']:.3g}" for k in ("E", "alpha", "beta")
        )
        lines.append(
            f"| {r['dataset']} ({r['kind'].split('/')[-1]}) | {hs} | {r['H_gzip_text']:.3f} | "
            f"{r['inside']} | {pairs} | "
            f"{r['loss_error_predicted']:.3f} / {r['loss_error_own_fit']:.3f} |"
        )
    return "\n".join(lines)


def predictors(
    tables: Path, targets: tuple[str, ...] = ("tokens_per_param", "alpha", "beta")
) -> str:
    """Spearman rho [95%] of each measure against each target, across every source trained."""
    frame = pd.read_csv(tables / "predictors.csv").set_index(["measure", "target"])
    lines = ["| measure | " + " | ".join(targets) + " |", "|---|" + "---|" * len(targets)]
    for measure in dict.fromkeys(frame.index.get_level_values(0)):
        cells = []
        for t in targets:
            r = frame.loc[(measure, t)]
            cells.append(f"{r['rho']:.2f} [{r['rho_lo']:.2f}, {r['rho_hi']:.2f}]")
        lines.append(f"| {measure} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(laws: str, compare: str | None = None) -> None:
    root = Path(laws)
    print(parameters(root / "tables"), acceptance(root / "tables"), claim(root), sep="\n\n")
    if compare is not None:
        print(
            "", transfer(Path(compare) / "tables"), predictors(Path(compare) / "tables"), sep="\n\n"
        )


if __name__ == "__main__":
    main(*sys.argv[1:3])
