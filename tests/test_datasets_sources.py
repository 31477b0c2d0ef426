"""Dataset sources: every format read into documents, and every bad input refused with the file
(or the dataset's key) and the problem, before any corpus is written."""

import copy
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from datalaws.config import REPO_CONFIGS, check_config
from datalaws.datasets import DatasetError
from datalaws.datasets.config import resolve_sources, settings
from datalaws.datasets.html_text import html_to_text
from datalaws.datasets.sources import read_documents


def spec(**kw):
    return settings({"name": "d", "source": "unused", **kw})


def texts(files, **kw):
    docs, records = read_documents(files, spec(**kw))
    return [d.text for d in docs], records


@pytest.fixture
def tiny():
    return yaml.safe_load((REPO_CONFIGS / "tiny.yaml").read_text())


def with_dataset(config, **entry):
    out = copy.deepcopy(config)
    out["datasets"] = [{"name": "mine", **entry}]
    return out


def test_text_documents_are_files_paragraphs_or_lines_and_empty_ones_are_skipped(tmp_path):
    (tmp_path / "a.txt").write_text("one\ntwo\n\n  \nthree\n")
    (tmp_path / "b.txt").write_text("")
    files = sorted(tmp_path.iterdir())
    assert texts(files)[0] == ["one\ntwo\n\n  \nthree\n"]
    assert texts(files, documents="paragraphs")[0] == ["one\ntwo", "three\n"]
    lines, records = texts(files, documents="lines")
    assert lines == ["one", "two", "three"]
    assert [r.empty for r in records] == [3, 1]  # the blank lines, and the empty file


def test_html_keeps_the_main_content_and_drops_scripts_and_navigation(tmp_path):
    page = (
        "<html><head><title>t</title><style>p{}</style></head><body>"
        "<div class='nav'>Navigation index</div>"
        "<div role='main'><h1>Heading</h1><p>Some   <b>bold</b>\n text.</p>"
        "<pre>def f():\n    return 1</pre><script>var x;</script></div>"
        "<footer>Copyright</footer></body></html>"
    )
    (tmp_path / "p.html").write_text(page)
    (doc,), _ = texts([tmp_path / "p.html"], format="html")
    assert doc == "Heading\n\nSome bold text.\n\ndef f():\n    return 1\n"
    assert html_to_text("<p>no main&amp;here</p>") == "no main&here\n"


def test_jsonl_reads_the_field_and_names_the_line_without_it(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"text": "first"}\n\n{"text": "second", "id": 2}\n')
    assert texts([path], format="jsonl")[0] == ["first", "second"]
    path.write_text('{"text": "first"}\n{"body": "x", "id": 3}\n')
    with pytest.raises(DatasetError, match=r"d\.jsonl:2: no field 'text' \(fields: body, id\)"):
        texts([path], format="jsonl")
    path.write_text('{"text": "ok"}\n{"text": 5}\n')
    with pytest.raises(DatasetError, match=r"d\.jsonl:2: field 'text' holds int"):
        texts([path], format="jsonl")
    path.write_text('{"text": "ok"}\n{"text": \n')
    with pytest.raises(DatasetError, match=r"d\.jsonl:2: not valid JSON"):
        texts([path], format="jsonl")


def test_parquet_reads_the_column_and_names_the_file_without_it(tmp_path):
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"content": ["alpha", None, "beta"], "n": [1, 2, 3]}), path)
    docs, records = texts([path], format="parquet", column="content")
    assert docs == ["alpha", "beta"] and records[0].empty == 1
    with pytest.raises(DatasetError, match=r"d\.parquet: no column 'text' \(columns: content, n\)"):
        texts([path], format="parquet")
    with pytest.raises(DatasetError, match=r"d\.parquet: column 'n' holds int64, not strings"):
        texts([path], format="parquet", column="n")
    (tmp_path / "fake.parquet").write_text("not parquet")
    with pytest.raises(DatasetError, match=r"fake\.parquet: not a readable Parquet file"):
        texts([tmp_path / "fake.parquet"], format="parquet")


