# Data-filtering arm (Goyal et al. 2024): runs per quality bucket -> repetition law per bucket ->
# mixtures of the top buckets predicted by the theorem -> best filtering level per budget.
# Every rule carries a benchmark; none is `cache:`d (the between-workflow cache would not see
# changes to the package code they run).
# Config helpers live in datalaws.qqt.workflow (no functions in rule files).

from functools import partial

import datalaws.qqt.workflow as qqt_workflow

qqt_targets = partial(qqt_workflow.targets, config)


# Tables, figures and merges take seconds: they run in the Snakemake process, never as
# a cluster job of their own.
localrules:
    qqt_summary,
    qqt_figures,
    qqt_all,


rule qqt_fit:
    input:
        config["qqt"]["runs"],
    output:
        "results/qqt/params.json",
    params:
        options=qqt_workflow.fit_args(config),
    log:
        "logs/qqt/fit.log",
    benchmark:
        "results/benchmarks/qqt/fit.tsv"
    conda:
        "../../envs/datalaws.yaml"
    shell:
        "datalaws qqt fit {input} -o {output} {params.options} > {log} 2>&1"


rule qqt_predict:
    input:
        "results/qqt/params.json",
    output:
        json="results/qqt/decision.json",
        csv="results/qqt/predictions.csv",
    params:
        budgets=qqt_workflow.budgets_arg(config),
    log:
        "logs/qqt/predict.log",
    benchmark:
        "results/benchmarks/qqt/predict.tsv"
    conda:
        "../../envs/datalaws.yaml"
    shell:
        "datalaws qqt predict {input} --budgets {params.budgets}"
        " -o {output.json} --csv {output.csv} > {log} 2>&1"


rule qqt_compare:
    input:
        params="results/qqt/params.json",
        runs=qqt_workflow.mixture_runs(config),
    output:
        "results/qqt/compare.csv",
    log:
        "logs/qqt/compare.log",
    benchmark:
        "results/benchmarks/qqt/compare.tsv"
    conda:
        "../../envs/datalaws.yaml"
    shell:
        "datalaws qqt compare {input.params} {input.runs} -o {output} > {log} 2>&1"


rule qqt_summary:
    input:
        params="results/qqt/params.json",
        compare=qqt_workflow.compare_csv(config),
        scorers=qqt_workflow.scorers_json(config),
    output:
        markdown=reported("results/qqt/summary.md", "qqt_summary", "Data filtering"),
        best="results/qqt/best_per_budget.csv",
    params:
        budgets=qqt_workflow.budgets(config),
    log:
        "logs/qqt/summary.log",
    benchmark:
        "results/benchmarks/qqt/summary.tsv"
    conda:
        "../../envs/datalaws.yaml"
    script:
        "../scripts/qqt_summary.py"


rule qqt_figures:
    input:
        params="results/qqt/params.json",
        runs=config["qqt"]["runs"],
        compare=qqt_workflow.compare_csv(config),
    output:
        buckets=qqt_figure("buckets"),
        mixtures=qqt_figure("mixtures"),
        frontier=qqt_figure("frontier"),
        pdfs=multiext("results/qqt/figures/", "buckets.pdf", "mixtures.pdf", "frontier.pdf"),
    params:
        budgets=qqt_workflow.budgets(config),
    log:
        "logs/qqt/figures.log",
    benchmark:
        "results/benchmarks/qqt/figures.tsv"
    conda:
        "../../envs/datalaws.yaml"
    script:
        "../scripts/qqt_figures.py"


rule qqt_all:
    input:
        qqt_targets(),
