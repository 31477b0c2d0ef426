# Laws stage (Pandey 2024 on our runs): final.json + gzip H -> runs tables -> per-grammar Chinchilla
# fits with bootstrap (datalaws fit) -> approaches 1-3 and held-out extrapolation per grammar ->
# regressions on H, the H-conditioned and blended laws, frontiers and their crossing H -> tables
# and figures 1-7 for the report. Every rule is deterministic (each resample is seeded from the
# config) and carries a benchmark; none is `cache:`d, since Snakemake's between-workflow cache
# would key them on this file only, not on the package code they run.
# Config helpers live in datalaws.laws.workflow.

from functools import partial

import datalaws.laws.workflow as laws_workflow

laws_settings = laws_workflow.settings(config)
laws_targets = partial(laws_workflow.targets, grammar_names())


# Tables, figures and merges take seconds: they run in the Snakemake process, never as
# a cluster job of their own.
localrules:
    laws_runs,
    laws_merge,
    laws_tables,
    laws_fig1_gzip,
    laws_fig2_loss,
    laws_fig3_frontiers,
    laws_fig4_params,
    laws_fig5_approaches,
    laws_fig6_holdout,
    laws_fig7_claim,
    laws_all,


rule laws_collect:
    input:
        finals=lambda wc: train_final_jsons(wc.grammar),
        gzip=lambda wc: data_gzip_json(wc.grammar),
    output:
        "results/laws/{grammar}/runs.csv",
    params:
        n_param=laws_settings["n_param"],
        loss=laws_settings["loss"],
    log:
        "logs/laws/collect/{grammar}.log",
    benchmark:
        "results/benchmarks/laws/collect/{grammar}.tsv"
    conda:
        "../../envs/datalaws.yaml"
    script:
        "../scripts/laws_collect.py"


rule laws_runs:
    input:
        expand("results/laws/{grammar}/runs.csv", grammar=grammar_names()),
    output:
        "results/laws/runs.csv",
    log:
        "logs/laws/runs.log",
    benchmark:
        "results/benchmarks/laws/runs.tsv"
    conda:
        "../../envs/datalaws.yaml"
    script:
        "../scripts/laws_runs.py"


rule laws_fit:
    input:
        "results/laws/{grammar}/runs.csv",
    output:
        "results/laws/law_{grammar}.json",
    params:
        options=laws_workflow.fit_args(config),
    log:
        "logs/laws/fit/{grammar}.log",
    benchmark:
        "results/benchmarks/laws/fit/{grammar}.tsv"
    conda:
        "../../envs/datalaws.yaml"
    shell:
        "datalaws fit {input} {params.options} -o {output} > {log} 2>&1"


rule laws_approaches:
    input:
        runs="results/laws/{grammar}/runs.csv",
        law="results/laws/law_{grammar}.json",
    output:
        "results/laws/{grammar}/approaches.json",
    params:
        level=laws_settings["ci_level"],
        options=laws_settings["approaches"],
    log:
        "logs/laws/approaches/{grammar}.log",
    benchmark:
        "results/benchmarks/laws/approaches/{grammar}.tsv"
    conda:
        "../../envs/datalaws.yaml"
    script:
        "../scripts/laws_approaches.py"


rule laws_holdout:
    input:
        "results/laws/{grammar}/runs.csv",
    output:
        "results/laws/{grammar}/holdout.json",
    params:
        bootstrap=laws_settings["bootstrap"],
        seed=laws_settings["seed"],
        level=laws_settings["ci_level"],
    log:
        "logs/laws/holdout/{grammar}.log",
    benchmark:
        "results/benchmarks/laws/holdout/{grammar}.tsv"
    conda:
        "../../envs/datalaws.yaml"
    script:
        "../scripts/laws_holdout.py"


rule laws_merge:
    input:
        lambda wc: expand("results/laws/{g}/{kind}.json", g=grammar_names(), kind=wc.kind),
    output:
        "results/laws/{kind}.json",
    wildcard_constraints:
        kind="approaches|holdout",
    params:
        grammars=grammar_names(),
    log:
        "logs/laws/merge_{kind}.log",
    benchmark:
        "results/benchmarks/laws/merge_{kind}.tsv"
    conda:
        "../../envs/datalaws.yaml"
    script:
        "../scripts/laws_merge.py"


