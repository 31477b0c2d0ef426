import copy

import pytest
import yaml

from datalaws.cli import main
from datalaws.config import (
    REPO_CONFIGS,
    ConfigError,
    check_config,
    derive_seed,
    load_config,
    load_yaml,
    validate_config,
    with_defaults,
)


@pytest.fixture
def tiny():
    with open(REPO_CONFIGS / "tiny.yaml") as handle:
        return yaml.safe_load(handle)


@pytest.mark.parametrize("name", ["config.yaml", "tiny.yaml"])
def test_shipped_configs_are_valid(name):
    config = load_config(REPO_CONFIGS / name)
    assert config["data"]["max_redraws"] >= 0


def break_config(config, path, value):
    node = config
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return config


@pytest.mark.parametrize(
    "path, value, message",
    [
        (("grammars", 0, "nonterminals"), 0, "nonterminals"),
        (("grammars", 0, "terminals"), 0, "terminals"),
        (("grammars", 0, "max_options"), 0, "max_options"),
        (("grammars", 0, "max_length"), "three", "max_length"),
        (("context",), 1, "context"),
        (("gzip", "sequences"), 1.5, "sequences"),
        (("data", "shard_tokens"), KeyError, "shard_tokens"),
        (("data", "colour"), "blue", "colour"),
        (("grammars", 0, "name"), "has space", "name"),
    ],
)
def test_schema_names_the_bad_key(tiny, path, value, message):
    bad = break_config(copy.deepcopy(tiny), path, value)
    with pytest.raises(Exception, match=message):
        validate_config(bad)


def test_duplicate_grammar_names_are_refused(tiny):
    tiny["grammars"].append(dict(tiny["grammars"][0]))
    with pytest.raises(ValueError, match="duplicate grammar names"):
        check_config(tiny)


def test_a_warning_lead_beside_a_short_time_limit_is_refused_before_any_job(tiny):
    tiny["train"]["resources"].update(min_runtime_min=2, warning_lead_s=30)
    with pytest.raises(ValueError, match=r"warning_lead_s.*min_runtime_min"):
        check_config(tiny)


def test_filled_sections_are_independent_copies_and_bad_ones_fail_every_time(tiny):
    """with_defaults remembers what it filled (a DAG asks once per job); callers that change the
    answer must not change what the next caller gets."""
    given = copy.deepcopy(tiny["laws"])
    first = with_defaults(tiny["laws"], "laws")
    assert "claim_compute" not in given and first["claim_compute"] is None  # a default, filled
    expected = copy.deepcopy(first)
    first["bootstrap"] = -1
    first["approaches"].clear()
    assert with_defaults(tiny["laws"], "laws") == expected
    assert tiny["laws"] == given
    bad = dict(tiny["laws"], bootstrap="many")
    for _ in range(2):
        with pytest.raises(ConfigError, match=r"laws\.bootstrap"):
            with_defaults(bad, "laws")


def test_derived_seeds_are_stable_and_distinct():
    assert derive_seed(1, "grammar", "a") == 525668361, "seeds must not change between releases"
    assert len({derive_seed(1, "grammar", n) for n in "abcdefgh"}) == 8
    assert 0 <= derive_seed(123, "x") < 2**31


def test_an_unknown_key_is_one_line_naming_its_section(tiny):
    tiny["train"]["hyper"]["lrr"] = 0.1
    with pytest.raises(ConfigError) as err:
        validate_config(tiny)
    message = str(err.value)
    assert "train.hyper: Additional properties are not allowed ('lrr' was unexpected)" in message
    assert len(message.splitlines()) == 2  # the heading and the one problem, no schema dump


def test_a_size_missing_from_the_ladder_is_refused_before_any_job(tiny):
    tiny["train"]["sizes"].append("d99-l9")
    with pytest.raises(ConfigError, match=r"train.sizes: \['d99-l9'\] not in train.ladder"):
        validate_config(tiny)


def test_broken_yaml_names_the_file_line_and_column(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("seed: 1\ngrammars:\n  - {name: a, nonterminals: 3\n  - b\n")
    with pytest.raises(ConfigError, match=r"broken.yaml: not valid YAML at line \d+, column \d+"):
        load_yaml(path)
    assert main(["check-config", str(path)]) == 2
    assert main(["check-config", str(REPO_CONFIGS / "tiny.yaml")]) == 0
