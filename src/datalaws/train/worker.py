"""One training run from its command line: what every process runs, alone or as a torchrun rank.

``python -m datalaws.train ARGS`` (and ``datalaws train ARGS``) parse the run's arguments, train,
and map how it ended to the exit codes of ``datalaws.train.launch``. The worker lives in the
training stage, not the CLI, so that the launcher, qqt and the GPU check start training without
going back up through ``datalaws.cli``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path
from types import ModuleType

from datalaws.atomic import os_error
from datalaws.train import launch

_HYPER_FLAGS = {
    "lr": float, "batch_size": int, "seed": int, "warmup_frac": float, "weight_decay": float,
    "grad_clip": float, "min_lr_ratio": float, "eval_points": int, "val_sequences": int,
    "precision": str,
}  # fmt: skip
_OPTION_FLAGS = {
    "device": str, "threads": int, "micro_batch": int, "compile": str, "checkpoint_every": int,
    "log_every_s": float, "max_memory_gb": float, "peak_flops": float, "progress": str,
}  # fmt: skip


def _tc() -> ModuleType:
    """datalaws.train.config, imported on use: it pulls in torch, which the launcher avoids."""
    from datalaws.train import config

    return config


def _json_or_file(text: str) -> dict:
    """Inline JSON, or a path to a JSON/YAML file."""
    if text.lstrip().startswith("{"):
        return json.loads(text)
    import yaml

    with open(text, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def train_section(path: str) -> dict:
    """The ``train`` section of a study config file, the part one run is built from."""
    import yaml

    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict) or "train" not in data:
        raise _tc().TrainConfigError(f"{path}: no top-level 'train' section")
    return data["train"]


def add_run_args(p: argparse.ArgumentParser) -> None:
    """Arguments of one run (shared by ``train`` and the workers that ``train-launch`` starts)."""
    p.add_argument("--train", nargs="+", required=True, help="training shards (.bin), in order")
    p.add_argument("--val", required=True, help="validation file (.bin)")
    p.add_argument("--out", required=True, help="run directory (final.json, metrics, ckpt/)")
    what = p.add_argument_group("what to train (a spec, a config file + size, or a shape)")
    what.add_argument("--spec", help="run spec as JSON or a JSON/YAML file (what the rule passes)")
    what.add_argument("--config", help="a study config; its train section gives shape and hyper")
    what.add_argument("--size", help="ladder name within --config")
    what.add_argument("--shape", help="DIM,FFN,LAYERS,HEADS instead of a named size")
    what.add_argument("--budget", type=int, help="tokens to train on (documents x context)")
    what.add_argument("--epochs", type=float, help="passes over a pool of budget/epochs tokens")
    what.add_argument("--unique-tokens", type=int, help="pool size; the budget repeats over it")
    what.add_argument("--grammar", help="label recorded in final.json (default: from the corpus)")
    what.add_argument(
        "--trunk", help="a WSD run starts from this trunk run's checkpoint at its decay start"
    )
    hyper = p.add_argument_group("hyperparameter overrides (enter the config hash)")
    for name, kind in _HYPER_FLAGS.items():
        hyper.add_argument(
            f"--{name.replace('_', '-')}", dest=f"hyper_{name}", type=kind, metavar=name.upper()
        )
    ops = p.add_argument_group("run options (do not change the result)")
    ops.add_argument("--options", help="train.run options as JSON (what the rule passes)")
    for name, kind in _OPTION_FLAGS.items():
        ops.add_argument(
            f"--{name.replace('_', '-')}", dest=f"opt_{name}", type=kind, metavar=name.upper()
        )


def resolve_run(args: argparse.Namespace) -> dict:
    """Turn the arguments into keyword arguments of ``datalaws.train.train``."""
    tc = _tc()
    labels: dict = {}
    wsd, branch_budgets = None, None
    if args.spec:
        spec = _json_or_file(args.spec)
        arch, hyper, budget, unique, labels = tc.parse_spec(spec)
        wsd, branch_budgets = tc.parse_wsd(spec)
    elif args.config and args.size:
        section = train_section(args.config)
        spec = tc.run_spec(section, args.size, args.budget or 0)
        arch, hyper, budget, unique, labels = tc.parse_spec(spec)
        wsd, branch_budgets = tc.parse_wsd(spec)
    elif args.shape:
        dims = [int(x) for x in args.shape.split(",")]
        if len(dims) != 4:
            raise tc.TrainConfigError(f"--shape: expected DIM,FFN,LAYERS,HEADS, got {args.shape}")
        arch, hyper, budget, unique = tc.Arch(*dims), tc.HyperParams(), 0, None
    else:
        raise tc.TrainConfigError("give --spec, or --config with --size, or --shape")
    budget = args.budget or budget
    if not budget:
        raise tc.TrainConfigError("--budget: a token budget is required")
    if args.unique_tokens is not None:
        unique = args.unique_tokens
    elif args.epochs is not None:
        if args.epochs < 1:
            raise tc.TrainConfigError(f"--epochs must be >= 1, got {args.epochs}")
        unique = int(budget / args.epochs)
    overrides = {k: getattr(args, f"hyper_{k}") for k in _HYPER_FLAGS}
    hyper = replace(hyper, **{k: v for k, v in overrides.items() if v is not None})
    options = tc.from_dict(
        tc.RunOptions, json.loads(args.options) if args.options else {}, "--options"
    )
    overrides = {k: getattr(args, f"opt_{k}") for k in _OPTION_FLAGS}
    options = replace(options, **{k: v for k, v in overrides.items() if v is not None})
    if args.grammar:
        labels["grammar"] = args.grammar
    return {
        "train_paths": args.train,
        "val_path": args.val,
        "out_dir": args.out,
        "arch": arch,
        "budget": budget,
        "hyper": hyper,
        "options": options,
        "unique_tokens": unique,
        "labels": labels,
        "wsd": wsd,
        "branch_budgets": branch_budgets,
        "trunk_dir": args.trunk,
    }


def run(args: argparse.Namespace) -> int:
    """``datalaws train``: hold the run's lock, unless torchrun started this process (then the
    launcher above it holds the lock for all ranks)."""
    if "RANK" in os.environ:
        return train_unlocked(args)
    from datalaws.train import runlock

    try:
        with runlock.held(args.out):
            return train_unlocked(args)
    except runlock.RunLocked as err:
        print(f"datalaws train: {err}", file=sys.stderr)
        return launch.EXIT_LOCKED


def train_unlocked(args: argparse.Namespace) -> int:
    """Train one run; a stop on a signal or a divergence becomes the exit code a scheduler reads."""
    from datalaws.train import Preempted, TrainingDiverged, train

    kwargs = resolve_run(args)
    try:
        result = train(**kwargs)
    except Preempted as stop:
        print(f"datalaws train: {stop}; checkpoint saved, rerun to resume", file=sys.stderr)
        return launch.EXIT_PREEMPTED
    except TrainingDiverged as err:
        print(f"datalaws train: diverged: {err}", file=sys.stderr)
        return launch.EXIT_DIVERGED
    if os.environ.get("RANK", "0") == "0":
        print(summary_line(result, Path(args.out)))
    return 0


def summary_line(result: dict, out: Path) -> str:
    """One line on a finished run, or on a WSD trunk (which has kept branches, not a loss)."""
    if "branches" in result:
        return (
            f"trunk: {len(result['branches'])} branch checkpoints up to step {result['steps']}, "
            f"{result['tokens_per_s']:,.0f} tok/s -> {out / 'trunk.json'}"
        )
    return (
        f"train_loss {result['train_loss']:.4f} val_loss {result['val_loss']:.4f} "
        f"{result['tokens_per_s']:,.0f} tok/s -> {out / 'final.json'}"
    )


def main(argv: list[str] | None = None, lock: bool = True) -> int:
    """Entry point of every worker process (``lock=False``: the launcher holds the run's lock).

    User errors give one line and exit code 2, a failed write (disk full) one line and 74.
    """
    parser = argparse.ArgumentParser(prog="datalaws train")
    add_run_args(parser)
    args = parser.parse_args(argv)
    try:
        return run(args) if lock else train_unlocked(args)
    except (ValueError, FileNotFoundError) as err:
        return _fail(args.out, launch.EXIT_BAD_INPUT, str(err))
    except OSError as err:
        return _fail(args.out, launch.EXIT_IO, os_error(err))


def _fail(out: str, code: int, message: str) -> int:
    """Print the one-line error; a torchrun worker also leaves it for the launcher, which would
    otherwise see only torchrun's exit 1 (``launch.run`` maps it back to ``code``)."""
    print(f"datalaws train: error: {message}", file=sys.stderr)
    if "RANK" in os.environ:
        launch.record_failure(Path(out), code, message)
    return code
