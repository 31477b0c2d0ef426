"""``datalaws fit | frontier | predict``: scaling laws from anyone's runs."""

from __future__ import annotations

import argparse
import math
import time

from datalaws.atomic import write_json

DEFAULT_H_LAW = "results/laws/h_law.json"


def cmd_fit(args: argparse.Namespace) -> int:
    from datalaws.laws.lawfile import fit_law, format_law
    from datalaws.laws.runs import read_runs_csv

    start = time.perf_counter()
    runs = read_runs_csv(args.runs)
    record = fit_law(runs, n_resamples=args.bootstrap, seed=args.seed, level=args.level)
    record["source"] = str(args.runs)
    write_json(args.output, record)
    elapsed = time.perf_counter() - start
    print(f"law fitted to {record['n_runs']} runs from {args.runs} -> {args.output}")
    print(format_law(record))
    print(f"wall time {elapsed:.1f} s ({args.bootstrap} bootstrap resamples)")
    return 0


def cmd_frontier(args: argparse.Namespace) -> int:
    from datalaws.laws.frontier import allocation_table, flag_extrapolation, format_allocation
    from datalaws.laws.lawfile import finite_or_none, load_law
    from datalaws.laws.validity import box_of, refuse_unphysical

    law = load_law(args.law)
    box = box_of(law.record)
    refuse_unphysical(law.record["params"], box, f"{args.law}")
    rows = allocation_table(law.law.theta, law.samples, args.compute, law.level)
    rows = [{k: finite_or_none(v) for k, v in r.items()} for r in rows]
    warnings = flag_extrapolation(rows, box)
    print("\n".join([box.describe(), *warnings, format_allocation(rows, law.level)]))
    if args.json:
        record = {"law": str(args.law), "ci_level": law.level, "allocations": rows}
        write_json(args.json, record | {"fitted": box.describe(), "warnings": warnings})
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from datalaws.laws.predict import format_prediction, measure_h, predict

    if args.h is not None:
        h, measurement = args.h, None
    else:
        h, measurement = measure_h(args.data, args.seed, args.context, args.encoding_errors)
    result = predict(args.law, h, args.compute, measurement)
    print(format_prediction(result))
    if args.json:
        write_json(args.json, result)
    return 0


def cmd_design(args: argparse.Namespace) -> int:
    import json

    from datalaws.laws import design
    from datalaws.laws.lawfile import load_law
    from datalaws.train.config import ladder
    from datalaws.train.shape import count_parameters

    laws = [load_law(path).law for path in args.laws]
    section = _train_config(args.config)
    n = {
        name: count_parameters(arch.model(args.vocab, args.context))["nonembedding"]
        for name, arch in ladder(section).items()
    }
    with open(args.throughput, encoding="utf-8") as handle:
        throughput = {k: float(v) for k, v in json.load(handle).items() if k in n}
    missing = sorted(set(n) - set(throughput))
    if missing:
        raise ValueError(f"{args.throughput}: no measured throughput for sizes {missing}")
    budget_lists = [
        [lo * 2**k for k in range(round(math.log2(hi / lo)) + 1)]
        for lo in args.d_min
        for hi in args.d_max
        if hi > lo
    ]
    grids = design.candidates(n, budget_lists, args.min_sizes, args.min_n_span, args.min_d_span)
    cooldown = None if args.cosine else args.cooldown
    cost = {
        c: args.grammars * design.core_seconds(c, throughput, cooldown, args.overhead_s)
        for c in grids
    }
    rows = design.rank(
        laws, grids, args.noise, cost, 60 * args.minutes * args.cores, args.draws, args.seed
    )
    print(design.format_ranking(rows, args.cores, args.top))
    write_json(args.output, {"inputs": vars(args) | {"func": None}, "candidates": rows})
    return 0


