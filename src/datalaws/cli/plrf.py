"""PLRF theory commands: the deterministic-equivalent loss curve, compute-optimal exponents."""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time

import numpy as np

from datalaws import atomic
from datalaws.plrf import compute_optimal as co
from datalaws.plrf import theory
from datalaws.plrf.deterministic import loss_curve
from datalaws.plrf.experiments import clean
from datalaws.plrf.model import PLRF, PLRFError
from datalaws.plrf.resolvent import AsymptoticSpectrum
from datalaws.plrf.spectrum import ExactSpectrum


def _problem(args: argparse.Namespace) -> PLRF:
    if args.v is not None:
        return PLRF(args.alpha, args.beta, args.v, args.d)
    return PLRF.with_ratio(args.alpha, args.beta, args.d, args.v_ratio)


def cmd_curve(args: argparse.Namespace) -> int:
    problem = _problem(args)
    if args.batch < 1:
        raise PLRFError(f"--batch must be >= 1, got {args.batch}")
    if args.points < 2:
        raise PLRFError(f"--points must be >= 2, got {args.points}")
    max_steps = int(args.flops // (args.batch * args.d))
    if max_steps < 1:
        raise PLRFError(
            f"--flops {args.flops:g} buys no SGD step at d={args.d}, batch={args.batch} "
            f"(one step costs batch x d = {args.batch * args.d} flops)"
        )
    steps = np.unique(np.concatenate([[0], np.geomspace(1, max_steps, args.points).round()]))
    spectrum = (
        ExactSpectrum.from_seed(problem, args.exact_seed)
        if args.exact_seed is not None
        else AsymptoticSpectrum(problem)
    )
    gamma = problem.step(args.step_scale)
    losses = loss_curve(spectrum, gamma, args.batch, steps.astype(np.int64))
    rows = [["step", "flops", "loss"]] + [
        [int(s), int(s) * args.batch * args.d, repr(float(p))]
        for s, p in zip(steps, losses, strict=True)
    ]
    if args.output:
        with atomic.atomic_open(args.output) as handle:
            handle.write("".join(",".join(map(str, r)) + "\n" for r in rows).encode())
    else:
        csv.writer(sys.stdout, lineterminator="\n").writerows(rows)
    return 0


def cmd_exponents(args: argparse.Namespace) -> int:
    theo = theory.exponents(args.alpha, args.beta)
    if args.d_min < 2 or args.d_max <= args.d_min:
        raise PLRFError(f"need 2 <= --d-min < --d-max, got {args.d_min}, {args.d_max}")
    start = time.perf_counter()
    grid = co.loss_grid(
        args.alpha,
        args.beta,
        co.d_grid(args.d_min, args.d_max, args.d_per_octave),
        co.flops_grid(args.f_min, args.f_max, args.f_per_decade),
        batch=args.batch,
        step_scale=args.step_scale,
        v_ratio=args.v_ratio,
    )
    seconds = time.perf_counter() - start
    window = tuple(args.window) if args.window else co.interior_window(grid)
    result = clean(
        {
            "alpha": args.alpha,
            "beta": args.beta,
            "theory": theo.as_dict(),
            "measured": {
                "envelope": co.approach1(grid, window),
                "isoflop": co.approach2(grid, window),
            },
            "f_window": window,
            "f_window_rule": "given by --window" if args.window else "interior of the envelope",
            "grid": {
                "d": [int(grid.ds.min()), int(grid.ds.max()), int(grid.ds.size)],
                "f": [float(grid.fs.min()), float(grid.fs.max()), int(grid.fs.size)],
                "batch": args.batch,
                "step_scale": args.step_scale,
                "v_ratio": args.v_ratio,
                "method": "W-free deterministic equivalent",
            },
            "seconds": seconds,
        }
    )
    text = json.dumps(result, indent=2, sort_keys=True, allow_nan=False)
    if args.output:
        atomic.write_text(args.output, text + "\n")
    print(text)
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--alpha", type=float, required=True, help="data exponent (> 0)")
    p.add_argument("--beta", type=float, required=True, help="target exponent")
    p.add_argument("--batch", type=int, default=1, help="SGD batch size B (default 1)")
    p.add_argument(
        "--step-scale",
        type=float,
        default=0.75,
        help="step gamma = step_scale / sum_j j^(-2 alpha) (default 0.75, the authors')",
    )
    p.add_argument("--v-ratio", type=float, default=10.0, help="v = v_ratio * d (default 10)")
    p.add_argument("-o", "--output", help="also write the result to this file")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plrf",
        help="power-law random features theory (4+3 phases)",
        description="Compute-optimal scaling of one-pass SGD on power-law random features.",
    )
    sub = parser.add_subparsers(dest="plrf_command", required=True, metavar="SUBCOMMAND")

    curve = sub.add_parser(
        "curve",
        help="deterministic-equivalent expected loss curve as CSV",
        description="Expected loss of one-pass SGD at log-spaced steps up to --flops, from the "
        "Volterra equation (W-free deterministic equivalent, or the exact one for the W drawn "
        "from --exact-seed). Columns: step, flops = step x batch x d, loss (no factor 1/2).",
    )
    _common(curve)
    curve.add_argument("--d", type=int, required=True, help="number of features d")
    curve.add_argument("--flops", type=float, required=True, help="largest compute budget f")
    curve.add_argument("--v", type=int, help="input dimension (overrides --v-ratio)")
    curve.add_argument("--points", type=int, default=60, help="log-spaced steps (default 60)")
    curve.add_argument(
        "--exact-seed",
        type=int,
        help="use the exact equivalent for the features W drawn from this seed",
    )
    curve.set_defaults(func=cmd_curve)

    expo = sub.add_parser(
        "exponents",
        help="measured and theoretical eta and xi as JSON",
        description="Fit P*(f) ~ f^-eta and d*(f) ~ f^xi on a deterministic-equivalent loss grid "
        "by Approach 1 (envelope) and 2 (IsoFLOP), beside the theory's exponents and phase.",
    )
    _common(expo)
    expo.add_argument("--d-min", type=int, default=200, help="smallest d (default 200)")
    expo.add_argument("--d-max", type=int, default=12800, help="largest d (default 12800)")
    expo.add_argument("--d-per-octave", type=int, default=4, help="d grid density (default 4)")
    expo.add_argument("--f-min", type=float, default=1e4, help="smallest compute (default 1e4)")
    expo.add_argument("--f-max", type=float, default=1e10, help="largest compute (default 1e10)")
    expo.add_argument("--f-per-decade", type=int, default=20, help="f grid density (default 20)")
    expo.add_argument(
        "--window",
        type=float,
        nargs=2,
        metavar=("F_LO", "F_HI"),
        help="fit only compute budgets in [F_LO, F_HI] (default: envelope interior)",
    )
    expo.set_defaults(func=cmd_exponents)
