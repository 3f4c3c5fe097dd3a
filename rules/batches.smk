# The training job: every run of one (dataset, setting, seed) on one device, all its
# normal-class splits, in one process (`ocbench run-batch`), so the imports of torch and
# scikit-learn are paid once per job. For each split in turn it loads and preprocesses
# the split once, pretrains the split's shared autoencoder once
# (pretrain/…/autoencoder.pt, reused while its settings and inputs are unchanged), and
# fits and scores each method into its own run directory. Methods that do not train on
# a device run in the "cpu" batch.
#
# The batch's plan, every run's resolved parameters split by split, goes through a file
# (results/plans/...json): the `plan` job writes it again only when a value in it
# changed (its params are the plan's fingerprint), which then reruns the batch job; the
# batch job refits only the runs whose resolved parameters or inputs changed. The
# declared output is the manifest (each run directory and its status): the run
# directories are not outputs, so Snakemake never deletes a finished result, and a run
# that fails leaves a failed.json beside its last good files while the job goes on
# with the other runs.


rule plan:
    output:
        plan=PLAN,
    params:
        digest=plan_digest_of,
        changes=plan_change,
    log:
        f"{LOGS}/plans/{BATCH_KEY}.log",
    message:
        "plan of batch {wildcards.dataset} {wildcards.setting} seed {wildcards.seed} on {wildcards.device}: "
        "{params.changes}"
    localrule: True
    run:
        write_batch_plan(output.plan, batch_plan_of(batch_of_wildcards(wildcards)))


rule run_batch:
    input:
        prepared=PREPARED,
        splits=batch_splits,
        plan=PLAN,
    output:
        manifest=MANIFEST,
    log:
        f"{LOGS}/batches/{BATCH_KEY}.log",
    message:
        "batch {wildcards.dataset} {wildcards.setting} seed {wildcards.seed} on {wildcards.device}"
    group:
        batch_group
    threads: 1
    resources:
        gpu=gpus,
        **cluster_resources("train"),
    conda:
        ENV
    shell:
        "\"$OCBENCH_ONE_GPU\" {resources.gpu} ocbench run-batch --plan {input.plan} --manifest {output.manifest}"
        " 2> {log}"