rule laws_h_regression:
    input:
        laws=expand("results/laws/law_{grammar}.json", grammar=grammar_names()),
        gzip=[data_gzip_json(g) for g in grammar_names()],
    output:
        "results/laws/h_regression.json",
    params:
        grammars=grammar_names(),
        level=laws_settings["ci_level"],
    log:
        "logs/laws/h_regression.log",
    benchmark:
        "results/benchmarks/laws/h_regression.tsv"
    conda:
        "../../envs/datalaws.yaml"
    script:
        "../scripts/laws_h_regression.py"


rule laws_h_law:
    input:
        runs="results/laws/runs.csv",
        laws=expand("results/laws/law_{grammar}.json", grammar=grammar_names()),
    output:
        "results/laws/h_law.json",
    params:
        grammars=grammar_names(),
        bootstrap=laws_settings["bootstrap"],
        seed=laws_settings["seed"],
        level=laws_settings["ci_level"],
    log:
        "logs/laws/h_law.log",
    benchmark:
        "results/benchmarks/laws/h_law.tsv"
    conda:
        "../../envs/datalaws.yaml"
    script:
        "../scripts/laws_h_law.py"


rule laws_frontiers:
    input:
        runs="results/laws/runs.csv",
        laws=expand("results/laws/law_{grammar}.json", grammar=grammar_names()),
        gzip=[data_gzip_json(g) for g in grammar_names()],
        h_law="results/laws/h_law.json",
    output:
        csv="results/laws/frontiers.csv",
        crossing="results/laws/crossing.json",
    params:
        grammars=grammar_names(),
        n_points=laws_settings["frontier"]["n_points"],
        extend_decades=laws_settings["frontier"]["extend_decades"],
    log:
        "logs/laws/frontiers.log",
    benchmark:
        "results/benchmarks/laws/frontiers.tsv"
    conda:
        "../../envs/datalaws.yaml"
    script:
        "../scripts/laws_frontiers.py"


rule laws_claim:
    input:
        runs="results/laws/runs.csv",
        laws=expand("results/laws/law_{grammar}.json", grammar=grammar_names()),
        gzip=[data_gzip_json(g) for g in grammar_names()],
        h_law="results/laws/h_law.json",
    output:
        "results/laws/claim.json",
    params:
        grammars=grammar_names(),
        level=laws_settings["ci_level"],
        compute=laws_settings["claim_compute"],
    log:
        "logs/laws/claim.log",
    benchmark:
        "results/benchmarks/laws/claim.tsv"
    conda:
        "../../envs/datalaws.yaml"
    script:
        "../scripts/laws_claim.py"


rule laws_tables:
    input:
        laws=expand("results/laws/law_{grammar}.json", grammar=grammar_names()),
        gzip=[data_gzip_json(g) for g in grammar_names()],
        h_regression="results/laws/h_regression.json",
        h_law="results/laws/h_law.json",
        approaches="results/laws/approaches.json",
        holdout="results/laws/holdout.json",
        crossing="results/laws/crossing.json",
        claim="results/laws/claim.json",
    output:
        parameters=laws_table("parameters"),
        h_regression=laws_table("h_regression"),
        h_law=laws_table("h_law"),
        approaches=laws_table("approaches"),
        holdout=laws_table("holdout"),
        crossing=laws_table("crossing"),
        claim=laws_table("claim"),
        config=reported("results/laws/config.yaml", "laws_config", "Scaling laws", "Configuration"),
    params:
        grammars=grammar_names(),
    log:
        "logs/laws/tables.log",
    benchmark:
        "results/benchmarks/laws/tables.tsv"
    conda:
        "../../envs/datalaws.yaml"
    script:
        "../scripts/laws_tables.py"


