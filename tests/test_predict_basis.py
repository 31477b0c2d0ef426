"""``datalaws predict`` says what its law stands on: the fitted family and its H range, and
warnings for data outside the range, of another kind, or measured on another scale."""

import numpy as np
import pandas as pd
import pytest

from datalaws.atomic import read_json, write_json
from datalaws.cli import main
from datalaws.laws.hlaw import fit_h_law
from datalaws.laws.predict import measure_h
from datalaws.laws.synthetic import law_at, make_runs

pytestmark = pytest.mark.slow  # two H-law fits shared by the module (about 10 s)

SOURCES = {"g1": (0.2, "grammar"), "g2": (0.35, "grammar"), "d1": (0.5, "dataset/byte")}


def h_law_file(path, kinds):
    """An H-law fitted on runs of known laws, its sources of the given kinds."""
    runs = pd.concat(
        [
            make_runs(law_at(h), noise=0.005, seed=i).assign(grammar=name, H=h, kind=kinds[name])
            for i, (name, (h, _)) in enumerate(SOURCES.items())
        ],
        ignore_index=True,
    )
    thetas = {name: law_at(h).theta for name, (h, _) in SOURCES.items()}
    write_json(path, fit_h_law(runs, thetas, n_resamples=10))
    return path


@pytest.fixture(scope="module")
def laws(tmp_path_factory):
    root = tmp_path_factory.mktemp("hlaw")
    grammars_only = {name: "grammar" for name in SOURCES}
    mixed = {name: kind for name, (_, kind) in SOURCES.items()}
    return {
        "grammars": h_law_file(root / "grammars.json", grammars_only),
        "mixed": h_law_file(root / "mixed.json", mixed),
    }


@pytest.fixture(scope="module")
def text_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("text")
    rng = np.random.default_rng(0)
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota"]
    for i in range(4):
        (root / f"{i}.txt").write_text(" ".join(rng.choice(words, 20000)) + "\n")
    return root


def run_predict(capsys, *args):
    code = main(["predict", *args, "--compute", "1e13"])
    return code, capsys.readouterr()


def predict_json(capsys, data, law, tmp_path):
    """Predict from ``data`` with ``law``: what was printed, and the JSON written."""
    out = tmp_path / "p.json"
    code, shown = run_predict(capsys, str(data), "--law", str(law), "--json", str(out))
    assert code == 0, shown.err
    return shown, read_json(out)


def test_text_is_measured_on_the_token_scale_and_the_byte_scale_is_named(
    laws, text_dir, capsys, tmp_path
):
    shown, result = predict_json(capsys, text_dir, laws["grammars"], tmp_path)
    h, measured = measure_h(text_dir)
    assert result["H"] == h and result["data_kind"] == "dataset/byte"
    assert measured["text_bytes_H"] > 2 * h  # raw bytes compress far less than 4-byte ids
    assert "is on a different scale and is not comparable" in shown.out
    assert "The law was fitted on grammars (3 sources, H from 0.2 to 0.5)" in shown.out
    assert (
        "WARNING: your data is real data tokenised at the byte level; the law was fitted on "
        "PCFG grammar corpora only" in shown.out
    )
    assert result["basis"]["family"] == "grammars" and result["H_range"] == [0.2, 0.5]


def test_a_mixed_law_names_both_families_and_knows_byte_level_data(
    laws, text_dir, capsys, tmp_path
):
    _, result = predict_json(capsys, text_dir, laws["mixed"], tmp_path)
    assert result["basis"]["family"] == "grammars and real datasets"
    assert result["basis"]["source_kinds"]["d1"] == "dataset/byte"
    assert not any("your data is" in w for w in result["warnings"])


def test_a_given_h_warns_that_its_scale_is_unknown_and_outside_is_flagged(laws, capsys):
    code, shown = run_predict(capsys, "--h", "0.9", "--law", str(laws["grammars"]))
    assert code == 0
    assert "H was given, not measured" in shown.out
    assert "OUTSIDE the range the law was fitted on [0.2, 0.5]" in shown.out


def test_a_law_without_recorded_kinds_is_read_as_grammars_and_says_so(laws, capsys, tmp_path):
    record = read_json(laws["grammars"])
    for info in record["grammars"].values():
        info.pop("kind")
    write_json(tmp_path / "old.json", record)
    code, shown = run_predict(capsys, "--h", "0.3", "--law", str(tmp_path / "old.json"))
    assert code == 0
    assert "Source kinds not recorded: assumed grammars." in shown.out
    assert "inside the range" in shown.out


def test_too_little_text_is_refused_without_suggesting_an_option_predict_lacks(
    laws, capsys, tmp_path
):
    (tmp_path / "short.txt").write_text("too short\n" * 100)
    code, shown = run_predict(capsys, str(tmp_path / "short.txt"), "--law", str(laws["grammars"]))
    assert code == 2
    assert "short.txt" in shown.err and "give more data" in shown.err
    assert "datalaws gzip" in shown.err  # the --sequences hint names the commands that take it


def test_far_outside_its_range_the_h_law_is_refused_when_it_turns_unphysical(laws, capsys):
    # The sources' beta = 0.46 - 0.42 H crosses zero at H = 1.1: no compute-optimal allocation.
    code, shown = run_predict(capsys, "--h", "1.5", "--law", str(laws["grammars"]))
    assert code == 2
    assert "the H-law at H = 1.5 is not a physical law" in shown.err
    assert "beta = -" in shown.err and "no compute-optimal allocation" in shown.err


def test_predict_states_the_fitted_box_and_flags_extrapolated_compute(laws, capsys):
    code = main(["predict", "--h", "0.3", "--law", str(laws["grammars"]), "--compute", "1e24"])
    shown = capsys.readouterr()
    assert code == 0
    assert "The law was fitted on N from" in shown.out
    assert "EXTRAPOLATION at C = 1e+24: compute C" in shown.out
