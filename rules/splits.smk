# One split per (dataset, setting, normal classes, seed), shared by every method.


rule split:
    input:
        prepared=PREPARED,
    output:
        split=SPLIT,
    params:
        setting=lambda wildcards: as_json(split_params(config, wildcards.setting)),
    log:
        f"{LOGS}/split/{SPLIT_KEY}.log",
    conda:
        ENV
    shell:
        "ocbench split --dataset {wildcards.dataset} --prepared {input.prepared}"
        " --normal {wildcards.normal} --seed {wildcards.seed} --params {params.setting:q}"
        " --out {output.split} 2> {log}"
