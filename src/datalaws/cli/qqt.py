"""Data-filtering commands: fit the repetition law per bucket, predict mixtures, check them; and
the study that makes the runs (pool, scores, buckets, training per pool, collection)."""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
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


def cmd_fit(args: argparse.Namespace) -> int:
    config = FitConfig(
        loss=args.loss,
        f_scale=args.f_scale,
        n_boot=args.n_boot,
        resample=args.resample,
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


def cmd_predict(args: argparse.Namespace) -> int:
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


def cmd_compare(args: argparse.Namespace) -> int:
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


def cmd_pool(args: argparse.Namespace) -> int:
    from datalaws.grammar import load_grammar
    from datalaws.qqt.pool import Corruption, PoolSpec, write_pool

    spec = PoolSpec(
        documents=args.documents,
        reference_documents=args.reference_documents,
        clean_documents=args.clean_documents,
        context=args.context,
        seed=args.seed,
        corruption=Corruption(args.alpha, args.beta, args.max_rate),
    )
    out = {"pool": args.output, "reference": args.reference, "oracle": args.oracle}
    if args.clean_documents:
        if not args.clean:
            raise ValueError("--clean: a path is required when --clean-documents > 0")
        out["clean"] = args.clean
    meta = write_pool(load_grammar(args.grammar), args.name, spec, out)
    print(f"pool: {meta['n_sequences']} documents -> {args.output}")
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from datalaws.corpus import TokenShards
    from datalaws.qqt.scoring import score_pool, scorer_report

    pool = TokenShards([args.pool])
    scores = score_pool(pool.read(np.arange(pool.n_sequences)), args.reference_run)
    report = scorer_report(scores, pd.read_csv(args.oracle), args.fraction)
    atomic.write_text(args.output, scores.to_csv(index=False))
    atomic.write_json(args.report, report)
    for name, entry in report["scorers"].items():
        print(
            f"{name:>15}: Spearman with the corruption rate {entry['spearman_with_rate']:+.3f}, "
            f"mean rate of its best {args.fraction:g}: {entry['top_fraction_mean_rate']:.4f} "
            f"(pool {report['pool_mean_rate']:.4f})"
        )
    return 0


def cmd_buckets(args: argparse.Namespace) -> int:
    from datalaws.qqt.buckets import pools, write_pools

    scores = pd.read_csv(args.scores)
    if args.scorer not in scores.columns:
        raise ValueError(f"--scorer: {args.scorer!r} is not a column of {args.scores}")
    mixtures = [int(k) for k in _list(args.mixtures) or []]
    score = scores[args.scorer].to_numpy()
    members = pools(score, args.fraction, args.buckets, mixtures, args.seed)
    paths = write_pools(args.pool, members, args.out_dir, args.seed)
    summary = {"scorer": args.scorer, "fraction": args.fraction, "pools": {}}
    oracle = pd.read_csv(args.oracle)["rate"].to_numpy() if args.oracle else None
    for name, idx in members.items():
        entry = {"path": paths[name], "documents": len(idx)}
        if oracle is not None:
            entry["oracle_mean_rate"] = float(oracle[idx].mean())
        summary["pools"][name] = entry
        rate = f"  mean oracle rate {entry['oracle_mean_rate']:.4f}" if oracle is not None else ""
        print(f"{name:>10}: {len(idx)} documents{rate}")
    atomic.write_json(args.report, summary)
    return 0


def cmd_train_pool(args: argparse.Namespace) -> int:
    from datalaws.qqt.study import train_pool

    specs = json.loads(args.specs)
    if not isinstance(specs, list) or not specs:
        raise ValueError("--specs: a non-empty JSON list of training specs")
    resources = {
        "nodes": args.nodes,
        "gpu": args.gpus,
        "procs_per_node": args.procs_per_node,
        "cpus_per_task": args.cpus,
    }
    return train_pool(
        args.name, specs, args.pool, args.val, args.runs_dir, resources, args.options, args.output
    )


def cmd_collect(args: argparse.Namespace) -> int:
    from datalaws.qqt.study import collect

    table = collect(args.tables)
    atomic.write_text(args.output, table.to_csv(index=False))
    print(f"{len(table)} runs of {table['bucket'].nunique()} pools -> {args.output}")
    return 0


def _register_study(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "pool",
        help="unfiltered pool with per-document corruption, plus clean samples",
        description="Sample documents from a grammar and overwrite a fraction r ~ Beta(alpha, "
        "beta) (clipped to --max-rate) of each one's tokens with uniform random terminals. Also "
        "writes a clean sample for the reference model, optionally a clean anchor sample, and "
        "the oracle rates (CSV), which scorers never see.",
    )
    p.add_argument("grammar", help="grammar JSON (datalaws grammar)")
    p.add_argument("--name", required=True, help="grammar name, recorded in the sidecars")
    p.add_argument("--documents", type=int, required=True, help="documents in the pool")
    p.add_argument("--reference-documents", type=int, required=True)
    p.add_argument("--clean-documents", type=int, default=0, help="clean anchor documents")
    p.add_argument("--context", type=int, default=256, help="tokens per document")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--alpha", type=float, default=0.7, help="Beta alpha of the rate (0.7)")
    p.add_argument("--beta", type=float, default=2.5, help="Beta beta of the rate (2.5)")
    p.add_argument("--max-rate", type=float, default=0.9, help="rates are clipped here (0.9)")
    p.add_argument("-o", "--output", required=True, help="pool token file (.bin)")
    p.add_argument("--reference", required=True, help="clean reference sample (.bin)")
    p.add_argument("--clean", help="clean anchor sample (.bin)")
    p.add_argument("--oracle", required=True, help="CSV of per-document corruption rates")
    p.set_defaults(func=cmd_pool)

    p = sub.add_parser(
        "score",
        help="gzip and reference-model scores of every pool document",
        description="Score each document (higher = worse) by its gzip ratio and by its mean "
        "token loss under a reference run; report each scorer's Spearman correlation with the "
        "oracle corruption rate.",
    )
    p.add_argument("pool", help="pool token file")
    p.add_argument("--reference-run", required=True, help="run directory of the reference model")
    p.add_argument("--oracle", required=True, help="oracle CSV from `datalaws qqt pool`")
    p.add_argument("--fraction", type=float, default=0.1, help="share reported as 'best'")
    p.add_argument("-o", "--output", required=True, help="scores CSV")
    p.add_argument("--report", required=True, help="JSON with the correlations")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser(
        "buckets",
        help="equal-size buckets by score percentile, a random control, top-k mixtures",
        description="Cut the pool into the best buckets by one score (lower = better), draw a "
        "random control, take unions of the top-k buckets, and write each as a token file in "
        "shuffled order.",
    )
    p.add_argument("pool", help="pool token file")
    p.add_argument("scores", help="scores CSV from `datalaws qqt score`")
    p.add_argument("--scorer", default="reference_loss", help="score column (reference_loss)")
    p.add_argument("--fraction", type=float, default=0.1, help="bucket share of the pool")
    p.add_argument("--buckets", type=int, default=4, help="number of best buckets (4)")
    p.add_argument("--mixtures", help="top-k mixtures to write, e.g. 2,3,4")
    p.add_argument("--seed", type=int, required=True, help="control draw and file order")
    p.add_argument("--oracle", help="oracle CSV, only to report each bucket's mean rate")
    p.add_argument("--out-dir", required=True, help="folder for <pool>.bin files")
    p.add_argument("--report", required=True, help="JSON summary of the pools")
    p.set_defaults(func=cmd_buckets)

    p = sub.add_parser(
        "train-pool",
        help="train one pool at several budgets through datalaws train-launch",
        description="Train every run of one pool, one after another, each through `datalaws "
        "train-launch` (one process, torchrun or srun + torchrun, as the resources say), then "
        "write the pool's rows of the runs CSV. Exit codes as train-launch (75: preempted, "
        "rerun to resume; finished runs are not retrained).",
    )
    p.add_argument("name", help="pool name (the runs CSV's bucket column)")
    p.add_argument("--pool", required=True, help="pool token file")
    p.add_argument("--val", required=True, help="clean validation file")
    p.add_argument("--specs", required=True, help="JSON list of training specs")
    p.add_argument("--options", default="{}", help="train.run options as JSON")
    p.add_argument("--runs-dir", required=True, help="one run directory per budget below it")
    p.add_argument("--nodes", type=int, default=1)
    p.add_argument("--gpus", type=int, default=0)
    p.add_argument("--procs-per-node", type=int, default=1)
    p.add_argument("--cpus", type=int, default=0)
    p.add_argument("-o", "--output", required=True, help="the pool's runs CSV")
    p.set_defaults(func=cmd_train_pool)

    p = sub.add_parser("collect", help="concatenate per-pool runs CSVs, in the order given")
    p.add_argument("tables", nargs="+", help="per-pool runs CSVs, best bucket first")
    p.add_argument("-o", "--output", required=True, help="runs CSV")
    p.set_defaults(func=cmd_collect)


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
    p.add_argument(
        "--resample",
        choices=("runs", "residuals"),
        default="runs",
        help="bootstrap over runs (default) or over each bucket's log residuals (few runs)",
    )
    p.add_argument("--level", type=float, default=0.95, help="interval level (default 0.95)")
    p.add_argument("--loss", default="soft_l1", help="least_squares loss (default soft_l1)")
    p.add_argument("--f-scale", type=float, default=0.01, help="robust loss scale in log loss")
    p.add_argument("--order", help="bucket names best first (default: order in the CSV)")
    p.add_argument(
        "--control", default="random", help="control buckets left out of top-k (default random)"
    )
    p.add_argument("--fraction", type=float, help="each bucket's share of the unfiltered pool")
    p.set_defaults(func=cmd_fit)

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
    p.set_defaults(func=cmd_predict)

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
    p.set_defaults(func=cmd_compare)

    _register_study(sub)
