"""Flat CSV tables of the stage's results, for the report and for readers without a JSON viewer.

Numbers are written to four significant digits: the tables are for reading, and the JSON files
beside them keep full precision. A parameter the runs could not resolve (an A or B beyond float
range, written as null in the law file, or an interval end beyond ``UNRESOLVED``) reads
"unresolved" rather than as a number nobody should use.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from datalaws.atomic import read_json
from datalaws.laws import PathArg
from datalaws.laws.chinchilla import NATURAL, THETA
from datalaws.laws.runs import gzip_h
from datalaws.laws.steps import write_csv

UNRESOLVED = 1e30
PARAMETER_COLUMNS = tuple(f"{k}{suffix}" for k in NATURAL for suffix in ("", "_lo", "_hi"))


def _cell(value: object, parameter: bool) -> object:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "unresolved" if parameter and value is None else value
    if not math.isfinite(value) or (parameter and abs(value) > UNRESOLVED):
        return "unresolved" if parameter else ""
    return float(f"{value:.4g}") if isinstance(value, float) else value


def readable(table: pd.DataFrame) -> pd.DataFrame:
    """Four significant digits; unresolved law parameters named as such."""
    out = table.astype(object)
    for col in out.columns:
        out[col] = [_cell(v, col in PARAMETER_COLUMNS) for v in out[col]]
    return out


def parameters(grammars: Sequence[str], law_jsons: Sequence[PathArg], hs: Sequence[float]):
    rows = []
    for g, p, h in zip(grammars, law_jsons, hs, strict=True):
        rec = read_json(p)
        row = {"grammar": g, "H": h, "n_runs": rec["n_runs"]}
        for k in NATURAL:
            row[k] = rec["params"][k]
            row[f"{k}_lo"], row[f"{k}_hi"] = rec["intervals"][k]
        fr = rec["frontier"]
        row["n_opt_exponent"] = fr["n_opt_exponent"]
        row["n_opt_exponent_lo"], row["n_opt_exponent_hi"] = fr["n_opt_exponent_interval"]
        row["objective"] = rec["objective"]
        quality = rec.get("fit_quality", {})
        row["rmse_log"] = quality.get("rmse_log")
        row["residuals_structured"] = quality.get("residual_structure", {}).get("flagged")
        rows.append(row)
    return pd.DataFrame(rows).sort_values("H")


def h_regression(record: dict) -> pd.DataFrame:
    """One row per line: each parameter's, then log10 A's and log10 B's (what figure 4 draws)."""
    lines = list(record["params"].items())
    lines += [(f"log10 {k}", v["log10"]) for k, v in record["params"].items() if v.get("log10")]
    rows = []
    for k, v in lines:
        rows.append(
            {
                "parameter": k,
                "slope": v["slope"],
                "slope_lo": v["slope_interval"][0],
                "slope_hi": v["slope_interval"][1],
                "intercept": v["intercept"],
                "intercept_lo": v["intercept_interval"][0],
                "intercept_hi": v["intercept_interval"][1],
                "p_value": v["p_value"],
                "r": v["r"],
            }
        )
    return pd.DataFrame(rows)


def h_law(record: dict) -> pd.DataFrame:
    rows = []
    for k in THETA:
        c = record["coefficients"][k]
        rows.append(
            {
                "coefficient": k,
                "intercept_at_H_ref": c["intercept"],
                "intercept_lo": c["intercept_interval"][0],
                "intercept_hi": c["intercept_interval"][1],
                "slope_per_unit_H": c["slope"],
                "slope_lo": c["slope_interval"][0],
                "slope_hi": c["slope_interval"][1],
            }
        )
    blend = record["blend"]
    rows.append(
        {
            "coefficient": "blend eps",
            "intercept_at_H_ref": blend["eps"],
            "intercept_lo": blend["eps_interval"][0],
            "intercept_hi": blend["eps_interval"][1],
        }
    )
    return pd.DataFrame(rows).assign(H_ref=record["H_ref"])


