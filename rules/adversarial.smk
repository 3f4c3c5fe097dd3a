# Adversarial examples as anomalies (docs/settings.md): a classifier trained on every class
# of a dataset, once per seed, and every test image attacked against it, once per
# (seed, attack); the splits of the settings with that attack draw from those images.


rule train_classifier:
    input:
        prepared=PREPARED,
    output:
        classifier=CLASSIFIER,
    params:
        training=lambda wildcards: as_json(classifier_params(config, wildcards.dataset)),
    message:
        "classifier of {wildcards.dataset}, seed {wildcards.seed}"
    log:
        f"{LOGS}/classifier/{{dataset}}/seed{{seed}}.log",
    threads: 1
    resources:
        **cluster_resources("train"),
    conda:
        ENV
    shell:
        "ocbench train-classifier --prepared {input.prepared} --seed {wildcards.seed} --params {params.training:q}"
        " --out {output.classifier} 2> {log}"


rule attack:
    input:
        prepared=PREPARED,
        classifier=CLASSIFIER,
    output:
        attacked=ATTACKED,
    params:
        attack=attack_params,
        device=config["training"]["classifier"]["device"],
    message:
        "attack {wildcards.attack} on {wildcards.dataset}, seed {wildcards.seed}"
    log:
        f"{LOGS}/attack/{{dataset}}/seed{{seed}}/{{attack}}.log",
    threads: 1
    resources:
        **cluster_resources("train"),
    conda:
        ENV
    shell:
        "ocbench attack --prepared {input.prepared} --classifier {input.classifier} --seed {wildcards.seed}"
        " --params {params.attack:q} --device {params.device} --out {output.attacked} 2> {log}"
