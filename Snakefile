# Data-dependent neural scaling laws: grammar or dataset -> corpus -> gzip -> training grid -> laws
# -> report, plus the comparison across sources (compare), the theory arm (PLRF phases) and the
# data-filtering arm (qqt: quality pools, repetition, mixtures). Run
# `snakemake --profile profiles/local` for the tiny CPU study, `--profile profiles/slurm` on a
# cluster, `-n` to see the DAG. Stages live in workflow/rules/, logic in the datalaws package.

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/laws.smk"
include: "workflow/rules/compare.smk"
# The theory and data-filtering arms run where the config has their sections.
if "plrf" in config:

    include: "workflow/rules/plrf.smk"


if "qqt" in config:

    include: "workflow/rules/qqt.smk"
    include: "workflow/rules/qqt_study.smk"


rule all:
    input:
        data_targets(),
        train_targets(),
        laws_targets(),
        compare_targets(),
        plrf_targets() if "plrf" in config else [],
        qqt_targets() if "qqt" in config else [],
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


rule compare_all:
    input:
        compare_targets(),
