"""The compiled sampler must draw from exactly the distribution of the naive NLTK sampler.

Tests use real test statistics: chi-square over production counts (per left-hand side, summed
into one statistic) and over binned sentence lengths. A perturbed grammar is the negative control
that shows the tests have power.
"""

from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

from datalaws.grammar import SEPARATOR, GrammarSpec, random_grammar
from datalaws.sampler import CompiledSampler, NaiveSampler, production_list

N_SENTENCES = 20000


def production_pvalue(grammar, counts_a, counts_b):
    """Chi-square homogeneity test of production choices, summed over left-hand sides."""
    lhs = np.array([p[0] for p in production_list(grammar)])
    statistic, dof = 0.0, 0
    for nt in np.unique(lhs):
        table = np.stack([counts_a[lhs == nt], counts_b[lhs == nt]])
        table = table[:, table.sum(axis=0) > 0]
        if table.shape[1] < 2:
            continue
        chi2, _, df, _ = stats.chi2_contingency(table, correction=False)
        statistic, dof = statistic + chi2, dof + df
    return stats.chi2.sf(statistic, dof)


def goodness_of_fit_pvalue(grammar, counts):
    """Chi-square of production counts against the grammar's own probabilities."""
    productions = production_list(grammar)
    lhs = np.array([p[0] for p in productions])
    probs = np.array([p[2] for p in productions])
    statistic, dof = 0.0, 0
    for nt in np.unique(lhs):
        observed = counts[lhs == nt]
        if observed.size < 2 or observed.sum() == 0:
            continue
        expected = observed.sum() * probs[lhs == nt] / probs[lhs == nt].sum()
        statistic += float(((observed - expected) ** 2 / expected).sum())
        dof += observed.size - 1
    return stats.chi2.sf(statistic, dof)


def length_pvalue(lengths_a, lengths_b, min_expected=5):
    """Chi-square homogeneity of sentence lengths, tail bins pooled to keep expected counts up."""
    top = max(lengths_a.max(), lengths_b.max())
    counts = np.stack([np.bincount(x, minlength=top + 1) for x in (lengths_a, lengths_b)])
    counts = counts[:, counts.sum(axis=0) > 0]
    pooled, current = [], np.zeros(2)
    for column in counts.T:
        current = current + column
        if current.sum() >= 2 * min_expected * 2:
            pooled.append(current)
            current = np.zeros(2)
    if current.sum():
        pooled[-1] = pooled[-1] + current
    _, p, _, _ = stats.chi2_contingency(np.array(pooled).T, correction=False)
    return p


@pytest.fixture(scope="module", params=[(6, 30, 4, 3), (12, 40, 6, 5)], ids=["small", "deeper"])
def grammar(request):
    return random_grammar(GrammarSpec(*request.param), seed=21)


def test_production_frequencies_agree(grammar):
    naive = NaiveSampler(grammar).sentence_stats(N_SENTENCES, seed=1)
    compiled = CompiledSampler(grammar).sentence_stats(N_SENTENCES, seed=2)
    assert production_pvalue(grammar, naive.production_counts, compiled.production_counts) > 1e-3
    assert goodness_of_fit_pvalue(grammar, compiled.production_counts) > 1e-3
    assert goodness_of_fit_pvalue(grammar, naive.production_counts) > 1e-3


def test_sentence_lengths_agree(grammar):
    naive = NaiveSampler(grammar).sentence_stats(N_SENTENCES, seed=3)
    compiled = CompiledSampler(grammar).sentence_stats(N_SENTENCES, seed=4)
    assert length_pvalue(naive.lengths, compiled.lengths) > 1e-3


def test_tests_detect_a_perturbed_grammar(grammar):
    """Negative control: change one nonterminal's weights and both statistics must reject."""
    target = max(range(len(grammar.rules)), key=lambda i: len(grammar.rules[i]))
    options = grammar.rules[target]
    skewed = tuple((w * (50 if j == 0 else 1), rhs) for j, (w, rhs) in enumerate(options))
    rules = (*grammar.rules[:target], skewed, *grammar.rules[target + 1 :])
    perturbed = replace(grammar, rules=rules)
    naive = NaiveSampler(grammar).sentence_stats(N_SENTENCES, seed=5)
    wrong = CompiledSampler(perturbed).sentence_stats(N_SENTENCES, seed=6)
    assert production_pvalue(grammar, naive.production_counts, wrong.production_counts) < 1e-6


def test_documents_are_packed_sentences(grammar):
    context = 64
    docs = CompiledSampler(grammar).documents(200, context, seed=7)
    assert docs.shape == (200, context)
    assert docs.min() >= 0 and docs.max() <= grammar.spec.terminals
    assert (docs[:, 0] != SEPARATOR).all(), "every document starts with a sentence"
    both = (docs[:, 1:] == SEPARATOR) & (docs[:, :-1] == SEPARATOR)
    assert not both.any(), "sentences are never empty"


def test_document_token_frequencies_agree(grammar):
    """Truncating mid-sentence (compiled) must equal expanding then truncating (naive)."""
    vocab = grammar.vocab_size
    naive = NaiveSampler(grammar).documents(300, 64, seed=8)
    compiled = CompiledSampler(grammar).documents(300, 64, seed=9)
    table = np.stack([np.bincount(d.ravel(), minlength=vocab) for d in (naive, compiled)])
    table = table[:, table.sum(axis=0) >= 10]
    _, p, _, _ = stats.chi2_contingency(table, correction=False)
    assert p > 1e-3


def test_same_seed_same_documents(grammar):
    sampler = CompiledSampler(grammar)
    np.testing.assert_array_equal(sampler.documents(50, 32, 3), sampler.documents(50, 32, 3))
    assert not np.array_equal(sampler.documents(50, 32, 3), sampler.documents(50, 32, 4))
