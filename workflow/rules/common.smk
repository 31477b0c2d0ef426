import datalaws.compare.workflow as compare_workflow
import datalaws.laws.workflow as laws_workflow
from datalaws.codekey import code_key
from datalaws.config import (
    corpus_seed,
    grammar_entry,
    grammar_seed,
    n_train_shards,
    source_names,
    validate_config,
)

# One line per problem (key path and what is wrong), before any job starts; fills defaults.
validate_config(config)

# The code behind the data rules' commands, a param of every cached rule (data.smk).
DATA_CODE = code_key("datalaws.cli.data", "datalaws.cli.compress", "datalaws.cli.dataset")


wildcard_constraints:
    grammar="[A-Za-z0-9][A-Za-z0-9_.-]*",
    shard=r"\d{3}",


def grammar_names():
    """Every value of the `grammar` wildcard: the config's grammars, then its datasets
    (docs/datasets.md). Training, laws and comparisons treat both alike."""
    return source_names(config)


def data_train_shards(grammar):
    return [
        f"results/corpus/{grammar}/train/{shard:03d}.bin"
        for shard in range(n_train_shards(config))
    ]


def data_val_path(grammar):
    return f"results/corpus/{grammar}/val.bin"


def data_gzip_json(grammar):
    return f"results/gzip/{grammar}.json"


def data_compress_json(grammar):
    return f"results/compress/{grammar}.json"


def data_targets():
    return (
        [data_gzip_json(g) for g in grammar_names()]
        + [data_val_path(g) for g in grammar_names()]
        + [data_compress_json(g) for g in grammar_names()]
    )


def reported(path, caption, category, subcategory=None):
    """An output shown in the report, its caption from workflow/report/<caption>.rst."""
    return report(
        path, caption=f"../report/{caption}.rst", category=category, subcategory=subcategory
    )


def laws_table(name):
    return reported(laws_workflow.table_path(name), f"laws_table_{name}", "Scaling laws", "Tables")


def laws_figure(name, caption):
    """The PNG of figure ``name`` in the report (its PDF is a plain output beside it)."""
    return reported(laws_workflow.figure_path(name, "png"), caption, "Scaling laws", "Figures")


def compare_table(name):
    return reported(
        compare_workflow.table_path(name), f"compare_{name}", "Across sources", "Tables"
    )


def plrf_figure(name):
    return reported(f"results/plrf/figures/{name}.png", f"plrf_{name}", "PLRF theory")


def qqt_figure(name):
    return reported(f"results/qqt/figures/{name}.png", f"qqt_{name}", "Data filtering")
