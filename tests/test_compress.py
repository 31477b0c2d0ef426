import gzip
import struct

import numpy as np
import pytest

from datalaws.compress import framing_bytes, measure, token_ratios
from datalaws.corpus import ShardRequest, write_shard


def reference_ratio(row):
    """The paper's recipe spelled out token by token."""
    raw = b"".join(struct.pack(">i", int(t)) for t in row)
    return len(gzip.compress(raw, compresslevel=9, mtime=0)) / len(raw)


def test_token_ratios_match_the_recipe():
    rng = np.random.default_rng(0)
    rows = rng.integers(0, 300, size=(5, 256))
    np.testing.assert_allclose(token_ratios(rows), [reference_ratio(r) for r in rows], rtol=0)


def test_framing_is_the_fixed_gzip_header_and_trailer():
    assert framing_bytes() == 18


def test_ratio_orders_data_by_predictability():
    rng = np.random.default_rng(1)
    constant = np.full((4, 256), 7)
    random = rng.integers(0, 2**31 - 1, size=(4, 256))
    assert token_ratios(constant).max() < 0.05 < 0.9 < token_ratios(random).min()


@pytest.fixture
def corpus(tmp_path, small_grammar):
    for shard in range(2):
        request = ShardRequest(small_grammar, "g", 3, "train", shard, 30, 256)
        write_shard(request, tmp_path / f"{shard:03d}.bin")
    return tmp_path


def test_measure_is_deterministic_and_complete(corpus):
    first = measure(corpus, n_sequences=40, seed=2)
    assert first == measure(corpus, n_sequences=40, seed=2)
    assert first["n_sequences"] == len(first["ratios"]) == 40
    assert first["q25"] <= first["median"] <= first["q75"]
    assert first["median"] == pytest.approx(np.median(first["ratios"]))
    assert first["unit"] == "token" and first["header_bytes"] == 18
    assert measure(corpus, n_sequences=40, seed=3)["ratios"] != first["ratios"]


def test_asking_for_more_sequences_than_exist_says_so(corpus):
    with pytest.raises(ValueError, match=r"asked for 61 sequences but .* holds only 60"):
        measure(corpus, n_sequences=61)


def test_text_is_measured_in_byte_windows(tmp_path):
    text = "the quick brown fox jumps over the lazy dog. " * 200
    (tmp_path / "a.txt").write_text(text)
    stats = measure(tmp_path / "a.txt", n_sequences=20, seed=0)
    assert stats["unit"] == "byte" and stats["sequence_length"] == 256
    assert stats["median"] < 0.5


def test_missing_path_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        measure(tmp_path / "nope")