def test_invalid_utf8_is_refused_with_file_and_offset_or_replaced_and_counted(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("café ok \ufffd".encode() + b" na\xefve \xff")
    with pytest.raises(DatasetError, match=r"latin1\.txt: not valid UTF-8 at byte 15"):
        texts([path])
    (doc,), (record,) = texts([path], encoding_errors="replace")
    assert doc.endswith("na\ufffdve \ufffd")
    assert record.replaced == 2  # the genuine U+FFFD in the file is not counted


def test_a_source_with_no_document_is_refused(tmp_path):
    (tmp_path / "blank.txt").write_text("  \n\n")
    with pytest.raises(DatasetError, match=r"datasets\[d\].*hold no document.*blank\.txt"):
        texts([tmp_path / "blank.txt"])


def test_globs_and_folders_resolve_to_sorted_files(tmp_path):
    for rel in ("b/2.txt", "b/sub/3.txt", "a.txt", "c.md"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(rel)
    found = resolve_sources(spec(source=[str(tmp_path / "*.txt"), str(tmp_path / "b")]))
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "a.txt",
        "b/2.txt",
        "b/sub/3.txt",
    ]
    deep = resolve_sources(spec(source=str(tmp_path / "**" / "*.txt")))
    assert len(deep) == 3


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"source": "https://example.org/corpus.txt"}, r"datasets\[mine\]\.source: .* is a URL"),
        ({"source": "s3://bucket/x.parquet"}, r"is a URL; datalaws never downloads"),
        (
            {"source": "{tmp}/nothing-*.txt"},
            r"datasets\[mine\]\.source: .*nothing-\*\.txt.* matches no",
        ),
        ({"source": "{tmp}/empty.txt"}, r"datasets\[mine\]\.source: every matched file is empty"),
        (
            {"source": "{tmp}/small.txt"},
            r"can give at most 10 tokens, fewer than data\.train_tokens",
        ),
        ({"source": "{tmp}/small.txt", "field": "x"}, r"datasets\[mine\]\.field: only for format"),
        (
            {
                "source": "{tmp}/small.txt",
                "tokenizer": {"kind": "bpe", "vocab_size": 70000},
                "dtype": "uint16",
            },
            r"datasets\[mine\]: the BPE tokenizer has 70000 token ids, but dtype uint16 holds",
        ),
        (
            {"source": "{tmp}/small.txt", "tokenizer": {"kind": "bpe"}},
            r"tokenizer\.vocab_size: kind bpe",
        ),
        (
            {
                "source": "{tmp}/small.txt",
                "tokenizer": {"kind": "file", "path": "{tmp}/no.json", "boundary": "x"},
            },
            r"datasets\[mine\]\.tokenizer\.path: .*no\.json not found",
        ),
        (
            {
                "source": "{tmp}/small.txt",
                "format": "tokens",
                "tokens": {"dtype": "uint16", "vocab_size": 70000},
            },
            r"datasets\[mine\]\.tokens: vocab_size 70000 does not fit the source dtype uint16",
        ),
    ],
)
def test_bad_dataset_config_names_the_dataset_and_problem_before_any_job(
    tiny, tmp_path, entry, message
):
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "small.txt").write_text("tiny text")  # 9 bytes: at most 9 + 1 tokens (a boundary)
    raw = json.loads(json.dumps(entry).replace("{tmp}", str(tmp_path)))
    with pytest.raises(DatasetError, match=message):
        check_config(with_dataset(tiny, **raw))


def test_repeat_lifts_the_size_check_and_names_clash_with_grammars(tiny, tmp_path):
    (tmp_path / "small.txt").write_text("tiny text")
    check_config(with_dataset(tiny, source=str(tmp_path / "small.txt"), repeat=True))
    clash = with_dataset(tiny, source=str(tmp_path / "small.txt"), repeat=True)
    clash["datasets"][0]["name"] = tiny["grammars"][0]["name"]
    with pytest.raises(ValueError, match=r"are used twice; every grammar and dataset needs"):
        check_config(clash)
