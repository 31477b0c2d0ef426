# Data-dependent neural scaling laws: grammar or dataset -> corpus -> gzip -> training grid -> laws
# -> report, plus the theory arm (PLRF phases) and the comparison across sources (compare).
# Run `snakemake --profile profiles/local` for the tiny CPU study, `--profile profiles/slurm` on a
# cluster, `-n` to see the DAG. Stages live in workflow/rules/, logic in the datalaws package.

configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/laws.smk"
include: "workflow/rules/plrf.smk"
include: "workflow/rules/qqt.smk"
include: "workflow/rules/qqt_study.smk"
include: "workflow/rules/compare.smk"


rule all:
    input:
        data_targets(),
        train_targets(),
        laws_targets(),
        plrf_targets(),
        qqt_targets(),
        compare_targets(),
    default_target: True


rule data_all:
    input:
        data_targets(),


rule train_all:
    input:
        train_targets(),


rule laws_all:
    input:
        laws_targets(),


rule qqt_all:
    input:
        qqt_targets(),


rule compare_all:
    input:
        compare_targets(),
