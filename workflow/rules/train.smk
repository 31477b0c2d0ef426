# Training: one FSDP job per (grammar, size, budget) -> results/train/{grammar}/{size}/{budget}/
# Only final.json is a declared output. metrics.jsonl and ckpt/ live beside it undeclared, because
# Snakemake deletes a failed job's declared outputs before the retry: the checkpoint has to survive
# a preempted attempt (exit 75 after SIGTERM/SIGUSR1) so that the retry resumes from it.
# final.json is written last and atomically, so a run that died never looks finished.
# One job trains a run directory at a time (its run.lock): a duplicate job, which a restarted
# Snakemake submits for a run whose job still trains, waits for that job up to its own time limit
# (--lock-wait-min), then finds the result (or the checkpoint) and goes on from there.
# Params hold only what changes the trained model (the run spec). Run options (checkpoint cadence,
# logging, ...) travel as the string resource `train_options`, so changing them never retrains.
# Resources come from datalaws.train.resources.plan (FLOPs, memory); datalaws train-launch turns
# them into one process, torchrun, or srun + torchrun. See docs/training.md.
# With a `train.wsd` section (warmup-stable-decay), each (grammar, size) first trains one trunk at
# the peak learning rate (train_trunk), which keeps a checkpoint where each budget's decay starts;
# each budget's run then starts from that checkpoint and trains only its own decay.

from functools import partial

import datalaws.train.workflow as train_workflow

train_final_jsons = partial(train_workflow.final_jsons, config["train"])
train_targets = partial(train_workflow.targets, config["train"], grammar_names())
train_run_resources = train_workflow.run_resources(config["train"], data_val_path)
train_trunk_resources = train_workflow.trunk_resources(config["train"], data_val_path)


rule train:
    input:
        train=lambda wc: data_train_shards(wc.grammar),
        val=lambda wc: data_val_path(wc.grammar),
        trunk=lambda wc: train_workflow.trunk_json(config["train"], wc.grammar, wc.size),
    output:
        "results/train/{grammar}/{size}/{budget}/final.json",
    params:
        spec=lambda wc: train_workflow.spec_json(
            config["train"], wc.grammar, wc.size, int(wc.budget)
        ),
        trunk=lambda wc: train_workflow.trunk_arg(config["train"], wc.grammar, wc.size),
        run_dir=lambda wc, output: output[0].rsplit("/", 1)[0],
    wildcard_constraints:
        size="[A-Za-z0-9][A-Za-z0-9_.-]*",
        budget=r"\d+",
    threads: train_run_resources["cpus_per_task"]
    resources:
        **train_run_resources,
    log:
        "logs/train/{grammar}/{size}/{budget}.log",
    benchmark:
        "results/benchmarks/train/{grammar}/{size}/{budget}.tsv"
    conda:
        "../../envs/datalaws.yaml"
    shell:
        "datalaws train-launch --nodes {resources.nodes} --gpus {resources.gpu}"
        " --procs-per-node {resources.procs_per_node} --cpus {threads} --out {params.run_dir}"
        " --lock-wait-min {resources.runtime} -- --spec {params.spec:q} {params.trunk} --options {resources.train_options:q}"
        " --train {input.train} --val {input.val} >> {log} 2>&1"


use rule train as train_trunk with:
    input:
        train=lambda wc: data_train_shards(wc.grammar),
        val=lambda wc: data_val_path(wc.grammar),
    output:
        "results/train/{grammar}/{size}/trunk/trunk.json",
    params:
        spec=lambda wc: train_workflow.trunk_spec_json(config["train"], wc.grammar, wc.size),
        trunk="",
        run_dir=lambda wc, output: output[0].rsplit("/", 1)[0],
    threads: train_trunk_resources["cpus_per_task"]
    resources:
        **train_trunk_resources,
    log:
        "logs/train/{grammar}/{size}/trunk.log",
    benchmark:
        "results/benchmarks/train/{grammar}/{size}/trunk.tsv"
