# Raw files of a dataset (internet or a local mirror) and its prepared arrays.


rule fetch:
    output:
        done=RAW_DONE,
    params:
        raw_dir=lambda wildcards, output: Path(output.done).parent,
        mirror=mirror_option,
    message:
        "fetch {wildcards.dataset}"
    log:
        f"{LOGS}/fetch/{{dataset}}.log",
    localrule: True
    conda:
        ENV
    shell:
        "ocbench fetch --dataset {wildcards.dataset} --raw-dir {params.raw_dir} {params.mirror}"
        " --done {output.done} 2> {log}"


rule prepare:
    input:
        done=RAW_DONE,
    output:
        prepared=PREPARED,
    params:
        raw_dir=lambda wildcards, input: Path(input.done).parent,
        mirror=mirror_option,
    message:
        "prepare {wildcards.dataset}"
    log:
        f"{LOGS}/prepare/{{dataset}}.log",
    # On SLURM, where Snakemake runs, as fetch: one job per dataset, seconds, and one
    # submission less in a row before training; cluster.local_prepare false submits it.
    localrule: LOCAL_PREPARE
    resources:
        **cluster_resources("small"),
    conda:
        ENV
    shell:
        "ocbench prepare --dataset {wildcards.dataset} --raw-dir {params.raw_dir} {params.mirror}"
        " --out {output.prepared} 2> {log}"