def _train_config(path: str) -> dict:
    import yaml

    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)["train"]


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "fit",
        help="fit L = E + A/N^alpha + B/D^beta to runs, with bootstrap intervals",
        description="Chinchilla Approach-3 fit (log-sum-exp form, Huber 1e-3 on log residuals, "
        "L-BFGS from a 4500-point grid) of a CSV with columns N, D, loss (others ignored), with "
        "percentile intervals from a bootstrap over runs.",
    )
    p.add_argument("runs", help="CSV with columns N (parameters), D (tokens), loss (nats/token)")
    p.add_argument("-o", "--output", required=True, help="law JSON to write")
    p.add_argument("--bootstrap", type=int, default=1000, help="resamples (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--level", type=float, default=0.95, help="interval level (default 0.95)")
    p.set_defaults(func=cmd_fit)

    p = subparsers.add_parser(
        "frontier",
        help="compute-optimal N, D and tokens per parameter under a fitted law",
        description="N_opt, D_opt = C/(6 N_opt) and D_opt/N_opt at compute C, with the law's "
        "bootstrap intervals.",
    )
    p.add_argument("law", help="law JSON written by 'datalaws fit' or the workflow")
    p.add_argument(
        "--compute", type=_positive_float, nargs="+", required=True, help="FLOPs (C = 6 N D)"
    )
    p.add_argument("--json", help="also write the allocations to this JSON file")
    p.set_defaults(func=cmd_frontier)

    p = subparsers.add_parser(
        "predict",
        help="predict a dataset's law and compute-optimal allocation from its gzip ratio H",
        description="Measure the dataset's gzip compressibility H on the law's scale (4-byte "
        "token ids, 1000 sequences; text is tokenised at the byte level as the study's byte-level "
        "datasets are) and evaluate the H-conditioned law at it: law parameters and "
        "compute-optimal allocation with intervals. Says which family of sources the law was "
        "fitted on and its H range, and warns when H lies outside it or the data is of a kind the "
        "law was not fitted on.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "data", nargs="?", help="token shard (.bin with sidecar), or a text file or folder"
    )
    src.add_argument("--h", type=_positive_float, help="use this H instead of measuring DATA")
    p.add_argument(
        "--compute", type=_positive_float, nargs="+", required=True, help="FLOPs (C = 6 N D)"
    )
    p.add_argument(
        "--law", default=DEFAULT_H_LAW, help=f"H-conditioned law JSON (default {DEFAULT_H_LAW})"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the gzip sample (default 0)")
    p.add_argument(
        "--context",
        type=int,
        default=256,
        help="sequence length text is packed into; use the study's context (default 256)",
    )
    p.add_argument(
        "--encoding-errors",
        choices=["strict", "replace"],
        default="strict",
        help="invalid UTF-8 in text: refuse (default) or replace with U+FFFD",
    )
    p.add_argument("--json", help="also write the prediction to this JSON file")
    p.set_defaults(func=cmd_predict)

    p = subparsers.add_parser(
        "design",
        help="choose a grid of sizes and budgets by simulation, before training it",
        description="Score candidate grids (consecutive ladder sizes x doubling budgets) by "
        "simulating studies from plausible laws with measured run-to-run noise: the width of the "
        "N_opt exponent's 95%% interval, the held-out error on the largest size, the IsoFLOP "
        "levels, and the cost from measured throughput (datalaws.laws.design).",
    )
    p.add_argument("laws", nargs="+", help="plausible laws (law JSON from 'datalaws fit')")
    p.add_argument("--config", required=True, help="study config whose train.ladder to choose from")
    p.add_argument("--vocab", type=int, required=True, help="vocabulary (for non-embedding N)")
    p.add_argument("--context", type=int, default=256)
    p.add_argument("--throughput", required=True, help="JSON: size -> tokens/s on one core")
    p.add_argument("--noise", type=_positive_float, required=True, help="std of log loss (seeds)")
    p.add_argument("--d-min", type=int, nargs="+", required=True, help="smallest budgets to try")
    p.add_argument("--d-max", type=int, nargs="+", required=True, help="largest budgets to try")
    p.add_argument("--grammars", type=int, default=1, help="grammars trained on the grid")
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--minutes", type=_positive_float, required=True, help="wall-time limit")
    p.add_argument("--cooldown", type=float, default=0.2, help="WSD cooldown share")
    p.add_argument("--cosine", action="store_true", help="cost cosine runs instead of WSD")
    p.add_argument("--overhead-s", type=float, default=5.0, help="start-up per job (s)")
    p.add_argument("--min-sizes", type=int, default=5)
    p.add_argument("--min-n-span", type=float, default=100.0)
    p.add_argument("--min-d-span", type=float, default=30.0)
    p.add_argument("--draws", type=int, default=100, help="simulated studies per candidate")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--top", type=int, default=10, help="rows to print")
    p.add_argument("-o", "--output", required=True, help="JSON with every candidate's scores")
    p.set_defaults(func=cmd_design)
