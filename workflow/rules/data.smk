# Data half of the DAG: grammar -> corpus shards -> gzip statistics (all deterministic).
# These rules are cacheable between workflows (`--cache`), and Snakemake forbids a benchmark:
# directive on cacheable rules, so each command logs its own wall time and throughput instead.


rule data_grammar:
    output:
        "results/grammars/{grammar}.json",
    params:
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
    params:
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
    params:
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
