"""What ``workflow/rules/data.smk`` asks of the config for datasets: names, paths, inputs.

Grammars and datasets share the ``grammar`` wildcard, and their corpus files share one path
pattern (``results/corpus/{name}/...``), so each rule that writes them is restricted to its own
names (``name_pattern``) and Snakemake never has two rules for one file.
"""

from __future__ import annotations

import re

from datalaws.config import n_train_shards
from datalaws.datasets.config import entry, names, resolve_sources

ROOT = "results/datasets/{name}"
MATCH_NOTHING = "(?!)"


def pcfg_names(config: dict) -> list[str]:
    return [g["name"] for g in config["grammars"]]


def text_names(config: dict) -> list[str]:
    """Datasets that go through documents -> tokenizer -> corpus."""
    return [n for n in names(config) if entry(config, n)["format"] != "tokens"]


def token_names(config: dict) -> list[str]:
    """Already-tokenised datasets (one ``tokens`` step)."""
    return [n for n in names(config) if entry(config, n)["format"] == "tokens"]


def name_pattern(values: list[str]) -> str:
    """A wildcard constraint matching exactly these names (nothing when there are none)."""
    return "|".join(re.escape(v) for v in values) or MATCH_NOTHING


def documents_path(name: str, split: str) -> str:
    return f"{ROOT.format(name=name)}/{split}.jsonl"


def manifest_path(name: str) -> str:
    return f"{ROOT.format(name=name)}/documents.json"


def tokenizer_path(name: str) -> str:
    return f"{ROOT.format(name=name)}/tokenizer.json"


def source_files(config: dict, name: str) -> list[str]:
    """The dataset's source files: a rule's inputs, so an added, removed or newer file reruns it
    (and the manifest's sha256 of each says whether its content changed)."""
    return [str(p) for p in resolve_sources(entry(config, name))]


def tokenizer_inputs(config: dict, name: str) -> list[str]:
    """The training documents, and the user's tokenizer.json where there is one."""
    spec = entry(config, name)
    given = [spec["tokenizer"]["path"]] if spec["tokenizer"]["kind"] == "file" else []
    return [documents_path(name, "train"), *given]


def corpus_outputs(config: dict, name: str = "{dataset}") -> dict[str, list[str] | str]:
    """Every file a dataset's corpus step writes: all training shards and the validation file,
    each with its sidecar, at the paths a grammar's corpus has."""
    shards = [f"results/corpus/{name}/train/{i:03d}.bin" for i in range(n_train_shards(config))]
    return {
        "train": shards,
        "train_sidecars": [f"{s}.json" for s in shards],
        "val": f"results/corpus/{name}/val.bin",
        "val_sidecar": f"results/corpus/{name}/val.bin.json",
    }


def compress_tokenizer(config: dict, name: str) -> list[str]:
    """The tokenizer that turns a source's rows back into text (none for grammars and
    already-tokenised datasets)."""
    return [tokenizer_path(name)] if name in text_names(config) else []
