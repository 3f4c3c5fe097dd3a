# One split per (dataset, setting, normal classes, seed), shared by every method. On SLURM
# it is made in the job of the batch that reads it where that batch alone does, else in
# the "splits" group (common.smk, SLURM jobs of the splits).


rule split:
    input:
        prepared=PREPARED,
        # read from beside the prepared file by `ocbench split` and by the runs (ocbench.data.ood)
        anomalies=anomaly_prepared,
        # the attacked test images of a setting with an attack (rules/adversarial.smk)
        attacked=attacked_input,
    output:
        split=SPLIT,
    params:
        setting=lambda wildcards: as_json(split_params(config, wildcards.setting)),
    message:
        "split {wildcards.dataset} {wildcards.setting}, normal {wildcards.normal}, seed {wildcards.seed}"
    log:
        f"{LOGS}/split/{SPLIT_KEY}.log",
    group:
        split_group
    resources:
        **split_resources(),
    conda:
        ENV
    shell:
        "ocbench split --dataset {wildcards.dataset} --prepared {input.prepared}"
        " --normal {wildcards.normal} --seed {wildcards.seed} --params {params.setting:q}"
        " --out {output.split} 2> {log}"
