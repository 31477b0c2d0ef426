# Data half of the DAG (all deterministic):
#   grammar -> corpus shards -> gzip statistics and the other compressibility measures;
#   dataset -> documents (train/val by document) -> tokenizer -> corpus shards -> the same.
# A dataset's corpus lands at the paths of a grammar's, with the same sidecar contract, so every
# later rule treats both alike (docs/datasets.md). The rules that write corpora are restricted to
# their own names, so one file never has two rules. These rules are cacheable between workflows
# (`--cache`); their `code` param (datalaws.codekey) enters the cache's hash, so a change to the
# package code they run misses the cache instead of serving stale output. Snakemake forbids a
# benchmark: directive on cacheable rules, so each command logs its own wall time and throughput.

import datalaws.datasets.config as datasets_config
import datalaws.datasets.workflow as datasets_workflow

data_grammar_names = datasets_workflow.name_pattern(datasets_workflow.pcfg_names(config))
data_text_datasets = datasets_workflow.name_pattern(datasets_workflow.text_names(config))
data_token_datasets = datasets_workflow.name_pattern(datasets_workflow.token_names(config))


rule data_grammar:
    output:
        "results/grammars/{grammar}.json",
    wildcard_constraints:
        grammar=data_grammar_names,
    params:
        code=DATA_CODE,
        spec=lambda wc: grammar_entry(config, wc.grammar),
        seed=lambda wc: grammar_seed(config, wc.grammar),
        max_redraws=config["data"]["max_redraws"],
        max_radius=config["data"]["max_spectral_radius"],
    log:
        "logs/data/grammar/{grammar}.log",
    conda:
        "../../envs/datalaws.yaml"
    cache: "omit-software"
    shell:
        "datalaws grammar --nonterminals {params.spec[nonterminals]}"
        " --terminals {params.spec[terminals]} --max-options {params.spec[max_options]}"
        " --max-length {params.spec[max_length]} --seed {params.seed}"
        " --max-redraws {params.max_redraws} --max-radius {params.max_radius}"
        " -o {output} > {log} 2>&1"


rule data_train_shard:
    input:
        "results/grammars/{grammar}.json",
    output:
        tokens="results/corpus/{grammar}/train/{shard}.bin",
        sidecar="results/corpus/{grammar}/train/{shard}.bin.json",
    wildcard_constraints:
        grammar=data_grammar_names,
    params:
        code=DATA_CODE,
        seed=lambda wc: corpus_seed(config, wc.grammar),
        tokens=config["data"]["train_tokens"],
        shards=n_train_shards(config),
        context=config["context"],
    log:
        "logs/data/corpus/{grammar}/train_{shard}.log",
    conda:
        "../../envs/datalaws.yaml"
    cache: "omit-software"
    shell:
        "datalaws sample {input} --name {wildcards.grammar} --split train"
        " --tokens {params.tokens} --shard $((10#{wildcards.shard})) --shards {params.shards}"
        " --context {params.context} --seed {params.seed} -o {output.tokens} > {log} 2>&1"


rule data_val:
    input:
        "results/grammars/{grammar}.json",
    output:
        tokens="results/corpus/{grammar}/val.bin",
        sidecar="results/corpus/{grammar}/val.bin.json",
    wildcard_constraints:
        grammar=data_grammar_names,
    params:
        code=DATA_CODE,
        seed=lambda wc: corpus_seed(config, wc.grammar),
        tokens=config["data"]["val_tokens"],
        context=config["context"],
    log:
        "logs/data/corpus/{grammar}/val.log",
    conda:
        "../../envs/datalaws.yaml"
    cache: "omit-software"
    shell:
        "datalaws sample {input} --name {wildcards.grammar} --split val"
        " --tokens {params.tokens} --context {params.context} --seed {params.seed}"
        " -o {output.tokens} > {log} 2>&1"


rule data_gzip:
    input:
        lambda wc: data_train_shards(wc.grammar),
    output:
        "results/gzip/{grammar}.json",
    params:
        code=DATA_CODE,
        sequences=config["gzip"]["sequences"],
        level=config["gzip"]["level"],
        seed=lambda wc: corpus_seed(config, wc.grammar),
    log:
        "logs/data/gzip/{grammar}.log",
    conda:
        "../../envs/datalaws.yaml"
    cache: "omit-software"
    shell:
        "datalaws gzip {input} --sequences {params.sequences} --level {params.level}"
        " --seed {params.seed} -o {output} > {log} 2>&1"


