"""The dataset stages end to end in-process: documents held out by document, shards with the
corpus sidecar contract, determinism, source changes seen by hash, too-small datasets refused
(or repeated when allowed), and already-tokenised sources."""

import hashlib
import json

import numpy as np
import pytest

from datalaws.corpus import TokenShards, open_shard
from datalaws.datasets import DatasetError
from datalaws.datasets.config import settings
from datalaws.datasets.documents import iter_documents
from datalaws.datasets.pack import CorpusRequest, pack
from datalaws.datasets.stages import corpus_stage, documents_stage, tokenizer_stage, tokens_stage

CONTEXT = 32


def write_sources(root, n=12):
    rng = np.random.default_rng(0)
    words = ["data", "law", "scale", "token", "model", "loss", "compute", "gzip"]
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        text = " ".join(rng.choice(words, 40 + 10 * i)) + f"\nfile {i}\n"
        (root / f"{i:02d}.txt").write_text(text)
    return root


def build(tmp_path, src, out="out", train_tokens=2048, val_tokens=256, shards=2, **entry):
    spec = settings({"name": "toy", "source": str(src / "*.txt"), **entry})
    base = tmp_path / out
    docs = {"train": base / "train.jsonl", "val": base / "val.jsonl"}
    documents_stage(spec, 7, docs, base / "documents.json")
    tokenizer_stage(spec, docs["train"], base / "tokenizer.json")
    request = CorpusRequest(spec, 7, CONTEXT, train_tokens, val_tokens, shards)
    train = [base / f"train/{i:03d}.bin" for i in range(shards)]
    summary = corpus_stage(
        request, docs, base / "tokenizer.json", base / "documents.json", train, base / "val.bin"
    )
    return {"base": base, "docs": docs, "train": train, "val": base / "val.bin", "summary": summary}


def test_pack_appends_the_boundary_and_counts_the_leftover():
    rows, left = pack([np.array([5, 6, 7]), np.array([8])], 1, 3)
    assert rows.tolist() == [[5, 6, 7], [1, 8, 1]] and left == 0
    rows, left = pack([np.array([5, 6, 7, 8])], None, 3)
    assert rows.tolist() == [[5, 6, 7]] and left == 1


def test_validation_is_held_out_by_whole_documents(tmp_path):
    out = build(tmp_path, write_sources(tmp_path / "src"))
    train = {(d.source, d.index) for d in iter_documents(out["docs"]["train"])}
    val = {(d.source, d.index) for d in iter_documents(out["docs"]["val"])}
    assert train and val and not train & val
    assert len(train | val) == 12  # every file one document, each on one side only
    manifest = json.loads((out["base"] / "documents.json").read_text())
    assert manifest["documents"] == {"train": len(train), "val": len(val)}
    val_bytes = manifest["bytes"]["val"] / (manifest["bytes"]["train"] + manifest["bytes"]["val"])
    assert 0.1 <= val_bytes < 0.3  # whole documents until 10% of the bytes


def test_shards_keep_the_corpus_sidecar_contract_and_name_their_sources(tmp_path):
    src = write_sources(tmp_path / "src")
    out = build(tmp_path, src)
    shards = TokenShards(out["train"])  # verifies every sha256
    assert shards.n_tokens == 2048 and shards.vocab_size == 258 and shards.context == CONTEXT
    tokens, meta = open_shard(out["val"])
    assert tokens.shape == (8, CONTEXT) and meta["split"] == "val"
    side = json.loads(out["train"][0].with_name("000.bin.json").read_text())
    assert (side["dtype"], side["vocab_size"], side["separator"]) == ("uint16", 258, 0)
    dataset = side["dataset"]
    expected = {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(src.glob("*.txt"))
    }
    assert {f["path"]: f["sha256"] for f in dataset["files"]} == expected
    assert dataset["tokenizer"]["kind"] == "byte" and dataset["tokenizer"]["boundary"] == 1
    assert (
        dataset["tokenizer"]["sha256"]
        == hashlib.sha256((out["base"] / "tokenizer.json").read_bytes()).hexdigest()
    )
    rows = np.vstack([shards.read(np.arange(shards.n_sequences))])
    assert (rows == 1).any() and rows.min() >= 1 and rows.max() <= 257  # boundaries, bytes


