"""Scorers rank documents by their hidden corruption, and buckets cut from the scores.

Threshold for the scorers (Spearman with the oracle rate r over a pool with r ~ Beta(0.7, 2.5)):
a corrupted token costs about log T nats under a model of the grammar (T = 30 terminals: 3.4) where
a grammatical one costs the grammar's entropy (about 1 nat here), so a document's mean loss rises
by about 2.4 r; across documents r has standard deviation 0.2, a spread of about 0.5 nats, against
a per-document noise of the mean of 63 token losses of about 0.1-0.2 nats. That leaves a rank
correlation near 0.95 (measured 0.99); 0.9 leaves room for the small, briefly trained reference
model. gzip sees the same corruption only as lost redundancy, with more noise from sentence
lengths (measured 0.93 here, 0.94 on the tiny study's 256-token pool): 0.8 is asserted. A score
unrelated to r gives |rho| < 0.15 at 300 documents.
"""

import itertools

import numpy as np
import pandas as pd
import pytest

from datalaws.corpus import TokenShards
from datalaws.qqt.buckets import (
    BucketError,
    bucket_name,
    percentile_buckets,
    pools,
    random_bucket,
    write_pools,
)
from datalaws.qqt.pool import Corruption, PoolSpec, write_pool
from datalaws.qqt.scoring import ScoringError, document_losses, score_pool, scorer_report
from datalaws.train import Arch, HyperParams, RunOptions, train

CONTEXT = 64


@pytest.fixture(scope="module")
def scored(small_grammar, tmp_path_factory):
    root = tmp_path_factory.mktemp("qqt-score")
    out = {name: root / f"{name}.bin" for name in ("pool", "reference", "clean")}
    out["oracle"] = root / "oracle.csv"
    spec = PoolSpec(300, 100, 64, CONTEXT, 5, Corruption())
    write_pool(small_grammar, "g", spec, out)
    run = root / "reference-run"
    train(
        [out["reference"]],
        out["clean"],
        run,
        arch=Arch(16, 32, 1, 1),
        budget=200 * CONTEXT,
        unique_tokens=100 * CONTEXT,
        hyper=HyperParams(batch_size=4, lr=2e-2, eval_points=1, val_sequences=16),
        options=RunOptions(device="cpu", threads=1, checkpoint_every=0, progress="off"),
    )
    pool = TokenShards([out["pool"]])
    tokens = pool.read(np.arange(pool.n_sequences))
    scores = score_pool(tokens, run)
    return {"root": root, "run": run, "tokens": tokens, "scores": scores, "files": out}


def test_scorers_rank_documents_by_their_hidden_corruption(scored):
    oracle = pd.read_csv(scored["files"]["oracle"])
    report = scorer_report(scored["scores"], oracle, 0.1)
    by = report["scorers"]
    assert by["reference_loss"]["spearman_with_rate"] > 0.9
    assert by["gzip"]["spearman_with_rate"] > 0.8
    # The best decile by either score is far cleaner than the pool (mean rate about 0.22).
    for name in ("reference_loss", "gzip"):
        assert by[name]["top_fraction_mean_rate"] < 0.3 * report["pool_mean_rate"]


def test_document_losses_agree_with_the_training_stage_evaluation(scored):
    from datalaws.train import evaluate

    per_doc = document_losses(scored["run"], scored["tokens"][:32])
    whole = evaluate(scored["run"], scored["files"]["pool"], sequences=32)["val_loss"]
    assert per_doc.mean() == pytest.approx(whole, rel=1e-5)


def test_scoring_refuses_documents_the_reference_model_cannot_read(scored):
    with pytest.raises(ScoringError, match="context"):
        document_losses(scored["run"], scored["tokens"][:, :32])
    bad = scored["tokens"][:2].copy()
    bad[0, 0] = 10_000
    with pytest.raises(ScoringError, match="vocabulary"):
        document_losses(scored["run"], bad)


def test_buckets_are_equal_size_disjoint_and_ranked(scored):
    score = scored["scores"]["reference_loss"].to_numpy()
    buckets = percentile_buckets(score, 0.1, 4)
    assert [len(b) for b in buckets] == [30] * 4
    assert len(np.unique(np.concatenate(buckets))) == 120
    for better, worse in itertools.pairwise(buckets):
        assert score[better].max() <= score[worse].min()
    assert [bucket_name(j, 0.1) for j in range(4)] == [
        "top00-10",
        "top10-20",
        "top20-30",
        "top30-40",
    ]
    control = random_bucket(300, 0.1, seed=1)
    assert len(control) == len(set(control)) == 30


def test_pool_files_hold_the_right_documents_in_shuffled_order(scored, tmp_path):
    score = scored["scores"]["reference_loss"].to_numpy()
    members = pools(score, 0.1, 3, [2, 3], seed=4)
    assert list(members) == ["top00-10", "top10-20", "top20-30", "random", "top2", "top3"]
    assert set(members["top2"]) == set(members["top00-10"]) | set(members["top10-20"])
    paths = write_pools(scored["files"]["pool"], members, tmp_path, seed=4)
    top2 = TokenShards([paths["top2"]])
    order = np.array(top2.metas[0]["documents"])
    assert sorted(order) == sorted(members["top2"]) and not np.array_equal(order, np.sort(order))
    assert np.array_equal(top2.read(np.arange(60)), scored["tokens"][order])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((np.arange(10.0), 0.5, 3), "do not fit"),
        ((np.arange(10.0), 0.0, 1), "fraction"),
        ((np.array([1.0, np.nan, 2.0]), 0.5, 1), "finite"),
    ],
)
def test_bad_bucket_requests_are_refused(args, message):
    with pytest.raises(BucketError, match=message):
        percentile_buckets(*args)


def test_mixtures_need_two_to_count_buckets():
    with pytest.raises(BucketError, match="2 <= k <= 2"):
        pools(np.arange(100.0), 0.1, 2, [3], seed=0)
