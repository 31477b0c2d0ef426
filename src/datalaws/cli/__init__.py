"""The ``datalaws`` command line.

Every module in this package that defines ``register(subparsers)`` contributes subcommands, so a
new stage adds its commands without touching a central list.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from datalaws import __version__
from datalaws.atomic import os_error
from datalaws.train.launch import EXIT_IO


def build_parser() -> argparse.ArgumentParser:
    """Collect the subcommands of every ``datalaws.cli.*`` module into one parser."""
    parser = argparse.ArgumentParser(
        prog="datalaws",
        description="Data-dependent neural scaling laws: grammars, corpora, gzip, training, laws.",
    )
    parser.add_argument("--version", action="version", version=f"datalaws {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; user errors print a one-line message and exit with status 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError) as err:
        print(f"datalaws {args.command}: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"datalaws {args.command}: error: {os_error(err)}", file=sys.stderr)
        return EXIT_IO


if __name__ == "__main__":
    sys.exit(main())
