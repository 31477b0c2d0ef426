"""Data-filtering commands: fit the repetition law per bucket, predict mixtures, check them."""

from __future__ import annotations

import argparse
import json
import sys

import pandas as pd

from datalaws import atomic
from datalaws.qqt.decision import best_per_budget, compare_measured, loosens_with_compute
from datalaws.qqt.decision import predict_table as make_table
from datalaws.qqt.fit import FitConfig, fit_runs
from datalaws.qqt.mixture import mixtures
from datalaws.qqt.params import read_pools
from datalaws.qqt.runs import read_runs


def _list(text: str | None) -> list[str] | None:
    if text is None:
        return None
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise ValueError(f"expected a comma-separated list, got {text!r}")
    return items


def _budgets(text: str) -> list[float]:
    try:
        return [float(item) for item in _list(text) or []]
    except ValueError as err:
        raise ValueError(f"--budgets: numbers of samples seen, e.g. 1e5,4e5 ({err})") from err


def _records(frame: pd.DataFrame) -> list[dict]:
    return json.loads(frame.to_json(orient="records"))


def _fit(args: argparse.Namespace) -> int:
    config = FitConfig(
        loss=args.loss,
        f_scale=args.f_scale,
        n_boot=args.n_boot,
        seed=args.seed,
        share=tuple(_list(args.share) or ()),
        level=args.level,
    )
    runs = read_runs(args.runs)
    controls = [name for name in _list(args.control) or [] if name in set(runs["bucket"])]
    result = fit_runs(
        runs, config, order=_list(args.order), controls=controls, fraction=args.fraction
    )
    atomic.write_json(args.output, result.to_obj())
    for fit in result.buckets:
        pool, ci = fit.pool, fit.interval(config.level)
        span = " ".join(f"{k}[{ci[k][0]:.4g},{ci[k][1]:.4g}]" for k in ("b", "tau")) if ci else ""
        flag = f" at bound: {','.join(fit.at_bound)}" if fit.at_bound else ""
        print(
            f"{pool.name:>12}  a={pool.a:.4g} b={pool.b:.4f} d={pool.d:.4f} tau={pool.tau:.3f}"
            f"  rmse(log)={fit.rmse_log:.4f}  {span}{flag}"
        )
    print(
        f"fitted {len(result.buckets)} buckets, bootstrap {result.boot_ok} ok / "
        f"{result.boot_failed} failed, {result.seconds:.2f} s -> {args.output}",
        file=sys.stderr,
    )
    return 0


def _predict(args: argparse.Namespace) -> int:
    budgets = _budgets(args.budgets)
    pools = read_pools(args.params)
    mixes = mixtures(_list(args.mix), pools, args.pool_size, weight_by_size=args.weight_by_size)
    table = make_table(mixes, budgets)
    best = best_per_budget(table)
    verdict, why = loosens_with_compute(best)
    wide = table.pivot(index="mixture", columns="budget", values="loss")
    print(wide.loc[[m.name for m in mixes]].to_string(float_format=lambda x: f"{x:.4f}"))
    print(
        "best:", ", ".join(f"{b:g}->{m}" for b, m in zip(best["budget"], best["best"], strict=True))
    )
    print(why)
    if args.output:
        atomic.write_json(
            args.output,
            {
                "format": "datalaws-qqt-predict-v1",
                "params": str(args.params),
                "mixtures": {m.name: [p.name for p in m.pools] for m in mixes},
                "predictions": _records(table),
                "best": _records(best),
                "loosens_with_compute": verdict,
                "verdict": why,
            },
        )
    if args.csv:
        atomic.write_text(args.csv, table.to_csv(index=False))
    return 0


def _compare(args: argparse.Namespace) -> int:
    pools = read_pools(args.params)
    runs = read_runs(args.runs, min_distinct=1)
    names = list(dict.fromkeys(runs["bucket"]))
    mixes = mixtures(names, pools, args.pool_size, weight_by_size=args.weight_by_size)
    table = compare_measured(mixes, runs)
    print(table.to_string(index=False, float_format=lambda x: f"{x:.4f}"))
    mae = table["error"].abs().mean()
    print(f"mean |predicted - measured| = {mae:.4f} nats over {len(table)} runs", file=sys.stderr)
    atomic.write_text(args.output, table.to_csv(index=False))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    qqt = subparsers.add_parser(
        "qqt",
        help="data filtering: repetition law per bucket, mixtures, best level per budget",
        description="Quality-quantity trade-off (Goyal et al. 2024): fit the repetition law per "
        "bucket, predict mixtures of buckets without training on them, pick the best filtering "
        "level per budget.",
    )
    sub = qqt.add_subparsers(dest="qqt_command", required=True, metavar="SUBCOMMAND")

    p = sub.add_parser(
        "fit",
        help="fit (a, b, d, tau) per bucket with bootstrap intervals",
        description="Fit the repetition law per bucket: multi-start grid plus bounded "
        "least squares on log loss, bootstrap over runs. CSV columns: bucket, samples_seen, "
        "epochs, unique_samples, loss.",
    )
    p.add_argument("runs", help="runs CSV")
    p.add_argument("-o", "--output", required=True, help="parameters JSON to write")
    p.add_argument("--share", help="parameters tied across buckets: a, d or a,d (default none)")
    p.add_argument("--n-boot", type=int, default=200, help="bootstrap resamples (default 200)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p.add_argument("--level", type=float, default=0.95, help="interval level (default 0.95)")
    p.add_argument("--loss", default="soft_l1", help="least_squares loss (default soft_l1)")
    p.add_argument("--f-scale", type=float, default=0.01, help="robust loss scale in log loss")
    p.add_argument("--order", help="bucket names best first (default: order in the CSV)")
    p.add_argument(
        "--control", default="random", help="control buckets left out of top-k (default random)"
    )
    p.add_argument("--fraction", type=float, help="each bucket's share of the unfiltered pool")
    p.set_defaults(func=_fit)

    p = sub.add_parser(
        "predict",
        help="predict mixture losses per budget and the best mixture",
        description="Predict the loss of top-k mixtures (or named ones) at each budget with the "
        "mixture theorem, and the best mixture per budget. PARAMS: a JSON list of buckets with "
        "a, b, d, tau (or this package's fit output), best bucket first.",
    )
    p.add_argument("params", help="parameters JSON")
    p.add_argument("--pool-size", type=float, help="unique samples per bucket (equal pools)")
    p.add_argument("--budgets", required=True, help="samples seen, comma-separated")
    p.add_argument("--mix", help="mixtures: topK or NAME+NAME, comma-separated (default all topK)")
    p.add_argument(
        "--weight-by-size",
        action="store_true",
        help="allow pools of unequal size, weighting each by its share of samples",
    )
    p.add_argument("-o", "--output", help="JSON with predictions and best mixture per budget")
    p.add_argument("--csv", help="long table of predictions as CSV")
    p.set_defaults(func=_predict)

    p = sub.add_parser(
        "compare",
        help="predicted against measured loss of trained mixtures",
        description="For runs trained on mixtures (bucket column = mixture name, e.g. top2), "
        "compare measured loss with the theorem's prediction from the buckets' parameters.",
    )
    p.add_argument("params", help="parameters JSON")
    p.add_argument("runs", help="runs CSV of mixtures")
    p.add_argument("-o", "--output", required=True, help="CSV to write")
    p.add_argument("--pool-size", type=float, help="unique samples per bucket (equal pools)")
    p.add_argument("--weight-by-size", action="store_true", help="see predict")
    p.set_defaults(func=_compare)
