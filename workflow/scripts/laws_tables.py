from datalaws.laws import tables, workflow

sm = snakemake  # noqa: F821
workflow.run_logged(
    sm.log[0],
    tables.write_tables,
    sm.params.grammars,
    sm.input.laws,
    sm.input.gzip,
    sm.input.h_regression,
    sm.input.h_law,
    sm.input.approaches,
    sm.input.holdout,
    sm.input.crossing,
    sm.input.claim,
    {name: sm.output[name] for name in workflow.TABLES},
)
workflow.write_config(sm.config, sm.output.config)