def test_same_sources_give_identical_bytes_and_a_changed_file_is_seen_by_hash(tmp_path):
    src = write_sources(tmp_path / "src")
    first = build(tmp_path, src, out="a")
    second = build(tmp_path, src, out="b")
    for a, b in zip(
        [*first["train"], first["val"]], [*second["train"], second["val"]], strict=True
    ):
        assert a.read_bytes() == b.read_bytes()
    (src / "03.txt").write_text("a changed file\n")
    changed = build(tmp_path, src, out="c")
    before = json.loads((first["base"] / "documents.json").read_text())["files"]
    after = json.loads((changed["base"] / "documents.json").read_text())["files"]
    differs = [x["path"] for x, y in zip(before, after, strict=True) if x["sha256"] != y["sha256"]]
    assert differs == [str(src / "03.txt")]
    side = json.loads(changed["train"][0].with_name("000.bin.json").read_text())["dataset"]
    assert (
        side["manifest"]["sha256"]
        != json.loads(first["train"][0].with_name("000.bin.json").read_text())["dataset"][
            "manifest"
        ]["sha256"]
    )


def test_a_dataset_too_small_for_the_budget_is_refused_unless_repetition_is_allowed(tmp_path):
    src = write_sources(tmp_path / "src", n=4)
    with pytest.raises(
        DatasetError,
        match=r"datasets\[toy\]: the training split holds \d+ tokens \(\d+ sequences of 32\) after "
        r"tokenisation, fewer than data\.train_tokens = 8192 .*set repeat: true",
    ):
        build(tmp_path, src, train_tokens=8192, val_tokens=64)
    out = build(tmp_path, src, out="rep", train_tokens=8192, val_tokens=64, repeat=True)
    assert out["summary"]["train"]["epochs"] > 1
    assert TokenShards(out["train"]).n_tokens == 8192
    with pytest.raises(
        DatasetError, match=r"validation split holds .* fewer than data\.val_tokens"
    ):
        build(tmp_path, src, out="v", val_tokens=4096, repeat=True)


def test_already_tokenised_files_are_split_by_boundary_and_checked(tmp_path):
    src = tmp_path / "tok"
    src.mkdir()
    rng = np.random.default_rng(1)
    docs = [rng.integers(2, 500, 30 + i) for i in range(40)]
    stream = np.concatenate([np.r_[d, 1] for d in docs]).astype("<u2")
    stream.tofile(src / "a.bin")
    spec = settings(
        {
            "name": "ids",
            "source": str(src / "*.bin"),
            "format": "tokens",
            "tokens": {"dtype": "uint16", "vocab_size": 500, "boundary": 1},
        }
    )
    request = CorpusRequest(spec, 3, CONTEXT, 1024, 128, 1)
    paths = [tmp_path / "out/train/000.bin"]
    tokens_stage(request, tmp_path / "out/documents.json", paths, tmp_path / "out/val.bin")
    manifest = json.loads((tmp_path / "out/documents.json").read_text())
    assert sum(manifest["documents"].values()) == 40 and manifest["n_files"] == 1
    shards = TokenShards(paths)
    assert shards.vocab_size == 500 and shards.n_tokens == 1024
    assert json.loads(paths[0].with_name("000.bin.json").read_text())["separator"] is None

    np.r_[stream, 600].astype("<u2").tofile(src / "a.bin")
    with pytest.raises(DatasetError, match=r"a\.bin: token id 600 at position \d+ is outside"):
        tokens_stage(request, tmp_path / "o2/documents.json", paths, tmp_path / "o2/val.bin")
    (src / "a.bin").write_bytes(b"\x01\x00\x02")
    with pytest.raises(DatasetError, match=r"a\.bin: 3 bytes is not a whole number of 2-byte"):
        tokens_stage(request, tmp_path / "o3/documents.json", paths, tmp_path / "o3/val.bin")
