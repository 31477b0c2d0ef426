"""Study configuration: schema validation, cross-key checks, and seeds derived from one root.

The JSON schema (``workflow/schemas/config.schema.yaml``) checks every key's type and bounds;
what a schema cannot express (unique names, a corpus large enough for every budget) is checked
here, so a malformed config names the key and the problem before any job starts.
"""

from __future__ import annotations

import copy
import functools
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


def _check_ladder(train: dict) -> None:
    """Every size trained, and every per-size override, names a shape of the ladder."""
    ladder = set(train.get("ladder", {}))
    for key, names in (
        ("sizes", train.get("sizes", [])),
        ("hyper_by_size", train.get("hyper_by_size", {})),
    ):
        missing = sorted(set(names) - ladder)
        if missing:
            raise ConfigError(
                f"train.{key}: {missing} not in train.ladder (which has {sorted(ladder)})"
            )


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
        _check_ladder(config["train"])
        from datalaws.train.workflow import check_schedule, resource_config

        resource_config(config["train"])  # hardware and time margins, e.g. the warning lead
        check_schedule(config["train"], config.get("context", 256))
    from datalaws.datasets.config import check_datasets

    check_datasets(config)  # sources exist, no URLs, vocabulary fits the dtype, enough data


def schema_errors(config: dict, schema: Path = SCHEMA, prefix: str = "") -> list[str]:
    """Every schema violation as one line: the key's dotted path, then what is wrong with it.

    jsonschema's own message for a failed ``$ref`` carries the whole sub-schema (hundreds of
    lines); a user needs the key and the problem.
    """
    lines = []
    for error in _validator(schema).iter_errors(config):
        keys = [prefix] if prefix else []
        where = ".".join(keys + [str(k) for k in error.absolute_path]) or "(top level)"
        lines.append(f"{where}: {error.message}")
    return sorted(lines)


@functools.cache
def _validator(schema: Path):
    """One validator per schema file and process: parsing the YAML schemas is most of the cost of
    a validation, and input functions ask for a section's defaults for every job of a DAG."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    def retrieve(uri: str) -> Resource:
        return Resource.from_contents(yaml.safe_load((schema.parent / uri).read_text()))

    return Draft202012Validator(
        yaml.safe_load(schema.read_text()), registry=Registry(retrieve=retrieve)
    )


# Sections with a schema of their own: the only place their defaults are written down.
SECTIONS = ("train", "laws", "plrf", "qqt", "compare")


# Sections already filled, by (section name, repr of the section as given): a DAG's input and
# resource functions ask for the same few sections once per job (a dry run of the paper study
# spent 130 of its 145 s re-reading schemas before this cache).
_FILLED: dict[tuple[str, str], dict] = {}


def with_defaults(section: dict | None, name: str) -> dict:
    """A copy of one config section with every default of its schema filled in.

    snakemake.utils.validate fills defaults only in the schema it is given, not through the main
    schema's ``$ref``s, so each section is validated against its own schema file.
    """
    key = (name, repr(section))
    if key not in _FILLED:
        _FILLED[key] = _fill_defaults(copy.deepcopy(section or {}), name)
    return copy.deepcopy(_FILLED[key])


def _fill_defaults(section: dict, name: str) -> dict:
    from snakemake.utils import validate

    schema = SCHEMA.parent / f"{name}.schema.yaml"
    errors = schema_errors(section, schema, prefix=name)
    if errors:
        raise ConfigError("invalid config:\n  " + "\n  ".join(errors))
    validate(section, str(schema))
    return section


def validate_config(config: dict, schema: Path = SCHEMA) -> dict:
    """Schema validation, one line per problem, then each section's defaults filled in (in
    place), then the cross-key checks."""
    from snakemake.utils import validate

    errors = schema_errors(config, schema)
    if errors:
        raise ConfigError("invalid config:\n  " + "\n  ".join(errors))
    validate(config, str(schema))
    for name in SECTIONS:
        if name in config:
            config[name] = with_defaults(config[name], name)
    check_config(config)
    return config


def load_yaml(path: str | Path) -> dict:
    """One YAML mapping; a syntax error names the file, line and column."""
    try:
        with open(path, encoding="utf-8") as handle:
            config = yaml.safe_load(handle)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError(f"{path}: not valid YAML at {where}: {problem}") from err
    if not isinstance(config, dict):
        raise ConfigError(f"{path}: a config must be a YAML mapping")
    return config


def load_config(path: str | Path) -> dict:
    """Read and validate a study config."""
    return validate_config(load_yaml(path))
