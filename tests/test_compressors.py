"""Compressibility beyond gzip: every measure on the rows gzip H samples, on ids and on text."""

import numpy as np
import pytest

from datalaws.compress import measure
from datalaws.compressors import grammar_text, measure_all, measure_names, unigram_ratio
from datalaws.corpus import ShardRequest, write_shard, write_tokens
from datalaws.datasets.tokenizer import ByteTokenizer


@pytest.fixture(scope="module")
def grammar_shard(tmp_path_factory, small_grammar):
    path = tmp_path_factory.mktemp("g") / "000.bin"
    request = ShardRequest(small_grammar, "small", 5, "train", 0, 300, 64)
    write_shard(request, path)
    return path


def byte_corpus(path, texts, context=64):
    """A byte-level dataset shard and its tokenizer description, as the corpus stage writes."""
    from datalaws.atomic import write_json
    from datalaws.datasets.pack import pack
    from datalaws.datasets.tokenizer import describe

    tok = ByteTokenizer()
    write_json(path.parent / "tokenizer.json", tok.description())
    rows, _ = pack(tok.encode(texts), tok.boundary_id, context)
    desc = describe(tok, path.parent / "tokenizer.json")
    write_tokens(rows, path, tok.vocab_size, dataset={"name": "t", "tokenizer": desc})
    return rows


def test_gzip_on_tokens_is_the_papers_h_on_the_same_rows(grammar_shard):
    stats = measure_all([grammar_shard], n_sequences=100, seed=3)
    assert stats["measures"]["gzip_tokens"]["median"] == measure(grammar_shard, 100, 3)["median"]
    assert set(stats["measures"]) == set(measure_names())
    assert stats["kind"] == "grammar" and stats["framing_bytes"]["gzip"] == 20
    for name, summary in stats["measures"].items():
        assert 0 < summary["median"] < 1.2, name
        assert summary["n"] == 100


def test_grammar_rows_read_as_decimal_ids_one_sentence_per_line():
    assert grammar_text(np.array([3, 14, 0, 15, 9, 0])) == b"3 14\n15 9\n"


def test_dataset_text_is_the_decoded_row_and_ranks_corpora_like_tokens(tmp_path):
    rng = np.random.default_rng(0)
    easy = ["abcabcabc " * 40] * 30
    hard = ["".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz .,;"), 400)) for _ in range(30)]
    (tmp_path / "easy").mkdir()
    (tmp_path / "hard").mkdir()
    easy_rows = byte_corpus(tmp_path / "easy/000.bin", easy)
    byte_corpus(tmp_path / "hard/000.bin", hard)
    stats = {
        name: measure_all([tmp_path / name / "000.bin"], 50, 1, tmp_path / name / "tokenizer.json")
        for name in ("easy", "hard")
    }
    for m in measure_names():
        assert stats["easy"]["measures"][m]["median"] < stats["hard"]["measures"][m]["median"], m
    assert ByteTokenizer().text_bytes(easy_rows[0]).decode().startswith("abcabcabc ")


def test_a_tokenizer_other_than_the_shards_own_is_refused(tmp_path):
    byte_corpus(tmp_path / "000.bin", ["some text here " * 30] * 20)
    (tmp_path / "other.json").write_text('{"format": "something else"}')
    with pytest.raises(ValueError, match=r"other\.json: sha256 differs from the tokenizer"):
        measure_all([tmp_path / "000.bin"], 10, 0, tmp_path / "other.json")


def test_unigram_ratio_is_entropy_over_raw_bits():
    assert unigram_ratio(np.array([7, 7, 7, 7]), 32) == 0.0
    assert unigram_ratio(np.array([1, 2, 3, 4]), 32) == pytest.approx(2 / 32)


def test_pre_tokenised_data_has_no_text_measures(tmp_path):
    rows = np.random.default_rng(2).integers(0, 50, (40, 16))
    meta = {"name": "ids", "tokenizer": {"kind": "tokens", "vocab_size": 50}}
    write_tokens(rows, tmp_path / "000.bin", 50, dataset=meta)
    stats = measure_all([tmp_path / "000.bin"], 20, 0)
    assert stats["measures"]["gzip_text"] is None and stats["measures"]["gzip_tokens"]["n"] == 20