def approaches(record: dict, h: dict[str, float]) -> pd.DataFrame:
    rows = []
    for g, res in record.items():
        row = {"grammar": g, "H": h[g]}
        for i in (1, 2, 3):
            a = res[f"approach{i}"]
            lo, hi = a["interval"] or (None, None)
            row |= {f"a{i}": a["exponent"], f"a{i}_lo": lo, f"a{i}_hi": hi}
        row["disagree"] = res["disagree"]
        rows.append(row)
    return pd.DataFrame(rows).sort_values("H")


def holdout(record: dict, h: dict[str, float]) -> pd.DataFrame:
    rows = []
    for g, res in record.items():
        if "skipped" in res:
            rows.append({"grammar": g, "H": h[g], "skipped": res["skipped"]})
            continue
        rows.append(
            {
                "grammar": g,
                "H": h[g],
                "held_out_N": res["held_out_N"],
                "n_test_runs": res["n_test_runs"],
                "median_abs_relative_error": res["median_abs_relative_error"],
                "mean_abs_relative_error": res["mean_abs_relative_error"],
                "max_abs_relative_error": res["max_abs_relative_error"],
                "coverage_of_prediction_interval": res["coverage"],
                "all_inside_prediction_interval": res["all_inside"],
            }
        )
    return pd.DataFrame(rows).sort_values("H")


def crossing(record: dict) -> pd.DataFrame:
    per_grammar = {r["compute"]: r["H_cross"] for r in record["per_grammar"]}
    rows = []
    for r in record["h_law"]:
        lo, hi = r["H_cross_interval"] or (None, None)
        rows.append(
            {
                "compute": r["compute"],
                "chinchilla_tokens_per_param": r["chinchilla_tokens_per_param"],
                "H_cross": r["H_cross"],
                "H_cross_lo": lo,
                "H_cross_hi": hi,
                "fraction_of_resamples_crossing": r["fraction_of_resamples_crossing"],
                "inside_fitted_range": r["inside_fitted_range"],
                "per_grammar_H_cross": " ".join(f"{x:.4g}" for x in per_grammar[r["compute"]]),
            }
        )
    return pd.DataFrame(rows)


def claim(record: dict) -> pd.DataFrame:
    agree = {r["grammar"]: r for r in record.get("h_law_agreement", [])}
    rows = []
    for r in record["grammars"]:
        h_law = agree.get(r["grammar"], {})
        rows.append(
            {
                "grammar": r["grammar"],
                "H": r["H"],
                "compute": record["compute"],
                "log10_tokens_per_param": r["log10_tokens_per_param"],
                "lo": r["interval"][0],
                "hi": r["interval"][1],
                "n_opt": r["n_opt"],
                "n_opt_inside_fitted_range": r["n_opt_inside_fitted_range"],
                "h_law_log10_tokens_per_param": h_law.get("h_law_log10_tokens_per_param"),
                "h_law_agrees": h_law.get("agree"),
                "slope_per_H": record["slope_log10_tokens_per_param_per_H"],
                "slope_lo": record["slope_interval"][0],
                "slope_hi": record["slope_interval"][1],
                "verdict": record["verdict"],
            }
        )
    return pd.DataFrame(rows)


def write_tables(
    grammars: Sequence[str],
    law_jsons: Sequence[PathArg],
    gzip_jsons: Sequence[PathArg],
    regression_json: PathArg,
    h_law_json: PathArg,
    approaches_json: PathArg,
    holdout_json: PathArg,
    crossing_json: PathArg,
    claim_json: PathArg,
    out: dict[str, PathArg],
) -> None:
    """Write the tables named in ``out`` (parameters, h_regression, h_law, approaches, holdout,
    crossing, claim)."""
    hs = gzip_h(gzip_jsons)
    h = dict(zip(grammars, hs, strict=True))
    tables = {
        "parameters": parameters(grammars, law_jsons, hs),
        "h_regression": h_regression(read_json(regression_json)),
        "h_law": h_law(read_json(h_law_json)),
        "approaches": approaches(read_json(approaches_json), h),
        "holdout": holdout(read_json(holdout_json), h),
        "crossing": crossing(read_json(crossing_json)),
        "claim": claim(read_json(claim_json)),
    }
    for name, table in tables.items():
        write_csv(out[name], readable(table))
