"""Would the grammar-fitted H-law have told a real dataset's law? The paper's leap, measured.

The H-conditioned law is fitted on the grammars alone (the family ``datalaws predict`` would use
without real data), then evaluated at each dataset's own gzip H, bootstrap law by bootstrap law.
Beside it sits the law fitted on the dataset's own runs. Reported per dataset, whatever the sign:
each parameter predicted and fitted with intervals, the error (predicted - fitted, and the ratio
for the positive scale parameters), tokens per parameter at a fixed compute, whether the dataset's
H lies inside the grammars' H range, and how far the predicted law's losses are from the
dataset's measured runs (mean |log(predicted / measured)|, beside the same for its own fit).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from datalaws.atomic import read_json, write_json
from datalaws.compare.predictors import TARGETS, law_targets, middle_compute
from datalaws.laws import PathArg
from datalaws.laws.bootstrap import percentile_interval
from datalaws.laws.chinchilla import log_loss
from datalaws.laws.hlaw import HLawFile, fit_h_law, load_h_law
from datalaws.laws.lawfile import LawFile, finite_or_none, load_law
from datalaws.laws.runs import gzip_h, read_runs_csv
from datalaws.laws.steps import write_csv

FORMAT = "datalaws-transfer-v1"
RATIO_TARGETS = ("E", "A", "B", "tokens_per_param")


def family_h_law(
    runs_csv: PathArg,
    names: Sequence[str],
    law_jsons: Sequence[PathArg],
    out_json: PathArg,
    **options,
) -> None:
    """The H-law fitted on the runs of ``names`` only (e.g. the grammars of a mixed study)."""
    runs = read_runs_csv(runs_csv)
    runs = runs[runs["grammar"].isin(list(names))].reset_index(drop=True)
    thetas = {g: load_law(p).law.theta for g, p in zip(names, law_jsons, strict=True)}
    record = fit_h_law(runs, thetas, **options)
    record["fitted_on"] = list(names)
    write_json(out_json, record)


def _log_loss_error(theta: np.ndarray, runs: pd.DataFrame) -> float:
    """Mean |log(predicted / measured)| of a law over runs."""
    pred = log_loss(theta, np.log(runs["N"].to_numpy(float)), np.log(runs["D"].to_numpy(float)))
    return float(np.mean(np.abs(np.ravel(pred) - np.log(runs["loss"].to_numpy(float)))))


def _interval(samples: np.ndarray, level: float) -> list[float | None]:
    lo, hi = percentile_interval(samples, level)
    return [finite_or_none(lo), finite_or_none(hi)]


def dataset_transfer(
    name: str, h: float, law: LawFile, hlaw: HLawFile, runs: pd.DataFrame, compute: float
) -> dict:
    """One dataset: its fitted law beside the grammar H-law's prediction at its H."""
    level = hlaw.level
    point_pred, boot_pred = hlaw.law_at(h)
    fitted = law_targets(law.law.theta, compute)[0]
    fitted_boot = law_targets(law.samples, compute)
    predicted = law_targets(point_pred, compute)[0]
    predicted_boot = law_targets(boot_pred, compute)
    lo, hi = hlaw.h_range
    params = {}
    for j, target in enumerate(TARGETS):
        entry = {
            "fitted": finite_or_none(fitted[j]),
            "fitted_interval": _interval(fitted_boot[:, j], level),
            "predicted": finite_or_none(predicted[j]),
            "predicted_interval": _interval(predicted_boot[:, j], level),
            "error": finite_or_none(predicted[j] - fitted[j]),
        }
        if target in RATIO_TARGETS:
            entry["ratio"] = finite_or_none(predicted[j] / fitted[j])
        params[target] = entry
    return {
        "H": h,
        "inside_h_range": bool(lo <= h <= hi),
        "params": params,
        "loss_error": {
            "predicted_law": _log_loss_error(point_pred, runs),
            "own_fit": _log_loss_error(law.law.theta, runs),
            "n_runs": len(runs),
        },
    }


def transfer(
    h_law_json: PathArg,
    datasets: Sequence[str],
    law_jsons: Sequence[PathArg],
    gzip_jsons: Sequence[PathArg],
    compress_jsons: Sequence[PathArg],
    runs_csv: PathArg,
    out_json: PathArg,
    out_csv: PathArg,
    *,
    compute: float | None = None,
) -> None:
    """The workflow step: every dataset against the grammar H-law; JSON and a flat table."""
    runs = read_runs_csv(runs_csv)
    compute = compute or middle_compute(runs)
    hlaw = load_h_law(h_law_json)
    hs = gzip_h(gzip_jsons)
    result, rows = {}, []
    for name, h, law_json, comp in zip(datasets, hs, law_jsons, compress_jsons, strict=True):
        mine = runs[runs["grammar"] == name]
        entry = dataset_transfer(name, h, load_law(law_json), hlaw, mine, compute)
        stats = read_json(comp)
        entry["measures"] = {k: v and v["median"] for k, v in stats["measures"].items()}
        entry["kind"] = f"{stats['kind']}/{stats['tokenizer']}"
        result[name] = entry
        row = {"dataset": name, "kind": entry["kind"], "H": h, "inside": entry["inside_h_range"]}
        row |= {f"H_{k}": v for k, v in entry["measures"].items()}
        for target, p in entry["params"].items():
            row |= {f"{target}_fitted": p["fitted"], f"{target}_predicted": p["predicted"]}
            row[f"{target}_error"] = p["error"]
        row["loss_error_predicted"] = entry["loss_error"]["predicted_law"]
        row["loss_error_own_fit"] = entry["loss_error"]["own_fit"]
        rows.append(row)
    write_json(
        out_json,
        {
            "format": FORMAT,
            "h_law": str(h_law_json),
            "h_law_fitted_on": hlaw.record.get("fitted_on", sorted(hlaw.record["grammars"])),
            "H_range": list(hlaw.h_range),
            "compute": compute,
            "ci_level": hlaw.level,
            "datasets": result,
        },
    )
    write_csv(out_csv, pd.DataFrame(rows))
