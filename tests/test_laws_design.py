"""Choosing a grid by simulation (datalaws.laws.design and ``datalaws design``)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from datalaws.atomic import read_json, write_json
from datalaws.cli import main
from datalaws.laws import design
from datalaws.laws.chinchilla import Law

LAW = Law.from_natural(E=1.0, A=40.0, B=900.0, alpha=0.5, beta=0.6)
LADDER = {"a": 2e3, "b": 1e4, "c": 2e4, "d": 7e4, "e": 1.6e5, "f": 3.2e5}
BUDGETS = tuple(65536 * 2**k for k in range(6))


def test_costs_follow_the_schedule():
    assert design.schedule_tokens([1, 2, 4], None) == 7  # cosine: every run whole
    assert design.schedule_tokens([100, 200, 400], 0.2) == pytest.approx(0.8 * 400 + 0.2 * 700)
    c = design.Candidate(("a", "b"), (2e3, 1e4), (100, 400))
    rates = {"a": 100.0, "b": 50.0}
    assert design.core_seconds(c, rates, None) == pytest.approx(500 / 100 + 500 / 50)
    # WSD: one trunk job plus one job per budget, each paying the overhead
    wsd = design.core_seconds(c, rates, 0.2, overhead_s=1.0)
    assert wsd == pytest.approx((0.8 * 400 + 100) * (1 / 100 + 1 / 50) + 2 * 3)


def test_candidates_keep_only_grids_with_the_required_spans():
    grids = design.candidates(LADDER, [BUDGETS, BUDGETS[:3]], min_sizes=5)
    assert grids and all(len(g.sizes) >= 5 and g.n_span >= 100 and g.d_span >= 30 for g in grids)
    assert {g.sizes for g in grids} == {("a", "b", "c", "d", "e", "f")}  # a..e spans only 80x


@pytest.mark.slow
def test_a_wider_grid_pins_the_exponent_down_better():
    """Simulation sees what the design changes: more N and D span, a narrower interval."""
    narrow = design.Candidate(("c", "d", "e"), (2e4, 7e4, 1.6e5), BUDGETS[2:5])
    wide = design.Candidate(tuple(LADDER), tuple(LADDER.values()), BUDGETS)
    s_narrow = design.score(LAW, narrow, sigma=0.02, draws=30, seed=1)
    s_wide = design.score(LAW, wide, sigma=0.02, draws=30, seed=1)
    assert 0 < s_wide.width < s_narrow.width
    assert abs(s_wide.bias) < 0.05
    assert 0 < s_wide.holdout_error < 0.05
    assert s_wide.isoflop_levels >= 3


@pytest.mark.slow
def test_design_cli_ranks_affordable_grids(tmp_path):
    from datalaws.laws.lawfile import fit_law
    from datalaws.laws.synthetic import make_runs

    sizes = {"d16": 2560.0, "d32": 20480.0, "d48": 69120.0, "d64": 163840.0}
    law = fit_law(make_runs(LAW, sizes, BUDGETS, noise=0.01), n_resamples=10)
    write_json(tmp_path / "law.json", law)
    config = {
        "train": {
            "ladder": {
                "d16": {"dim": 16, "ffn": 32, "layers": 1, "heads": 1},
                "d24": {"dim": 24, "ffn": 48, "layers": 2, "heads": 2},
                "d32": {"dim": 32, "ffn": 64, "layers": 2, "heads": 2},
                "d48": {"dim": 48, "ffn": 96, "layers": 3, "heads": 3},
                "d64": {"dim": 64, "ffn": 128, "layers": 4, "heads": 4},
                "d80": {"dim": 80, "ffn": 160, "layers": 5, "heads": 5},
            }
        }
    }
    (tmp_path / "cfg.yaml").write_text(json.dumps(config))
    rates = {"d16": 2e5, "d24": 8e4, "d32": 6e4, "d48": 3e4, "d64": 2e4, "d80": 1e4}
    (tmp_path / "rates.json").write_text(json.dumps(rates))
    argv = [
        "design", str(tmp_path / "law.json"), "--config", str(tmp_path / "cfg.yaml"),
        "--vocab", "301", "--throughput", str(tmp_path / "rates.json"), "--noise", "0.01",
        "--d-min", "65536", "--d-max", "2097152", "--minutes", "30",
        "--grammars", "2", "--draws", "4", "-o", str(tmp_path / "design.json"),
    ]  # fmt: skip
    assert main(argv) == 0
    rows = read_json(tmp_path / "design.json")["candidates"]
    scored = [r for r in rows if r["affordable"]]
    assert scored and all(r["cost_s"] <= 30 * 60 * 2 for r in scored)
    assert all(r["n_span"] >= 100 and r["d_span"] >= 30 for r in rows)
    widths = [r["width"] for r in scored]
    assert widths == sorted(widths) and np.isfinite(widths).all()
    rates.pop("d80")
    (tmp_path / "rates.json").write_text(json.dumps(rates))
    assert main(argv) == 2  # a size without a measured throughput is refused
