# Tables, figures and a summary from the files the runs wrote. Each is flagged for
# `snakemake --report`, with a caption from workflow/report/.
from snakemake import __version__ as SNAKEMAKE_VERSION

from ocbench.report.summary import reported_configuration

# A second or two of work each: on a cluster, Snakemake runs them itself instead of through
# sbatch, where each would wait for the scheduler and start Snakemake twice (docs/cluster.md).
localrules: collect, tables, ranks, plot_auroc, plot_roc, plot_extremes, summary


# The configuration as this workflow resolved it (every default filled), for the report's
# *Configuration* category and the summary; the cluster block (where jobs ran) is left out.
# A changed value (params) writes it again, but only together with the tables it
# describes: after them, so a workflow whose jobs fail leaves both as they were.
rule configuration:
    input:
        tables=f"{TABLES}/auroc_summary.csv",
    output:
        configuration=report(
            f"{OUTDIR}/configuration.yaml",
            caption="../workflow/report/configuration.rst",
            category="Configuration",
        ),
    params:
        config=as_json(reported_configuration(config)),
    message:
        "configuration: {output.configuration}"
    log:
        f"{LOGS}/report/configuration.log",
    localrule: True
    run:
        from ocbench.report.summary import write_configuration

        write_configuration(output.configuration, reported_configuration(config))


# The manifests' list goes through a file (read by ocbench as @list): a command line
# holding thousands of paths would pass the shell's limit on one argument.
rule list_batches:
    input:
        manifests=all_manifests(),
    output:
        listing=f"{TABLES}/lists/batches.txt",
    message:
        "list the batch manifests: {output.listing}"
    log:
        f"{LOGS}/report/list_batches.log",
    localrule: True
    run:
        Path(output.listing).write_text("".join(f"{path}\n" for path in input.manifests))


rule collect:
    input:
        listing=f"{TABLES}/lists/batches.txt",
    output:
        runs=report(
            f"{TABLES}/runs.csv",
            caption="../workflow/report/runs.rst",
            category="Tables",
        ),
    message:
        "collect the runs: {output.runs}"
    log:
        f"{LOGS}/report/collect.log",
    resources:
        **cluster_resources("small"),
    conda:
        ENV
    shell:
        "ocbench collect --out {output.runs} --manifests @{input.listing} 2> {log}"


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
        significance_level=config["statistics"]["significance_level"],
    message:
        "tables: {output.summary} and the LaTeX tables"
    log:
        f"{LOGS}/report/tables.log",
    resources:
        **cluster_resources("small"),
    conda:
        ENV
    shell:
        "ocbench tables --runs {input.runs} --outdir {params.outdir}"
        " --significance-level {params.significance_level} 2> {log}"


# Average ranks over cells with the Friedman and post-hoc tests (docs/statistics.md): one job
# for every (dataset, setting) and every setting over all its datasets.
rule ranks:
    input:
        runs=f"{TABLES}/runs.csv",
    output:
        ranks=report(
            f"{TABLES}/ranks.csv",
            caption="../workflow/report/ranks.rst",
            category="Tables",
        ),
        pairwise=report(
            f"{TABLES}/ranks_pairwise.csv",
            caption="../workflow/report/ranks_pairwise.rst",
            category="Tables",
        ),
        latex=report(
            rank_tables(),
            caption="../workflow/report/ranks_latex.rst",
            category="Tables",
            subcategory="LaTeX",
        ),
        figures=report(
            rank_figures(),
            caption="../workflow/report/critical_difference.rst",
            category="Figures",
            subcategory="Critical difference",
        ),
    params:
        tables=lambda wildcards, output: Path(output.ranks).parent,
        # the diagrams lie at <figures>/{dataset}/{setting}.png (ocbench.report.ranks.rank_figure_name)
        figures=lambda wildcards, output: Path(output.figures[0]).parents[1],
        significance_level=config["statistics"]["significance_level"],
        posthoc=config["statistics"]["posthoc"],
    message:
        "ranks: {output.ranks} and the critical-difference diagrams"
    log:
        f"{LOGS}/report/ranks.log",
    resources:
        **cluster_resources("small"),
    conda:
        ENV
    shell:
        "ocbench ranks --runs {input.runs} --tables-dir {params.tables} --figures-dir {params.figures}"
        " --significance-level {params.significance_level} --posthoc {params.posthoc} 2> {log}"


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
    message:
        "figure: {output.figure}"
    log:
        f"{LOGS}/report/plot_auroc.log",
    resources:
        **cluster_resources("small"),
    conda:
        ENV
    shell:
        "ocbench plot-auroc --runs {input.runs} --out {output.figure} 2> {log}"


rule plot_roc:
    input:
        runs=f"{TABLES}/runs.csv",
    output:
        figure=report(
            f"{FIGURES}/roc/{{dataset}}/{{setting}}.png",
            caption="../workflow/report/roc.rst",
            category="Figures",
            subcategory="ROC curves",
            labels={"dataset": "{dataset}", "setting": "{setting}"},
        ),
    message:
        "figure: {output.figure}"
    log:
        f"{LOGS}/report/plot_roc/{{dataset}}/{{setting}}.log",
    resources:
        **cluster_resources("small"),
    conda:
        ENV
    shell:
        "ocbench plot-roc --runs {input.runs} --dataset {wildcards.dataset} --setting {wildcards.setting}"
        " --out {output.figure} 2> {log}"


# One job per (dataset, setting): a picture of every good run (of extremes_seeds).
rule plot_extremes:
    input:
        prepared=PREPARED,
        runs=f"{TABLES}/runs.csv",
    output:
        figures=report(
            directory(f"{FIGURES}/extremes/{{dataset}}/{{setting}}"),
            patterns=[paths.EXTREMES_FIGURE],
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
        seeds=extremes_seeds_option,
    message:
        "figures: {output.figures}"
    log:
        f"{LOGS}/report/plot_extremes/{{dataset}}/{{setting}}.log",
    resources:
        **cluster_resources("small"),
    conda:
        ENV
    shell:
        "ocbench plot-extremes --prepared {input.prepared} --runs {input.runs} --dataset {wildcards.dataset}"
        " --setting {wildcards.setting} {params.seeds} --outdir {output.figures} --n {params.n} 2> {log}"


rule summary:
    input:
        runs=f"{TABLES}/runs.csv",
        configuration=f"{OUTDIR}/configuration.yaml",
        figure=f"{FIGURES}/auroc.png",  # linked from the summary
        ranks=f"{TABLES}/ranks.csv",
        rank_figures=rank_figures(),  # shown in the summary
    output:
        summary=report(
            f"{OUTDIR}/summary.md",
            caption="../workflow/report/summary.rst",
            category="Summary",
        ),
        comparison=directory(f"{OUTDIR}/published"),
    params:
        snakemake_version=SNAKEMAKE_VERSION,
        rank_figures=lambda wildcards, input: Path(input.rank_figures[0]).parents[1],
    message:
        "summary: {output.summary}"
    log:
        f"{LOGS}/report/summary.log",
    resources:
        **cluster_resources("small"),
    conda:
        ENV
    shell:
        "ocbench summary --runs {input.runs} --configuration {input.configuration} --out {output.summary}"
        " --comparison-dir {output.comparison} --auroc-figure {input.figure}"
        " --ranks {input.ranks} --rank-figures {params.rank_figures}"
        " --snakemake-version {params.snakemake_version} 2> {log}"
