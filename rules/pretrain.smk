# The autoencoder pretrained once per (split, net, device) and shared by every method that
# starts from its encoder (Deep SVDD, Deep SAD, ...), scores with it (CAE) or fits on its
# codes (the hybrid baselines).


rule pretrain:
    input:
        prepared=PREPARED,
        split=SPLIT,
    output:
        autoencoder=AUTOENCODER,
    params:
        autoencoder=lambda wildcards: as_json(autoencoder_params(config, wildcards.dataset)),
        preprocessing=lambda wildcards: dataset_option(wildcards.dataset, "preprocessing"),
    log:
        f"{LOGS}/pretrain/{PRETRAIN_KEY}.log",
    benchmark:
        f"{BENCHMARKS}/pretrain/{PRETRAIN_KEY}.tsv"
    threads: 1
    resources:
        gpu=gpus,
    conda:
        ENV
    shell:
        "ocbench pretrain --prepared {input.prepared} --split {input.split}"
        " --preprocessing {params.preprocessing} --net {wildcards.net} --device {wildcards.device}"
        " --seed {wildcards.seed} --params {params.autoencoder:q} --out {output.autoencoder} 2> {log}"
