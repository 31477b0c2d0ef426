"""``datalaws check-config``: a study config checked the way the workflow will check it."""

from __future__ import annotations

import argparse


def cmd_check(args: argparse.Namespace) -> int:
    from snakemake.utils import update_config

    from datalaws.config import load_yaml, validate_config

    config: dict = {}
    for path in args.configs:
        update_config(config, load_yaml(path))
    validate_config(config)
    counts = f"{len(config['grammars'])} grammars, {len(config.get('datasets') or [])} datasets"
    print(f"{' + '.join(args.configs)}: valid ({counts})")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "check-config",
        help="check a study config (YAML syntax with line numbers, schema, cross-key rules)",
        description="Read the config files in order, merged as Snakemake merges --configfile "
        "arguments, and check them as the workflow does before any job starts. A YAML syntax "
        "error names the file, line and column; each schema problem is one line with its key.",
    )
    p.add_argument("configs", nargs="+", help="YAML config files, later ones override earlier")
    p.set_defaults(func=cmd_check)
