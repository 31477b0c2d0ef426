# Theory arm (Paquette, Paquette, Xiao, Pennington 2024): one-pass SGD on power-law random
# features -> exact and W-free deterministic equivalents -> compute-optimal exponents eta, xi ->
# phase diagram against the 4+3 phases. Reads only config["plrf"]
# (workflow/schemas/plrf.schema.yaml). Every rule carries a benchmark; none is `cache:`d (the
# between-workflow cache would not see changes to the package code they run). Config helpers
# live in datalaws.plrf.workflow.

from functools import partial

import datalaws.plrf.workflow as plrf_workflow

plrf_targets = partial(plrf_workflow.targets, config)


wildcard_constraints:
    point=plrf_workflow.POINT_PATTERN,


# Tables, figures and merges take seconds: they run in the Snakemake process, never as
# a cluster job of their own.
localrules:
    plrf_figures,
    plrf_summary,
    plrf_all,


rule plrf_validate:
    output:
        "results/plrf/validation/{point}.json",
    params:
        cfg=config["plrf"]["validation"],
        batch=config["plrf"]["batch"],
    log:
        "logs/plrf/validate/{point}.log",
    benchmark:
        "results/benchmarks/plrf/validate/{point}.tsv"
    conda:
        "../../envs/datalaws.yaml"
    script:
        "../scripts/plrf_validate.py"


rule plrf_check:
    output:
        grid="results/plrf/check/grid.npz",
        summary="results/plrf/check/summary.json",
    params:
        cfg=config["plrf"]["check"],
        common=plrf_workflow.common(config),
    log:
        "logs/plrf/check.log",
    benchmark:
        "results/benchmarks/plrf/check.tsv"
    conda:
        "../../envs/datalaws.yaml"
    script:
        "../scripts/plrf_check.py"


rule plrf_exact:
    output:
        exact="results/plrf/exact/exact.npz",
        asymptotic="results/plrf/exact/asymptotic.npz",
        json="results/plrf/exact/check.json",
    params:
        cfg=config["plrf"]["exact"],
        point=[config["plrf"]["check"]["alpha"], config["plrf"]["check"]["beta"]],
        common=plrf_workflow.common(config),
    log:
        "logs/plrf/exact.log",
    benchmark:
        "results/benchmarks/plrf/exact.tsv"
    conda:
        "../../envs/datalaws.yaml"
    script:
        "../scripts/plrf_exact.py"


rule plrf_phase_point:
    output:
        grid="results/plrf/phase/{point}.npz",
        json="results/plrf/phase/{point}.json",
    params:
        cfg=config["plrf"]["phase_diagram"],
        common=plrf_workflow.phase_common(config),
    log:
        "logs/plrf/phase/{point}.log",
    benchmark:
        "results/benchmarks/plrf/phase/{point}.tsv"
    conda:
        "../../envs/datalaws.yaml"
    script:
        "../scripts/plrf_phase_point.py"


rule plrf_phase_diagram:
    input:
        expand("results/plrf/phase/{point}.json", point=plrf_workflow.phase_points(config)),
    output:
        figure=plrf_figure("phase_diagram"),
        pdf="results/plrf/figures/phase_diagram.pdf",
        table=reported("results/plrf/phase_table.csv", "plrf_phase_table", "PLRF theory"),
    log:
        "logs/plrf/phase_diagram.log",
    benchmark:
        "results/benchmarks/plrf/phase_diagram.tsv"
    conda:
        "../../envs/datalaws.yaml"
    script:
        "../scripts/plrf_phase_diagram.py"


rule plrf_figures:
    input:
        grid="results/plrf/check/grid.npz",
        summary="results/plrf/check/summary.json",
        validation=expand(
            "results/plrf/validation/{point}.json",
            point=plrf_workflow.validation_points(config),
        ),
        exact="results/plrf/exact/exact.npz",
        asymptotic="results/plrf/exact/asymptotic.npz",
    output:
        frontier=plrf_figure("frontier"),
        isoflop=plrf_figure("isoflop"),
        convergence=plrf_figure("convergence"),
        validation=plrf_figure("validation"),
        exact_check=plrf_figure("exact_check"),
        pdfs=multiext(
            "results/plrf/figures/",
            "frontier.pdf",
            "isoflop.pdf",
            "convergence.pdf",
            "validation.pdf",
            "exact_check.pdf",
        ),
    log:
        "logs/plrf/figures.log",
    benchmark:
        "results/benchmarks/plrf/figures.tsv"
    conda:
        "../../envs/datalaws.yaml"
    script:
        "../scripts/plrf_figures.py"


rule plrf_summary:
    input:
        check="results/plrf/check/summary.json",
        exact="results/plrf/exact/check.json",
        validation=expand(
            "results/plrf/validation/{point}.json",
            point=plrf_workflow.validation_points(config),
        ),
        points=expand(
            "results/plrf/phase/{point}.json", point=plrf_workflow.phase_points(config)
        ),
    output:
        reported("results/plrf/summary.md", "plrf_summary", "PLRF theory"),
    log:
        "logs/plrf/summary.log",
    benchmark:
        "results/benchmarks/plrf/summary.tsv"
    conda:
        "../../envs/datalaws.yaml"
    script:
        "../scripts/plrf_summary.py"


rule plrf_all:
    input:
        plrf_targets(),