rule data_compress:
    input:
        shards=lambda wc: data_train_shards(wc.grammar),
        tokenizer=lambda wc: datasets_workflow.compress_tokenizer(config, wc.grammar),
    output:
        "results/compress/{grammar}.json",
    params:
        code=DATA_CODE,
        sequences=config["gzip"]["sequences"],
        seed=lambda wc: corpus_seed(config, wc.grammar),
        tokenizer=lambda wc, input: f"--tokenizer {input.tokenizer}" if input.tokenizer else "",
    log:
        "logs/data/compress/{grammar}.log",
    conda:
        "../../envs/datalaws.yaml"
    cache: "omit-software"
    shell:
        "datalaws compress {input.shards} {params.tokenizer} --sequences {params.sequences}"
        " --seed {params.seed} -o {output} > {log} 2>&1"


rule data_dataset_documents:
    input:
        lambda wc: datasets_workflow.source_files(config, wc.dataset),
    output:
        train=datasets_workflow.documents_path("{dataset}", "train"),
        val=datasets_workflow.documents_path("{dataset}", "val"),
        manifest=datasets_workflow.manifest_path("{dataset}"),
    wildcard_constraints:
        dataset=data_text_datasets,
    params:
        code=DATA_CODE,
        spec=lambda wc: datasets_config.stage_json(config, wc.dataset, "documents"),
        seed=lambda wc: datasets_config.dataset_seed(config, wc.dataset),
    log:
        "logs/data/dataset/{dataset}/documents.log",
    conda:
        "../../envs/datalaws.yaml"
    cache: "omit-software"
    shell:
        "datalaws dataset documents --spec {params.spec:q} --seed {params.seed}"
        " --train {output.train} --val {output.val} --manifest {output.manifest} > {log} 2>&1"


rule data_dataset_tokenizer:
    input:
        lambda wc: datasets_workflow.tokenizer_inputs(config, wc.dataset),
    output:
        datasets_workflow.tokenizer_path("{dataset}"),
    wildcard_constraints:
        dataset=data_text_datasets,
    params:
        code=DATA_CODE,
        spec=lambda wc: datasets_config.stage_json(config, wc.dataset, "tokenizer"),
        docs=lambda wc: datasets_workflow.documents_path(wc.dataset, "train"),
    log:
        "logs/data/dataset/{dataset}/tokenizer.log",
    conda:
        "../../envs/datalaws.yaml"
    cache: "omit-software"
    shell:
        "datalaws dataset tokenizer --spec {params.spec:q} --train-docs {params.docs}"
        " -o {output} > {log} 2>&1"


rule data_dataset_corpus:
    input:
        train=datasets_workflow.documents_path("{dataset}", "train"),
        val=datasets_workflow.documents_path("{dataset}", "val"),
        manifest=datasets_workflow.manifest_path("{dataset}"),
        tokenizer=datasets_workflow.tokenizer_path("{dataset}"),
    output:
        **datasets_workflow.corpus_outputs(config),
    wildcard_constraints:
        dataset=data_text_datasets,
    params:
        code=DATA_CODE,
        spec=lambda wc: datasets_config.stage_json(config, wc.dataset, "corpus"),
        seed=lambda wc: datasets_config.dataset_seed(config, wc.dataset),
        context=config["context"],
        train_tokens=config["data"]["train_tokens"],
        val_tokens=config["data"]["val_tokens"],
    log:
        "logs/data/dataset/{dataset}/corpus.log",
    conda:
        "../../envs/datalaws.yaml"
    cache: "omit-software"
    shell:
        "datalaws dataset corpus --spec {params.spec:q} --seed {params.seed}"
        " --docs-train {input.train} --docs-val {input.val} --tokenizer {input.tokenizer}"
        " --manifest {input.manifest} --context {params.context}"
        " --train-tokens {params.train_tokens} --val-tokens {params.val_tokens}"
        " --train {output.train} --val {output.val} > {log} 2>&1"


rule data_dataset_tokens:
    input:
        lambda wc: datasets_workflow.source_files(config, wc.dataset),
    output:
        manifest=datasets_workflow.manifest_path("{dataset}"),
        **datasets_workflow.corpus_outputs(config),
    wildcard_constraints:
        dataset=data_token_datasets,
    params:
        code=DATA_CODE,
        spec=lambda wc: datasets_config.stage_json(config, wc.dataset, "tokens"),
        seed=lambda wc: datasets_config.dataset_seed(config, wc.dataset),
        context=config["context"],
        train_tokens=config["data"]["train_tokens"],
        val_tokens=config["data"]["val_tokens"],
    log:
        "logs/data/dataset/{dataset}/tokens.log",
    conda:
        "../../envs/datalaws.yaml"
    cache: "omit-software"
    shell:
        "datalaws dataset tokens --spec {params.spec:q} --seed {params.seed}"
        " --manifest {output.manifest} --context {params.context}"
        " --train-tokens {params.train_tokens} --val-tokens {params.val_tokens}"
        " --train {output.train} --val {output.val} > {log} 2>&1"
