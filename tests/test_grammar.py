import json

import numpy as np
import pytest

from datalaws.grammar import (
    GrammarError,
    GrammarSpec,
    load_grammar,
    random_grammar,
    save_grammar,
)
from datalaws.sampler import CompiledSampler


@pytest.mark.parametrize("field", ["nonterminals", "terminals", "max_options", "max_length"])
def test_spec_rejects_values_below_one(field):
    values = {"nonterminals": 3, "terminals": 5, "max_options": 2, "max_length": 2, field: 0}
    with pytest.raises(GrammarError, match=field):
        GrammarSpec(**values)


def test_spec_rejects_non_integers():
    with pytest.raises(GrammarError, match="terminals"):
        GrammarSpec(3, 2.5, 2, 2)


def test_draw_respects_the_four_knobs():
    spec = GrammarSpec(nonterminals=8, terminals=40, max_options=4, max_length=5)
    grammar = random_grammar(spec, seed=3)
    assert len(grammar.rules) == 8
    for options in grammar.rules:
        assert 1 <= len(options) <= 4
        assert sum(w for w, _ in options) >= len(options)
        for weight, rhs in options:
            assert 1 <= len(rhs) <= 5
            assert all(s != 0 and -8 <= s <= 40 for s in rhs), "terminal 0 would be the separator"
            assert weight >= 1


def test_same_seed_same_grammar_and_different_seed_differs():
    spec = GrammarSpec(10, 50, 5, 3)
    assert random_grammar(spec, 7).rules == random_grammar(spec, 7).rules
    assert random_grammar(spec, 7).rules != random_grammar(spec, 8).rules


def test_round_trip_is_exact(tmp_path, small_grammar):
    path = tmp_path / "g.json"
    save_grammar(small_grammar, path)
    loaded = load_grammar(path)
    assert loaded == small_grammar
    assert loaded.sha256() == small_grammar.sha256()
    for i in range(small_grammar.spec.nonterminals):
        np.testing.assert_array_equal(loaded.probabilities(i), small_grammar.probabilities(i))


def test_nltk_pcfg_matches_integer_rules(small_grammar):
    pcfg = small_grammar.to_nltk()
    k = small_grammar.spec.nonterminals
    assert str(pcfg.start()) == "S"
    assert len(pcfg.productions()) == k + sum(len(o) for o in small_grammar.rules)
    for i, options in enumerate(small_grammar.rules):
        prods = [p for p in pcfg.productions() if str(p.lhs()) == f"N{i}"]
        assert sum(p.prob() for p in prods) == pytest.approx(1.0)
        assert len(prods) == len(options)


def test_always_supercritical_spec_fails_with_reason():
    # One terminal among 51 symbols and RHS up to 30 long: each expansion spawns ~15 nonterminals.
    spec = GrammarSpec(nonterminals=50, terminals=1, max_options=1, max_length=30)
    with pytest.raises(GrammarError, match=r"supercritical.*spectral radius"):
        random_grammar(spec, seed=0, max_redraws=5)


def test_supercritical_draws_are_redrawn_deterministically():
    spec = GrammarSpec(nonterminals=4, terminals=4, max_options=2, max_length=3)
    redrawn = next(g for g in (random_grammar(spec, seed) for seed in range(200)) if g.attempt > 0)
    assert redrawn.spectral_radius() < 1
    again = random_grammar(spec, redrawn.seed)
    assert again.attempt == redrawn.attempt and again.rules == redrawn.rules


def test_expected_length_matches_sampled_mean(small_grammar):
    stats = CompiledSampler(small_grammar).sentence_stats(20000, seed=5)
    stderr = stats.lengths.std() / np.sqrt(stats.lengths.size)
    assert abs(stats.lengths.mean() - small_grammar.expected_sentence_length()) < 5 * stderr


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["rules"][0].__setitem__(0, [5, [0, 1]]), "malformed production"),
        (lambda d: d.__setitem__("format", "other"), "not a datalaws grammar"),
        (lambda d: d["rules"].pop(), "rule sets"),
    ],
)
def test_damaged_grammar_file_is_refused(tmp_path, small_grammar, mutate, message):
    data = small_grammar.to_dict()
    mutate(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(GrammarError, match=message):
        load_grammar(path)
