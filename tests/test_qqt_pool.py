"""The study's pool: deterministic, corrupted exactly as specified, and the oracle it keeps."""

import numpy as np
import pytest
from scipy.stats import kstest

from datalaws.corpus import TokenShards
from datalaws.qqt.pool import (
    Corruption,
    PoolError,
    PoolSpec,
    build_pool,
    corrupt,
    sample_seeds,
    write_pool,
)
from datalaws.sampler import CompiledSampler

CONTEXT = 64


def spec(**overrides):
    values = {
        "documents": 400,
        "reference_documents": 20,
        "clean_documents": 30,
        "context": CONTEXT,
        "seed": 7,
        "corruption": Corruption(),
    }
    return PoolSpec(**(values | overrides))


def test_pool_files_are_byte_identical_for_one_seed_and_differ_for_another(small_grammar, tmp_path):
    def files(folder, seed):
        out = {
            "pool": tmp_path / folder / "pool.bin",
            "reference": tmp_path / folder / "reference.bin",
            "clean": tmp_path / folder / "clean.bin",
            "oracle": tmp_path / folder / "oracle.csv",
        }
        write_pool(small_grammar, "g", spec(seed=seed), out)
        return {name: path.read_bytes() for name, path in out.items()}

    first, again, other = files("a", 7), files("b", 7), files("c", 8)
    assert first == again
    assert all(first[name] != other[name] for name in first)
    pool = TokenShards([tmp_path / "a" / "pool.bin"])
    assert (pool.n_sequences, pool.context) == (400, CONTEXT)
    assert pool.metas[0]["qqt"]["corruption"] == {"alpha": 0.7, "beta": 2.5, "max_rate": 0.9}


def test_each_document_has_round_r_context_positions_overwritten_by_terminals(small_grammar):
    built = build_pool(small_grammar, spec())
    oracle, pool = built["oracle"], built["pool"]
    counts = oracle["corrupted"].to_numpy()
    assert np.array_equal(counts, np.rint(oracle["rate"].to_numpy() * CONTEXT))
    # Re-sample the clean documents (same seed stream) to see what was overwritten.
    clean = CompiledSampler(small_grammar).documents(400, CONTEXT, sample_seeds(7)["pool"])
    changed = (pool != clean).sum(axis=1)
    # A replacement may draw the token it replaces (chance 1/T), never more positions than drawn.
    assert np.all(changed <= counts)
    terminals = small_grammar.spec.terminals
    assert changed.sum() >= 0.9 * (1 - 1 / terminals) * counts.sum()
    replaced = pool[pool != clean]
    assert replaced.min() >= 1 and replaced.max() <= terminals  # terminals only, no separator
    assert np.array_equal(pool[counts == 0], clean[counts == 0])


def test_rates_follow_the_clipped_beta_and_the_clean_samples_are_not_corrupted(small_grammar):
    rates = Corruption(0.7, 2.5, 0.9).rates(4000, seed=3)
    assert kstest(rates, "beta", args=(0.7, 2.5)).pvalue > 0.01
    clipped = Corruption(0.7, 2.5, 0.2).rates(4000, seed=3)
    assert clipped.max() == pytest.approx(0.2) and np.allclose(clipped, np.minimum(rates, 0.2))
    built = build_pool(small_grammar, spec())
    assert built["clean"].shape == (30, CONTEXT) and built["reference"].shape == (20, CONTEXT)
    assert not np.array_equal(built["clean"][:20], built["reference"])  # disjoint streams


def test_corruption_is_seeded_per_document():
    docs = np.ones((5, 32), dtype=np.int64)
    rates = np.full(5, 0.5)
    a, _ = corrupt(docs, rates, 50, seed=1)
    b, _ = corrupt(docs[:3], rates[:3], 50, seed=1)
    assert np.array_equal(a[:3], b)  # document i does not depend on the pool size


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Corruption(alpha=0), "alpha and beta"),
        (lambda: Corruption(max_rate=1.5), "max_rate"),
        (lambda: spec(documents=5), "pool documents"),
        (lambda: spec(reference_documents=0), "reference_documents"),
        (lambda: corrupt(np.ones((2, 4), int), np.array([0.1, 2.0]), 5, 0), "rates"),
    ],
)
def test_bad_settings_are_refused(make, message):
    with pytest.raises(PoolError, match=message):
        make()
