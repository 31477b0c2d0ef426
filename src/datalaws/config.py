"""Study configuration: schema validation, cross-key checks, and seeds derived from one root.

The JSON schema (``workflow/schemas/config.schema.yaml``) checks every key's type and bounds;
what a schema cannot express (unique names, a corpus large enough for every budget) is checked
here, so a malformed config names the key and the problem before any job starts.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
REPO_CONFIGS = REPO / "config"


class ConfigError(ValueError):
    """A config that is well-typed but inconsistent."""


def derive_seed(root: int, *labels: object) -> int:
    """A 31-bit seed from the root seed and labels: stable across Python versions and machines."""
    text = ":".join(str(x) for x in (root, *labels))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") >> 1


def grammar_entry(config: dict, name: str) -> dict:
    for entry in config["grammars"]:
        if entry["name"] == name:
            return entry
    raise ConfigError(f"grammars: no grammar named {name!r}")


def grammar_seed(config: dict, name: str) -> int:
    entry = grammar_entry(config, name)
    return int(entry.get("seed", derive_seed(config["seed"], "grammar", name)))


def corpus_seed(config: dict, name: str) -> int:
    return derive_seed(config["seed"], "corpus", name)


def source_names(config: dict) -> list[str]:
    """Every source the study trains on: its grammars, then its datasets (docs/datasets.md).

    Both are values of the workflow's ``grammar`` wildcard, so training and laws treat them alike.
    """
    return [g["name"] for g in config["grammars"]] + [
        d["name"] for d in config.get("datasets") or []
    ]


def n_train_shards(config: dict) -> int:
    data = config["data"]
    return -(-data["train_tokens"] // data["shard_tokens"])


def _duplicates(values: list[Any]) -> list[Any]:
    return sorted(v for v, n in Counter(values).items() if n > 1)


def check_config(config: dict) -> None:
    """Cross-key rules; raises ConfigError naming the key path and the problem."""
    dupes = _duplicates([g["name"] for g in config["grammars"]])
    if dupes:
        raise ConfigError(f"grammars: duplicate grammar names {dupes}; names must be unique")
    if not source_names(config):
        raise ConfigError("grammars, datasets: the study needs at least one grammar or dataset")
    dupes = _duplicates(source_names(config))
    if dupes:
        raise ConfigError(
            f"grammars, datasets: names {dupes} are used twice; every grammar and dataset needs "
            "its own name (it names the corpus, the runs and the law)"
        )
    budgets = config.get("train", {}).get("budgets", [])
    if budgets and max(budgets) > config["data"]["train_tokens"]:
        raise ConfigError(
            f"data.train_tokens: {config['data']['train_tokens']} tokens cannot cover the largest "
            f"train.budgets entry ({max(budgets)}); raise data.train_tokens"
        )
    if "train" in config:
        from datalaws.train.workflow import check_schedule, resource_config

        resource_config(config["train"])  # hardware and time margins, e.g. the warning lead
        check_schedule(config["train"], config.get("context", 256))
    from datalaws.datasets.config import check_datasets

    check_datasets(config)  # sources exist, no URLs, vocabulary fits the dtype, enough data


def validate_config(config: dict, schema: Path = SCHEMA) -> dict:
    """Schema validation (snakemake.utils.validate, which also fills defaults) plus cross-keys."""
    from snakemake.utils import validate

    validate(config, str(schema))
    check_config(config)
    return config


def load_config(path: str | Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    if not isinstance(config, dict):
        raise ConfigError(f"{path}: a config must be a YAML mapping")
    return validate_config(config)
