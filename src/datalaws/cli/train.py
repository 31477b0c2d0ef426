"""``datalaws train`` (one run, in this process or in each torchrun rank), ``train-launch`` (start
a run on the processes its resources call for), ``train-plan`` (those resources), ``train-eval``."""

from __future__ import annotations

import argparse
import json

from datalaws.train import launch, worker


def cmd_plan(args: argparse.Namespace) -> int:
    from datalaws.train import config as tc
    from datalaws.train.resources import ResourceConfig, plan

    section = worker.train_section(args.config)
    spec = tc.run_spec(section, args.size, args.budget)
    arch, hyper, budget, _, _ = tc.parse_spec(spec)
    rc = tc.from_dict(ResourceConfig, section.get("resources"), "train.resources")
    resources = plan(arch.model(args.vocab_size, args.context), budget, hyper, rc)
    print(json.dumps(resources, indent=2))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from datalaws.train import evaluate

    result = evaluate(args.run, args.val, sequences=args.sequences, device=args.device)
    print(json.dumps(result, indent=2))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train",
        help="train one model (one process, or every rank under torchrun)",
        description="Train one Llama-style model on token shards; writes metrics.jsonl, ckpt/ "
        f"and, last, final.json. Exit codes: 0 done, 2 bad input, {launch.EXIT_DIVERGED} "
        f"diverged, {launch.EXIT_LOCKED} another live job trains --out, {launch.EXIT_IO} a "
        f"write failed (disk full), {launch.EXIT_PREEMPTED} stopped by SIGTERM, SIGUSR1 or "
        "SIGURG after a checkpoint (SLURM sends SIGURG before the time limit).",
    )
    worker.add_run_args(p)
    p.set_defaults(func=worker.run)

    p = subparsers.add_parser(
        "train-launch",
        help="start a training run on the processes its resources call for",
        description="Start `datalaws train` as one process, under torchrun, or under srun + "
        "torchrun, from the resources; forward SIGTERM/SIGUSR1/SIGINT (SLURM signals every rank "
        "itself) and map exit codes. Arguments "
        "after `--` go to `datalaws train`.",
    )
    launch.add_launch_args(p)
    p.set_defaults(func=launch.launch_from_args)

    p = subparsers.add_parser("train-plan", help="print the resources one run would request")
    p.add_argument("--config", required=True, help="study config with a train section")
    p.add_argument("--size", required=True)
    p.add_argument("--budget", type=int, required=True)
    p.add_argument("--vocab-size", type=int, required=True)
    p.add_argument("--context", type=int, default=256)
    p.set_defaults(func=cmd_plan)

    p = subparsers.add_parser("train-eval", help="validation loss of a finished run on a file")
    p.add_argument("run", help="run directory with final.json and ckpt/final")
    p.add_argument("val", help="a corpus .bin file with the same vocabulary")
    p.add_argument("--sequences", type=int, default=0, help="documents to score (0: all)")
    p.add_argument("--device", default="auto")
    p.set_defaults(func=cmd_eval)
