# Across sources (grammars and datasets), after the laws stage (docs/datasets.md):
#   compress statistics + every source's law -> which measure predicts the law (rank correlation
#   with bootstrap intervals);
#   grammars' runs -> the H-law of the grammars alone -> its prediction for each dataset's law,
#   beside the dataset's own fit, with the errors.
# Deterministic (every resample seeded from the config); each carries a benchmark and none is
# `cache:`d, as in the laws stage. Helpers in datalaws.compare.workflow.

from functools import partial

import datalaws.compare.workflow as compare_workflow
import datalaws.datasets.config as datasets_config

compare_settings = compare_workflow.settings(config)
compare_targets = partial(compare_workflow.targets, config)
compare_grammars = compare_workflow.grammars(config)
compare_datasets_names = datasets_config.names(config)


# A table from files already fitted takes a second: it runs in the Snakemake process.
localrules:
    compare_transfer,
    compare_all,


rule compare_predictors:
    input:
        compress=[data_compress_json(g) for g in grammar_names()],
        laws=expand("results/laws/law_{grammar}.json", grammar=grammar_names()),
        runs="results/laws/runs.csv",
    output:
        json=compare_workflow.PREDICTORS,
        table=compare_table("predictors"),
    params:
        names=grammar_names(),
        compute=compare_settings["compute"],
        bootstrap=compare_settings["bootstrap"],
        seed=compare_settings["seed"],
        level=laws_settings["ci_level"],
    log:
        "logs/compare/predictors.log",
    benchmark:
        "results/benchmarks/compare/predictors.tsv"
    conda:
        "../../envs/datalaws.yaml"
    script:
        "../scripts/compare_predictors.py"


rule compare_h_law:
    input:
        runs="results/laws/runs.csv",
        laws=expand("results/laws/law_{grammar}.json", grammar=compare_grammars),
    output:
        compare_workflow.H_LAW,
    params:
        grammars=compare_grammars,
        bootstrap=laws_settings["bootstrap"],
        seed=laws_settings["seed"],
        level=laws_settings["ci_level"],
    log:
        "logs/compare/h_law.log",
    benchmark:
        "results/benchmarks/compare/h_law.tsv"
    conda:
        "../../envs/datalaws.yaml"
    script:
        "../scripts/compare_h_law.py"


rule compare_transfer:
    input:
        h_law=compare_workflow.H_LAW,
        laws=expand("results/laws/law_{grammar}.json", grammar=compare_datasets_names),
        gzip=[data_gzip_json(d) for d in compare_datasets_names],
        compress=[data_compress_json(d) for d in compare_datasets_names],
        runs="results/laws/runs.csv",
    output:
        json=compare_workflow.TRANSFER,
        table=compare_table("transfer"),
    params:
        datasets=compare_datasets_names,
        compute=compare_settings["compute"],
    log:
        "logs/compare/transfer.log",
    benchmark:
        "results/benchmarks/compare/transfer.tsv"
    conda:
        "../../envs/datalaws.yaml"
    script:
        "../scripts/compare_transfer.py"
