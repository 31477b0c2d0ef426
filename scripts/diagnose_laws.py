"""Refit a study's runs under the choices that can make a law fail to extrapolate.

For each runs table (results/laws/<grammar>/runs.csv of any study), the law is refitted with N as
total instead of non-embedding parameters, with the final training loss instead of the validation
loss, and without the smallest one or two budgets (early runs that may not be in the scaling
regime); each variant gets its held-out error on the largest size and its fit quality:

    .venv/bin/python scripts/diagnose_laws.py studies/cpu/results/laws/*/runs.csv \
        [--bootstrap 100] [-o diagnosis.csv]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from datalaws.laws.diagnostics import compare_choices
from datalaws.laws.runs import read_runs_csv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="runs.csv files, one per grammar")
    parser.add_argument("--bootstrap", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--output", help="write the table as CSV")
    args = parser.parse_args()
    tables = []
    for path in args.runs:
        table = compare_choices(read_runs_csv(path), args.bootstrap, args.seed)
        tables.append(table.assign(grammar=Path(path).parent.name))
    out = pd.concat(tables, ignore_index=True)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(out.round(4).to_string(index=False))
    if args.output:
        out.to_csv(args.output, index=False)


if __name__ == "__main__":
    main()
