"""The workflow configuration: validation, defaults, resolved parameters and the run grid.

``load_and_validate`` runs before any job: first the JSON Schema (types, ranges,
unknown keys; defaults filled), then the checks a schema cannot express because they
need the registries (dataset, method, net, preprocessing and hyper-parameter names,
the hyper-parameters' declared ranges, class ranges, labelled samples for
semi-supervised methods, a net or preprocessing that does not fit the dataset, a batch
larger than the training set, ratios that need more outliers than the dataset has).
Each failure is one ``OcbenchError`` line naming the key, the value and what is allowed.
The registries are plain data: checking a config imports neither torch nor
scikit-learn (``check_local_devices``, run only where jobs run locally, asks torch
about CUDA only when a driver is present and cuda is listed).

The other functions turn a validated config into what one job needs
(``method_params``, ``autoencoder_params``, ``split_params``) and into the grid of
jobs (``runs``, ``pretrain_jobs``). This module does not import Snakemake.
"""

from __future__ import annotations

from .schema import SCHEMA_PATH, validate_schema
from .names import (
    WORKFLOW_ARGUMENTS, FIXED_BY_METHOD, HOST_DEVICE, hyper_parameter_names, normal_name, parse_normal,
    setting_has_labels, needs_autoencoder, uses_validation, method_devices, KNOWN_CLASS_ALL,
    KNOWN_CLASS_NEXT, known_setting_name, parse_setting_name, expands_known_class, known_classes_of,
    grid_settings, base_setting, dataset_methods)
from .resolve import (
    method_params, training_init, autoencoder_params, split_params, attack_of, classifier_params,
    anomaly_datasets_of, dataset_mirror)
from .checks import (
    training_set_size, cuda_missing_reason, auto_uses_gpu, check_local_devices, check_semantics,
    load_and_validate)
from .grid import (
    Run, Pretrain, runs, pretrain_for, pretrain_jobs, dataset_settings, Batch, batch_of, group_runs,
    batches_reading_their_splits_alone, split_runs, batch_job_plan, batch_plan)
from .files import read_config_file, in_config_files, exit_on_config_error, load_config_file

__all__ = [
    "SCHEMA_PATH", "validate_schema", "WORKFLOW_ARGUMENTS", "FIXED_BY_METHOD", "HOST_DEVICE",
    "hyper_parameter_names", "normal_name", "parse_normal", "setting_has_labels", "needs_autoencoder",
    "uses_validation", "method_devices", "KNOWN_CLASS_ALL", "KNOWN_CLASS_NEXT", "known_setting_name",
    "parse_setting_name", "expands_known_class", "known_classes_of", "grid_settings", "base_setting",
    "dataset_methods", "method_params", "training_init", "autoencoder_params", "split_params", "attack_of",
    "classifier_params", "anomaly_datasets_of", "dataset_mirror", "training_set_size", "cuda_missing_reason",
    "auto_uses_gpu", "check_local_devices", "check_semantics", "load_and_validate", "Run", "Pretrain", "runs",
    "pretrain_for", "pretrain_jobs", "dataset_settings", "Batch", "batch_of", "group_runs",
    "batches_reading_their_splits_alone", "split_runs",
    "batch_job_plan", "batch_plan", "read_config_file", "in_config_files", "exit_on_config_error",
    "load_config_file",
]