rule laws_fig1_gzip:
    input:
        gzip=[data_gzip_json(g) for g in grammar_names()],
    output:
        png=laws_figure("fig1_gzip", "laws_fig1"),
        pdf=laws_workflow.figure_path("fig1_gzip", "pdf"),
    params:
        options={"grammars": grammar_names()},
    log:
        "logs/laws/fig1_gzip.log",
    benchmark:
        "results/benchmarks/laws/fig1_gzip.tsv"
    conda:
        "../../envs/datalaws.yaml"
    script:
        "../scripts/laws_figure.py"


rule laws_fig2_loss:
    input:
        runs="results/laws/runs.csv",
        laws=expand("results/laws/law_{grammar}.json", grammar=grammar_names()),
    output:
        png=laws_figure("fig2_loss", "laws_fig2"),
        pdf=laws_workflow.figure_path("fig2_loss", "pdf"),
    params:
        options={"grammars": grammar_names(), "loss": laws_settings["loss"]},
    log:
        "logs/laws/fig2_loss.log",
    benchmark:
        "results/benchmarks/laws/fig2_loss.tsv"
    conda:
        "../../envs/datalaws.yaml"
    script:
        "../scripts/laws_figure.py"


rule laws_fig3_frontiers:
    input:
        frontiers="results/laws/frontiers.csv",
        runs="results/laws/runs.csv",
    output:
        png=laws_figure("fig3_frontiers", "laws_fig3"),
        pdf=laws_workflow.figure_path("fig3_frontiers", "pdf"),
    params:
        options={},
    log:
        "logs/laws/fig3_frontiers.log",
    benchmark:
        "results/benchmarks/laws/fig3_frontiers.tsv"
    conda:
        "../../envs/datalaws.yaml"
    script:
        "../scripts/laws_figure.py"


rule laws_fig4_params:
    input:
        laws=expand("results/laws/law_{grammar}.json", grammar=grammar_names()),
        gzip=[data_gzip_json(g) for g in grammar_names()],
        h_regression="results/laws/h_regression.json",
        h_law="results/laws/h_law.json",
    output:
        png=laws_figure("fig4_params", "laws_fig4"),
        pdf=laws_workflow.figure_path("fig4_params", "pdf"),
    params:
        options={"grammars": grammar_names()},
    log:
        "logs/laws/fig4_params.log",
    benchmark:
        "results/benchmarks/laws/fig4_params.tsv"
    conda:
        "../../envs/datalaws.yaml"
    script:
        "../scripts/laws_figure.py"


rule laws_fig5_approaches:
    input:
        laws=expand("results/laws/law_{grammar}.json", grammar=grammar_names()),
        gzip=[data_gzip_json(g) for g in grammar_names()],
        approaches="results/laws/approaches.json",
    output:
        png=laws_figure("fig5_approaches", "laws_fig5"),
        pdf=laws_workflow.figure_path("fig5_approaches", "pdf"),
    params:
        options={"grammars": grammar_names()},
    log:
        "logs/laws/fig5_approaches.log",
    benchmark:
        "results/benchmarks/laws/fig5_approaches.tsv"
    conda:
        "../../envs/datalaws.yaml"
    script:
        "../scripts/laws_figure.py"


rule laws_fig6_holdout:
    input:
        runs="results/laws/runs.csv",
        holdout="results/laws/holdout.json",
    output:
        png=laws_figure("fig6_holdout", "laws_fig6"),
        pdf=laws_workflow.figure_path("fig6_holdout", "pdf"),
    params:
        options={"loss": laws_settings["loss"]},
    log:
        "logs/laws/fig6_holdout.log",
    benchmark:
        "results/benchmarks/laws/fig6_holdout.tsv"
    conda:
        "../../envs/datalaws.yaml"
    script:
        "../scripts/laws_figure.py"


rule laws_fig7_claim:
    input:
        claim="results/laws/claim.json",
    output:
        png=laws_figure("fig7_claim", "laws_fig7"),
        pdf=laws_workflow.figure_path("fig7_claim", "pdf"),
    params:
        options={},
    log:
        "logs/laws/fig7_claim.log",
    benchmark:
        "results/benchmarks/laws/fig7_claim.tsv"
    conda:
        "../../envs/datalaws.yaml"
    script:
        "../scripts/laws_figure.py"
