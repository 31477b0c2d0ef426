import numpy as np
import pytest

from datalaws.corpus import (
    CorpusError,
    ShardRequest,
    TokenShards,
    open_shard,
    shard_documents,
    shard_seed,
    token_dtype,
    write_shard,
    write_tokens,
)


def request(grammar, split="train", shard=0, n_documents=40, context=64, seed=5):
    return ShardRequest(grammar, "g", seed, split, shard, n_documents, context)


def test_shard_documents_cover_the_corpus():
    sizes = shard_documents(n_tokens=10_000, context=256, n_shards=3)
    assert sum(sizes) == 40 and max(sizes) - min(sizes) <= 1


def test_shard_round_trip(tmp_path, small_grammar):
    meta = write_shard(request(small_grammar), tmp_path / "a.bin")
    tokens, loaded = open_shard(tmp_path / "a.bin")
    assert tokens.shape == (40, 64) and loaded == meta
    assert meta["vocab_size"] == small_grammar.spec.terminals + 1
    assert meta["grammar"]["sha256"] == small_grammar.sha256()
    assert (tmp_path / "a.bin").stat().st_size == 40 * 64 * 2


def test_same_request_gives_identical_bytes(tmp_path, small_grammar):
    write_shard(request(small_grammar), tmp_path / "a.bin")
    write_shard(request(small_grammar), tmp_path / "b.bin")
    assert (tmp_path / "a.bin").read_bytes() == (tmp_path / "b.bin").read_bytes()


def test_splits_and_shards_draw_different_data(tmp_path, small_grammar):
    seeds = {shard_seed(5, split, i) for split in ("train", "val") for i in range(4)}
    assert len(seeds) == 8
    write_shard(request(small_grammar, split="train"), tmp_path / "t.bin")
    write_shard(request(small_grammar, split="val"), tmp_path / "v.bin")
    assert (tmp_path / "t.bin").read_bytes() != (tmp_path / "v.bin").read_bytes()


def test_corrupt_shard_is_refused(tmp_path, small_grammar):
    path = tmp_path / "a.bin"
    write_shard(request(small_grammar), path)
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CorpusError, match="sha256 does not match"):
        TokenShards([path])


def test_truncated_shard_is_refused_even_without_hashing(tmp_path, small_grammar):
    path = tmp_path / "a.bin"
    write_shard(request(small_grammar), path)
    path.write_bytes(path.read_bytes()[:-2])
    with pytest.raises(CorpusError, match="truncated or corrupt"):
        open_shard(path, verify=False)


def test_missing_sidecar_is_refused(tmp_path):
    (tmp_path / "x.bin").write_bytes(b"\0" * 8)
    with pytest.raises(CorpusError, match="missing sidecar"):
        open_shard(tmp_path / "x.bin")


def test_token_shards_index_across_shards(tmp_path, small_grammar):
    paths = []
    for shard in range(3):
        paths.append(tmp_path / f"{shard:03d}.bin")
        write_shard(request(small_grammar, shard=shard, n_documents=10 + shard), paths[-1])
    corpus = TokenShards(paths)
    assert corpus.n_sequences == 33 and corpus.context == 64
    whole = np.concatenate([open_shard(p)[0] for p in paths]).astype(np.int64)
    rows = np.array([32, 0, 11, 10, 21, 5])
    np.testing.assert_array_equal(corpus.read(rows), whole[rows])
    assert corpus.max_token() == whole.max()
    with pytest.raises(IndexError):
        corpus.read(np.array([33]))


def test_shards_must_agree_on_context(tmp_path, small_grammar):
    write_shard(request(small_grammar, context=64), tmp_path / "a.bin")
    write_shard(request(small_grammar, context=32), tmp_path / "b.bin")
    with pytest.raises(CorpusError, match="context"):
        TokenShards([tmp_path / "a.bin", tmp_path / "b.bin"])


def test_large_vocabulary_uses_uint32(tmp_path):
    assert token_dtype(65536) == np.dtype("<u2") and token_dtype(65537) == np.dtype("<u4")
    tokens = np.array([[0, 70000, 3]])
    write_tokens(tokens, tmp_path / "big.bin", vocab_size=70001)
    np.testing.assert_array_equal(TokenShards([tmp_path / "big.bin"]).read(np.array([0])), tokens)


def test_write_tokens_rejects_ids_outside_vocabulary(tmp_path):
    with pytest.raises(CorpusError, match="token ids"):
        write_tokens(np.array([[1, 9]]), tmp_path / "x.bin", vocab_size=5)
