# The data-filtering study on token data (docs/qqt.md section 7): an unfiltered pool with known
# per-document corruption -> a reference model on a clean sample -> scores (gzip, reference loss)
# -> equal-size buckets, a random control and top-k mixtures -> runs per pool with repetition ->
# results/qqt/runs/{buckets,mixtures}.csv, which the analysis rules in qqt.smk read.
# Training goes through `datalaws train-launch` with the training stage's resources, as in
# train.smk: params hold the run specs only; run options travel as the `train_options` resource;
# declared outputs are written last, so a preempted job's checkpoints and finished runs survive
# and its retry resumes. All budgets of one pool share a job (their runtimes add up).
# Config helpers live in datalaws.qqt.workflow (no functions in rule files).

qqt_train_resources = qqt_workflow.resources(config, data_val_path)


# Tables, figures and merges take seconds: they run in the Snakemake process, never as
# a cluster job of their own.
localrules:
    qqt_runs,


rule qqt_pool:
    input:
        grammar=lambda wc: qqt_workflow.grammar_json(config),
    output:
        pool="results/qqt/pool/pool.bin",
        reference="results/qqt/pool/reference.bin",
        oracle="results/qqt/pool/oracle.csv",
        clean=qqt_workflow.clean_file(config),
    params:
        options=lambda wc: qqt_workflow.pool_args(config),
        clean=lambda wc, output: f"--clean {output.clean[0]}" if output.clean else "",
    log:
        "logs/qqt/pool.log",
    benchmark:
        "results/benchmarks/qqt/pool.tsv"
    conda:
        "../../envs/datalaws.yaml"
    shell:
        "datalaws qqt pool {input.grammar} {params.options} -o {output.pool}"
        " --reference {output.reference} --oracle {output.oracle} {params.clean} > {log} 2>&1"


rule qqt_reference:
    input:
        train="results/qqt/pool/reference.bin",
        val=lambda wc: qqt_workflow.val_file(config, data_val_path),
    output:
        "results/qqt/reference/final.json",
    params:
        spec=lambda wc: qqt_workflow.reference_spec_json(config),
        run_dir=lambda wc, output: output[0].rsplit("/", 1)[0],
    threads: qqt_train_resources["cpus_per_task"]
    resources:
        **qqt_train_resources,
    log:
        "logs/qqt/reference.log",
    benchmark:
        "results/benchmarks/qqt/reference.tsv"
    conda:
        "../../envs/datalaws.yaml"
    shell:
        "datalaws train-launch --nodes {resources.nodes} --gpus {resources.gpu}"
        " --procs-per-node {resources.procs_per_node} --cpus {threads} --out {params.run_dir}"
        " -- --spec {params.spec:q} --options {resources.train_options:q}"
        " --train {input.train} --val {input.val} >> {log} 2>&1"


rule qqt_score:
    input:
        pool="results/qqt/pool/pool.bin",
        oracle="results/qqt/pool/oracle.csv",
        reference="results/qqt/reference/final.json",
    output:
        scores="results/qqt/scores.csv",
        report="results/qqt/scorers.json",
    params:
        fraction=qqt_workflow.settings(config)["fraction"],
        run_dir=lambda wc, input: input.reference.rsplit("/", 1)[0],
    log:
        "logs/qqt/score.log",
    benchmark:
        "results/benchmarks/qqt/score.tsv"
    conda:
        "../../envs/datalaws.yaml"
    shell:
        "datalaws qqt score {input.pool} --reference-run {params.run_dir}"
        " --oracle {input.oracle} --fraction {params.fraction}"
        " -o {output.scores} --report {output.report} > {log} 2>&1"


rule qqt_buckets:
    input:
        pool="results/qqt/pool/pool.bin",
        scores="results/qqt/scores.csv",
        oracle="results/qqt/pool/oracle.csv",
    output:
        pools=qqt_workflow.bucket_files(config),
        report="results/qqt/buckets.json",
    params:
        options=qqt_workflow.buckets_args(config),
        out_dir=lambda wc, output: output.pools[0].rsplit("/", 1)[0],
    log:
        "logs/qqt/buckets.log",
    benchmark:
        "results/benchmarks/qqt/buckets.tsv"
    conda:
        "../../envs/datalaws.yaml"
    shell:
        "datalaws qqt buckets {input.pool} {input.scores} {params.options}"
        " --oracle {input.oracle} --out-dir {params.out_dir} --report {output.report}"
        " > {log} 2>&1"


rule qqt_train:
    input:
        pool="results/qqt/pools/{pool}.bin",
        val=lambda wc: qqt_workflow.val_file(config, data_val_path),
    output:
        "results/qqt/train/{pool}/runs.csv",
    params:
        specs=lambda wc: qqt_workflow.pool_specs_json(config, wc.pool),
        runs_dir=lambda wc, output: output[0].rsplit("/", 1)[0],
    wildcard_constraints:
        pool="[A-Za-z0-9][A-Za-z0-9_.-]*",
    threads: qqt_train_resources["cpus_per_task"]
    resources:
        **qqt_train_resources,
    log:
        "logs/qqt/train/{pool}.log",
    benchmark:
        "results/benchmarks/qqt/train/{pool}.tsv"
    conda:
        "../../envs/datalaws.yaml"
    shell:
        "datalaws qqt train-pool {wildcards.pool} --pool {input.pool} --val {input.val}"
        " --specs {params.specs:q} --options {resources.train_options:q}"
        " --runs-dir {params.runs_dir} --nodes {resources.nodes} --gpus {resources.gpu}"
        " --procs-per-node {resources.procs_per_node} --cpus {threads} -o {output}"
        " >> {log} 2>&1"


rule qqt_runs:
    input:
        buckets=qqt_workflow.runs_tables(config, "buckets"),
        mixtures=qqt_workflow.runs_tables(config, "mixtures"),
    output:
        buckets=qqt_workflow.BUCKETS_CSV,
        mixtures=qqt_workflow.mixture_runs(config),
    log:
        "logs/qqt/runs.log",
    benchmark:
        "results/benchmarks/qqt/runs.tsv"
    conda:
        "../../envs/datalaws.yaml"
    shell:
        "(datalaws qqt collect {input.buckets} -o {output.buckets}"
        " && if [ -n '{output.mixtures}' ]; then"
        " datalaws qqt collect {input.mixtures} -o {output.mixtures}; fi) > {log} 2>&1"
