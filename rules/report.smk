# Tables, figures and a summary from the files the runs wrote. Each is flagged for
# `snakemake --report`, with a caption from workflow/report/.


# The file lists go through a file (read by ocbench as @list): a command line holding
# thousands of paths would pass the shell's limit on one argument.
rule list_metrics:
    input:
        metrics=all_metrics(),
    output:
        listing=f"{TABLES}/lists/metrics.txt",
    log:
        f"{LOGS}/report/list_metrics.log",
    localrule: True
    run:
        Path(output.listing).write_text("".join(f"{path}\n" for path in input.metrics))


rule list_scores:
    input:
        scores=lambda wildcards: scores_of(wildcards.dataset, wildcards.setting),
    output:
        listing=f"{TABLES}/lists/scores/{{dataset}}/{{setting}}.txt",
    log:
        f"{LOGS}/report/list_scores/{{dataset}}/{{setting}}.log",
    localrule: True
    run:
        Path(output.listing).write_text("".join(f"{path}\n" for path in input.scores))


rule collect:
    input:
        listing=f"{TABLES}/lists/metrics.txt",
    output:
        runs=report(
            f"{TABLES}/runs.csv",
            caption="../workflow/report/runs.rst",
            category="Tables",
        ),
    log:
        f"{LOGS}/report/collect.log",
    conda:
        ENV
    shell:
        "ocbench collect --out {output.runs} @{input.listing} 2> {log}"


rule tables:
    input:
        runs=f"{TABLES}/runs.csv",
    output:
        summary=report(
            f"{TABLES}/auroc_summary.csv",
            caption="../workflow/report/auroc_summary.rst",
            category="Tables",
        ),
        latex=report(
            latex_tables(),
            caption="../workflow/report/auroc_latex.rst",
            category="Tables",
            subcategory="LaTeX",
        ),
    params:
        outdir=lambda wildcards, output: Path(output.summary).parent,
    log:
        f"{LOGS}/report/tables.log",
    conda:
        ENV
    shell:
        "ocbench tables --runs {input.runs} --outdir {params.outdir} 2> {log}"


rule plot_auroc:
    input:
        runs=f"{TABLES}/runs.csv",
    output:
        figure=report(
            f"{FIGURES}/auroc.png",
            caption="../workflow/report/auroc.rst",
            category="Figures",
            subcategory="AUROC",
        ),
    log:
        f"{LOGS}/report/plot_auroc.log",
    conda:
        ENV
    shell:
        "ocbench plot-auroc --runs {input.runs} --out {output.figure} 2> {log}"


rule plot_roc:
    input:
        listing=f"{TABLES}/lists/scores/{{dataset}}/{{setting}}.txt",
    output:
        figure=report(
            f"{FIGURES}/roc/{{dataset}}/{{setting}}.png",
            caption="../workflow/report/roc.rst",
            category="Figures",
            subcategory="ROC curves",
            labels={"dataset": "{dataset}", "setting": "{setting}"},
        ),
    log:
        f"{LOGS}/report/plot_roc/{{dataset}}/{{setting}}.log",
    conda:
        ENV
    shell:
        "ocbench plot-roc --out {output.figure} @{input.listing} 2> {log}"


rule plot_extremes:
    input:
        prepared=PREPARED,
        scores=f"{RUN_DIR}/scores.csv",
    output:
        figure=report(
            f"{FIGURES}/extremes/{RUN_KEY}.png",
            caption="../workflow/report/extremes.rst",
            category="Most normal and most anomalous",
            subcategory="{dataset} {setting}",
            labels={
                "normal classes": "{normal}",
                "seed": "{seed}",
                "method": "{method}",
                "device": "{device}",
            },
        ),
    params:
        n=32,
    log:
        f"{LOGS}/report/plot_extremes/{RUN_KEY}.log",
    conda:
        ENV
    shell:
        "ocbench plot-extremes --prepared {input.prepared} --scores {input.scores}"
        " --out {output.figure} --n {params.n} 2> {log}"


rule summary:
    input:
        runs=f"{TABLES}/runs.csv",
    output:
        summary=report(
            f"{OUTDIR}/summary.md",
            caption="../workflow/report/summary.rst",
            category="Summary",
        ),
    params:
        settings=as_json(config["settings"]),
    log:
        f"{LOGS}/report/summary.log",
    conda:
        ENV
    shell:
        "ocbench summary --runs {input.runs} --settings {params.settings:q} --out {output.summary} 2> {log}"
