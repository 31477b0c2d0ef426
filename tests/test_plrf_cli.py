"""`datalaws plrf` commands: CSV curve, JSON exponents, and clear errors with exit status 2."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from datalaws.cli import main
from datalaws.plrf import deterministic as det
from datalaws.plrf.model import PLRF
from datalaws.plrf.spectrum import ExactSpectrum


def test_curve_prints_csv_matching_the_library(capsys):
    assert (
        main(
            [
                "plrf",
                "curve",
                "--alpha",
                "0.8",
                "--beta",
                "0.6",
                "--d",
                "50",
                "--flops",
                "1e6",
                "--points",
                "12",
                "--exact-seed",
                "3",
            ]
        )
        == 0
    )
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    steps = np.array([int(r["step"]) for r in rows])
    assert steps[0] == 0 and steps[-1] == 20000
    assert all(int(r["flops"]) == int(r["step"]) * 50 for r in rows)
    problem = PLRF(0.8, 0.6, 500, 50)
    reference = det.recursion(ExactSpectrum.from_seed(problem, 3), problem.step(0.75), 1, 20000)
    assert np.allclose([float(r["loss"]) for r in rows], reference[steps], rtol=1e-8)


def test_curve_w_free_to_file(tmp_path, capsys):
    out = tmp_path / "curve.csv"
    assert (
        main(
            [
                "plrf",
                "curve",
                "--alpha",
                "0.7",
                "--beta",
                "0.7",
                "--d",
                "100",
                "--flops",
                "1e7",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    rows = list(csv.DictReader(out.open()))
    losses = [float(r["loss"]) for r in rows]
    assert losses[0] > losses[-1] > 0 and len(rows) > 40


def test_exponents_json(capsys):
    assert (
        main(
            [
                "plrf",
                "exponents",
                "--alpha",
                "0.7",
                "--beta",
                "0.7",
                "--d-min",
                "100",
                "--d-max",
                "1600",
                "--d-per-octave",
                "2",
                "--f-max",
                "1e8",
                "--f-per-decade",
                "8",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["theory"]["eta"] == pytest.approx(0.642857, abs=1e-6)
    assert out["theory"]["xi"] == 0.5
    for approach in ("envelope", "isoflop"):
        measured = out["measured"][approach]
        assert 0.5 < measured["eta"] < 0.75 and 0.35 < measured["xi"] < 0.65
        assert measured["f_window"][0] >= out["f_window"][0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--alpha", "-1", "--beta", "0.7", "--d", "10", "--flops", "1e5"], "alpha must be > 0"),
        (
            ["--alpha", "0.7", "--beta", "0.7", "--d", "10", "--v", "10", "--flops", "1e5"],
            "v must be > d",
        ),
        (
            ["--alpha", "0.7", "--beta", "0.7", "--d", "10", "--flops", "1e5", "--step-scale", "5"],
            "stability limit gamma_max=",
        ),
        (["--alpha", "0.7", "--beta", "0.7", "--d", "10", "--flops", "5"], "buys no SGD step"),
    ],
)
def test_bad_input_exits_2(args, message, capsys):
    assert main(["plrf", "curve", *args]) == 2
    assert message in capsys.readouterr().err


def test_exponents_outside_phases_reports_it(capsys):
    assert (
        main(
            [
                "plrf",
                "exponents",
                "--alpha",
                "0.2",
                "--beta",
                "0.2",
                "--d-min",
                "50",
                "--d-max",
                "200",
                "--f-max",
                "1e6",
                "--f-per-decade",
                "4",
            ]
        )
        == 0
    )
    theory = json.loads(capsys.readouterr().out)["theory"]
    assert theory["phase"] == "none" and theory["eta"] is None
