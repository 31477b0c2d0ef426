# Data-dependent neural scaling laws: grammar -> corpus -> gzip -> training grid -> laws -> report.
# Run `snakemake --profile profiles/local` for the tiny CPU study, `--profile profiles/slurm` on a
# cluster, `-n` to see the DAG. Stages live in workflow/rules/, logic in the datalaws package.

configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"


rule all:
    input:
        data_targets(),
    default_target: True


rule data_all:
    input:
        data_targets(),
