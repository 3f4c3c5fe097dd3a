"""The job layer: each workflow job is one function here, and a batch job runs from a typed plan.

- ``plan``: the keys of runs and jobs and the typed plan of a batch job, with its JSON form;
- ``plan_changes``: what changed between two plans, by key (a dry run's rerun reason);
- ``data_jobs``: fetch, prepare, split, the attacks' classifier and the attack;
- ``pretraining``: the shared autoencoder of a split, trained once and reused;
- ``method_run``: one method on one split, fitted, scored and written to its run directory;
- ``uptodate``: a run's request, and whether its result on disk is of that request;
- ``failures``: a failed run's record; ``measure``: seconds and peak memory;
- ``stacks``: a GPU batch's deep runs trained as stacks;
- ``batch``: the batch job, split by split.

The modules import torch and scikit-learn only inside the functions that need them, so
that a job of a shallow method, a split or a config check never pays for them.
"""
