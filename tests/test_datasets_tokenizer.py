"""Tokenizers of text datasets: byte-level ids, a deterministic BPE saved once and reused, a
user's tokenizer.json, and the vocabulary checked against the dtype."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from datalaws.datasets import BOUNDARY, BYTE_VOCAB, SEPARATOR, DatasetError
from datalaws.datasets.config import settings
from datalaws.datasets.tokenizer import ByteTokenizer, load_tokenizer, write_tokenizer

TEXTS = [
    "def scale(x, factor):\n    return [v * factor for v in x]\n",
    "Scaling laws relate loss to model size and data; café, naïve, 数据.\n",
    "for i in range(10):\n    print(i * i)\n",
] * 20


def spec(**tokenizer):
    return settings({"name": "d", "source": "unused", "tokenizer": tokenizer})


def test_byte_tokenizer_shifts_bytes_past_separator_and_boundary():
    tok = ByteTokenizer()
    (ids,) = tok.encode(["aé\n"])
    assert ids.tolist() == [b + 2 for b in "aé\n".encode()]
    assert tok.vocab_size == BYTE_VOCAB == 258 and (tok.separator_id, tok.boundary_id) == (0, 1)
    row = np.concatenate([ids, [BOUNDARY, SEPARATOR], ids])
    assert tok.text_bytes(row) == "aé\naé\n".encode()


BPE_SCRIPT = """
import sys
from datalaws.datasets.config import settings
from datalaws.datasets.tokenizer import write_tokenizer
texts = [line.rstrip("\\n").replace("\\\\n", "\\n") for line in open(sys.argv[1])]
spec = settings({"name": "d", "source": "x", "tokenizer": {"kind": "bpe", "vocab_size": 300}})
write_tokenizer(spec, texts, sys.argv[2])
"""


def test_bpe_is_deterministic_across_processes_and_threads_and_reused(tmp_path):
    out = tmp_path / "tok.json"
    summary = write_tokenizer(spec(kind="bpe", vocab_size=300), iter(TEXTS), out)
    assert summary["vocab_size"] == 300
    (tmp_path / "texts.txt").write_text("".join(t.replace("\n", "\\n") + "\n" for t in TEXTS))
    again = tmp_path / "again.json"
    env = dict(os.environ, RAYON_NUM_THREADS="1")
    subprocess.run(
        [sys.executable, "-c", BPE_SCRIPT, str(tmp_path / "texts.txt"), str(again)],
        check=True,
        env=env,
    )
    assert out.read_bytes() == again.read_bytes()
    tok = load_tokenizer(out, spec(kind="bpe", vocab_size=300))
    vocab = json.loads(out.read_text())["added_tokens"]
    assert [(t["id"], t["content"]) for t in vocab] == [(0, "<sep>"), (1, "<doc>")]
    ids = tok.encode(TEXTS[:3])
    assert all(i.max() < 300 and i.min() >= 2 for i in ids)
    assert sum(i.size for i in ids) < sum(len(t.encode()) for t in TEXTS[:3])  # merges happened
    row = np.concatenate([ids[1], [tok.boundary_id], ids[2]])
    assert tok.text_bytes(row) == (TEXTS[1] + TEXTS[2]).encode()


def test_a_users_tokenizer_is_copied_verbatim_and_needs_its_boundary(tmp_path):
    trained = tmp_path / "bpe.json"
    write_tokenizer(spec(kind="bpe", vocab_size=280), iter(TEXTS), trained)
    mine = spec(kind="file", path=str(trained), boundary="<doc>")
    out = tmp_path / "copy.json"
    summary = write_tokenizer(mine, iter(()), out)
    assert out.read_bytes() == trained.read_bytes() and summary["kind"] == "file"
    tok = load_tokenizer(out, mine)
    assert tok.boundary_id == 1 and tok.separator_id is None
    wrong = spec(kind="file", path=str(trained), boundary="<|endoftext|>")
    with pytest.raises(DatasetError, match=r"bpe\.json: tokenizer has no boundary token"):
        write_tokenizer(wrong, iter(()), tmp_path / "x.json")
    (tmp_path / "broken.json").write_text("{not json")
    broken = spec(kind="file", path=str(tmp_path / "broken.json"), boundary="<doc>")
    with pytest.raises(DatasetError, match=r"broken\.json is not a readable tokenizer\.json"):
        write_tokenizer(broken, iter(()), tmp_path / "y.json")


def test_a_tokenizer_whose_vocabulary_does_not_fit_the_dtype_is_refused(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {f"w{i}": i for i in range(70000)} | {"<doc>": 70000}
    big = Tokenizer(models.WordLevel(vocab, unk_token="w0"))
    big.pre_tokenizer = pre_tokenizers.Whitespace()
    big.save(str(tmp_path / "big.json"))
    entry = settings(
        {
            "name": "d",
            "source": "x",
            "dtype": "uint16",
            "tokenizer": {"kind": "file", "path": str(tmp_path / "big.json"), "boundary": "<doc>"},
        }
    )
    with pytest.raises(
        DatasetError,
        match=r"datasets\[d\]: tokenizer .*big\.json has 70001 token ids, but dtype "
        r"uint16 holds ids up to 65535; use dtype: uint32 or auto",
    ):
        write_tokenizer(entry, iter(()), tmp_path / "out.json")
    entry["dtype"] = "uint32"
    assert write_tokenizer(entry, iter(()), tmp_path / "out.json")["vocab_size"] == 70001
