# The shallow baselines and their hybrid variants (fitted on the pretrained encoder's codes).


rule baseline:
    input:
        unpack(run_inputs),
    output:
        scores=f"{RUN_DIR}/scores.csv",
        metrics=f"{RUN_DIR}/metrics.json",
        hyper_parameters=f"{RUN_DIR}/params.json",
    wildcard_constraints:
        method=SHALLOW_METHODS,
    params:
        hyper_parameters=run_hyper_parameters,
        net=net_option,
        preprocessing=lambda wildcards: dataset_option(wildcards.dataset, "preprocessing"),
        autoencoder=autoencoder_option,
        validation=validation_option,
        run_dir=run_dir,
    log:
        f"{LOGS}/runs/{RUN_KEY}.log",
    benchmark:
        f"{BENCHMARKS}/runs/{RUN_KEY}.tsv"
    threads: 1
    resources:
        gpu=gpus,
    conda:
        ENV
    shell:
        "ocbench run --method {wildcards.method} --dataset {wildcards.dataset}"
        " --setting {wildcards.setting} --normal {wildcards.normal} --seed {wildcards.seed}"
        " --device {wildcards.device} --prepared {input.prepared} --split {input.split}"
        " {params.net} --preprocessing {params.preprocessing} {params.autoencoder}"
        " --params {params.hyper_parameters:q} {params.validation} --outdir {params.run_dir} 2> {log}"
