"""The workflow config: schema errors, registry checks, defaults, resolved parameters, the grid."""
import copy
import dataclasses

import pytest
import yaml

from ocbench.config import (Pretrain, Run, autoencoder_params, load_and_validate, method_params,
                            needs_autoencoder, normal_name, parse_normal, pretrain_jobs, runs, split_params)
from ocbench.detectors import METHODS
from ocbench.errors import OcbenchError

from helpers.config_checks import fails
from helpers.paths import ROOT
from helpers.shipped_configs import SHIPPED_CONFIGS


def base():
    return {
        "seeds": [1],
        "methods": ["deep_svdd_oneclass", "deep_svdd_softboundary", "cae", "ocsvm", "isoforest"],
        "method_params": {"deep_svdd_softboundary": {"nu": 0.1}},
        "datasets": {"mnist5k": {"normal_classes": [0, 1], "settings": ["one_class"],
                                 "training": {"network": {"epochs": 3}}}},
    }


@pytest.fixture(autouse=True)
def registries():
    from ocbench.data.registry import DATASETS
    from ocbench.detectors import METHODS

    missing = [m for m in base()["methods"] if m not in METHODS] + [d for d in ["mnist5k"] if d not in DATASETS]
    assert not missing, f"not registered: {missing}"


# --------------------------------------------------------------------------- schema

def test_unknown_key_is_named():
    config = base()
    config["epochs"] = 3
    fails(config, "'epochs' was unexpected")


def test_unknown_nested_key_is_named():
    config = base()
    config["training"] = {"network": {"learning_rate": 0.1}}
    fails(config, "training.network", "'learning_rate' was unexpected")


def test_unknown_key_lists_the_allowed_keys():
    config = base()
    config["epochs"] = 3
    message = fails(config, "config (top level):", "'epochs' was unexpected")
    from ocbench.config import SCHEMA_PATH

    top_level = list(yaml.safe_load(SCHEMA_PATH.read_text())["properties"])  # every key, in the schema's order
    assert {"datadir", "seeds", "methods", "datasets"} <= set(top_level)
    assert message.endswith("; allowed keys: " + ", ".join(top_level)), message
    config = base()
    config["datasets"]["mnist5k"]["nett"] = "mnist_lenet"
    fails(config, "config datasets.mnist5k:", "'nett' was unexpected", "allowed keys: normal_classes, settings, ",
          " net, ")
    # training.network takes its keys from a shared definition ($ref): they are listed too
    config = base()
    config["training"] = {"network": {"learning_rate": 0.1}}
    message = fails(config, "config training.network:")
    assert message.endswith("; allowed keys: lr, epochs, milestones, batch_size, weight_decay, amsgrad, drop_last"), \
        message


def test_yaml_syntax_error_names_file_line_and_column(tmp_path):
    from ocbench.config import load_config_file

    path = tmp_path / "experiment.yaml"
    path.write_text("seeds: [1\nmethods: [ocsvm]\n")  # the flow sequence is never closed
    with pytest.raises(OcbenchError) as err:
        load_config_file(path)
    assert str(err.value) == (f"{path}: YAML syntax error at line 2, column 8: expected ',' or ']', but got ':' "
                              "(while parsing a flow sequence at line 1, column 8)")
    path.write_text("seeds: [1]\nmethods:\n\t- ocsvm\n")  # a tab indents a line
    with pytest.raises(OcbenchError, match=f"^{path}: YAML syntax error at line 3, column 1: found character"):
        load_config_file(path)


def test_a_config_file_error_names_the_file_and_the_key(tmp_path):
    from ocbench.config import load_config_file

    config = base()
    config["method_params"]["deep_svdd_softboundary"]["nu"] = 1.5
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(OcbenchError, match=f"^{path}: config method_params.deep_svdd_softboundary.nu: 1.5 "):
        load_config_file(path)


def test_nu_outside_the_open_unit_interval():
    config = base()
    config["method_params"]["deep_svdd_softboundary"]["nu"] = 1.5
    fails(config, "method_params.deep_svdd_softboundary.nu", "1.5")


def test_zero_epochs():
    config = base()
    config["datasets"]["mnist5k"]["training"]["network"]["epochs"] = 0
    fails(config, "datasets.mnist5k.training.network.epochs", "0 is less than the minimum of 1")


def test_bad_device_and_negative_seed():
    config = base()
    config["devices"] = ["gpu"]
    fails(config, "devices.0", "'gpu'")
    config = base()
    config["seeds"] = [-1]
    fails(config, "seeds.0", "-1")


def test_ratio_of_one_is_refused():
    config = base()
    config["settings"] = {"one_class": {"ratio_pollution": 1.0}}
    fails(config, "settings.one_class.ratio_pollution", "1.0")


# --------------------------------------------------------------------------- registry checks

def test_unknown_dataset():
    config = base()
    config["datasets"]["mnist6k"] = config["datasets"].pop("mnist5k")
    fails(config, "unknown dataset 'mnist6k'", "mnist5k")


def test_unknown_method():
    config = base()
    config["methods"].append("deep_svdd_twoclass")
    fails(config, "unknown method 'deep_svdd_twoclass'", "deep_svdd_oneclass")


def test_unknown_net_and_preprocessing():
    config = base()
    config["datasets"]["mnist5k"]["net"] = "resnet"
    fails(config, "unknown net 'resnet'", "mnist_lenet")
    config = base()
    config["datasets"]["mnist5k"]["preprocessing"] = "zscore"
    fails(config, "unknown preprocessing 'zscore'")


def test_normal_class_out_of_range():
    config = base()
    config["datasets"]["mnist5k"]["normal_classes"] = [0, [1, 10]]
    fails(config, "class 10", "mnist5k", "0-9")


def test_unknown_setting_name():
    config = base()
    config["datasets"]["mnist5k"]["settings"] = ["semi"]
    fails(config, "unknown setting 'semi'", "one_class")


def test_unknown_hyper_parameter_lists_the_allowed_ones():
    config = base()
    config["method_params"]["ocsvm"] = {"C": 1.0}
    message = fails(config, "unknown hyper-parameter 'C'", "'ocsvm'")
    assert "nu" in message


def test_workflow_arguments_are_not_hyper_parameters():
    config = base()
    config["datasets"]["mnist5k"]["method_params"] = {"deep_svdd_oneclass": {"seed": 3}}
    fails(config, "unknown hyper-parameter 'seed'")
    config = base()
    config["method_params"]["cae"] = {"epochs": 3}
    fails(config, "'cae' takes no hyper-parameters", "training.autoencoder")


@pytest.mark.parametrize("method", ["ss_dgm", "supervised"])
def test_a_method_that_needs_labelled_anomalies_is_refused_where_a_setting_has_none(method):
    from ocbench.detectors import METHODS

    assert sorted(m for m, spec in METHODS.items() if spec.needs_labels) == ["ss_dgm", "supervised"]
    config = base()
    config["methods"].append(method)
    fails(config, f"method {method!r} learns from labelled anomalies but setting 'one_class' has none",
          "ratio_known_outlier 0, n_known_outlier_classes 0", "settings.one_class.exclude_methods")
    # labelled normals are not enough
    config = base()
    config["methods"].append(method)
    config["settings"] = {"one_class": {"ratio_known_normal": 0.05}}
    fails(config, f"method {method!r} learns from labelled anomalies but setting 'one_class' has none")
    # excluding it from the setting, and giving it a setting with labelled anomalies, makes the config valid
    config = base()
    config["methods"].append(method)
    config["settings"] = {"one_class": {"exclude_methods": [method]},
                          "labelled": {"ratio_known_outlier": 0.05, "ratio_pollution": 0.1,
                                       "known_outlier_class": 7, "n_known_outlier_classes": 1}}
    config["datasets"]["mnist5k"]["settings"] = ["one_class", "labelled"]
    load_and_validate(config)


def test_known_outlier_class_may_not_be_normal():
    config = base()
    config["settings"] = {"one_class": {"ratio_known_outlier": 0.05, "known_outlier_class": 1,
                                        "n_known_outlier_classes": 1}}
    fails(config, "known_outlier_class 1 is a normal class", "mnist5k")


# --------------------------------------------------------------------------- defaults

def test_defaults_are_filled():
    config = load_and_validate({"methods": ["ocsvm"], "datasets": {"mnist5k": {}}})
    assert config["datadir"] == "data" and config["outdir"] == "results"
    assert config["seeds"] == [1, 2] and config["devices"] == ["cpu"]
    assert config["validation_fraction"] == 0.1 and config["extremes_seeds"] is None
    assert config["training"]["network"] == {"lr": 1e-4, "epochs": 150, "milestones": [50], "batch_size": 200,
                                             "weight_decay": 0.5e-6, "amsgrad": False, "drop_last": False}
    assert config["training"]["autoencoder"]["weight_decay"] == 0.5e-3
    assert config["training"]["pretrain"] is True
    assert config["settings"] == {"one_class": {"ratio_known_normal": 0, "ratio_known_outlier": 0,
                                                "ratio_pollution": 0, "known_outlier_class": None,
                                                "n_known_outlier_classes": 0}}
    dataset = config["datasets"]["mnist5k"]
    assert dataset["normal_classes"] == list(range(10))
    assert dataset["settings"] == ["one_class"]
    assert dataset["net"] == "mnist_lenet" and dataset["mirror"] is None
    assert dataset["method_params"] == {}


def test_two_datasets_never_share_a_default_object():
    from ocbench.data.registry import DATASETS

    assert "wine" in DATASETS
    config = load_and_validate({"methods": ["ocsvm"], "datasets": {"mnist5k": {}, "wine": {}}})
    config["datasets"]["mnist5k"]["method_params"]["ocsvm"] = {"nu": 0.2}
    assert config["datasets"]["wine"]["method_params"] == {}
    assert config["datasets"]["wine"]["normal_classes"] == [0]


# --------------------------------------------------------------------------- resolved parameters

def test_method_params_precedence():
    config = base()
    config["training"] = {"network": {"lr": 0.01, "batch_size": 64}}
    config["method_params"]["deep_svdd_softboundary"] = {"nu": 0.2, "batch_size": 32}
    config["datasets"]["mnist5k"]["method_params"] = {"deep_svdd_softboundary": {"nu": 0.05}}
    config = load_and_validate(config)
    soft = method_params(config, "mnist5k", "deep_svdd_softboundary")
    assert soft == {"lr": 0.01, "epochs": 3, "milestones": [50], "batch_size": 32, "weight_decay": 0.5e-6,
                    "amsgrad": False, "drop_last": False, "init": "default", "nu": 0.05}
    one_class = method_params(config, "mnist5k", "deep_svdd_oneclass")
    assert one_class["batch_size"] == 64 and "nu" not in one_class
    assert method_params(config, "mnist5k", "cae") == {}  # scores with the autoencoder
    assert "lr" not in method_params(config, "mnist5k", "ocsvm")  # not a network


def test_each_deep_method_takes_its_own_training_block():
    config = base()
    config["methods"] += ["rcae", "ss_dgm"]
    config["settings"] = {"labelled": {"ratio_known_outlier": 0.05, "n_known_outlier_classes": 1}}
    config["datasets"]["mnist5k"]["settings"] = ["labelled"]
    config["training"] = {"network": {"weight_decay": 1e-6}, "autoencoder": {"weight_decay": 1e-3, "lr": 0.5}}
    config = load_and_validate(config)
    # RCAE trains an autoencoder: the autoencoder's settings, not the network's
    rcae = method_params(config, "mnist5k", "rcae")
    assert rcae["weight_decay"] == 1e-3 and rcae["lr"] == 0.5
    # SS-DGM keeps its reference optimiser settings unless method_params sets them
    assert method_params(config, "mnist5k", "ss_dgm") == {}


def test_autoencoder_and_split_params():
    config = base()
    config["datasets"]["mnist5k"]["training"]["autoencoder"] = {"epochs": 7, "weight_decay": 0.0}
    config = load_and_validate(config)
    assert autoencoder_params(config, "mnist5k") == {"lr": 1e-4, "epochs": 7, "milestones": [50],
                                                    "batch_size": 200, "weight_decay": 0.0, "amsgrad": False,
                                                    "drop_last": False, "loss": "mean", "init": "default"}
    assert split_params(config, "one_class") == {"ratio_known_normal": 0, "ratio_known_outlier": 0,
                                                 "ratio_pollution": 0, "known_outlier_class": None,
                                                 "n_known_outlier_classes": 0, "validation_fraction": 0.1}


# --------------------------------------------------------------------------- grid

def test_normal_names_round_trip():
    assert normal_name(3) == "3"
    assert normal_name([3, 0, 1]) == "0-1-3"
    assert parse_normal("0-1-3") == [0, 1, 3]
    with pytest.raises(OcbenchError, match="'a-b'"):
        parse_normal("a-b")


def test_grid_counts_and_devices():
    config = base()
    config["devices"] = ["cpu", "cuda"]
    config["seeds"] = [1, 2]
    config = load_and_validate(config)
    grid = runs(config)
    # 2 classes x 2 seeds x (3 deep methods x 2 devices + 2 shallow methods on the host)
    assert len(grid) == 2 * 2 * (3 * 2 + 2)
    assert len(set(grid)) == len(grid)
    assert Run("mnist5k", "one_class", "1", 2, "ocsvm", "cpu") in grid
    assert not any(r.method == "ocsvm" and r.device == "cuda" for r in grid)
    # one autoencoder per split and device, shared by the three deep methods
    assert len(pretrain_jobs(config)) == 2 * 2 * 2
    assert Pretrain("mnist5k", "one_class", "0", 1, "mnist_lenet", "cuda") in pretrain_jobs(config)


def test_pretrain_switch_keeps_the_autoencoder_for_cae():
    config = base()
    config["training"] = {"pretrain": False}
    config = load_and_validate(config)
    assert not needs_autoencoder(config, "deep_svdd_oneclass")
    assert needs_autoencoder(config, "cae")
    assert not needs_autoencoder(config, "ocsvm")


def test_exclude_methods_leave_methods_out_of_a_setting_or_a_dataset():
    config = base()
    config["settings"] = {"one_class": {"exclude_methods": ["cae", "ocsvm"]}, "polluted": {"ratio_pollution": 0.02}}
    config["datasets"]["mnist5k"]["settings"] = ["one_class", "polluted"]
    config["datasets"]["wbc"] = {"exclude_methods": ["deep_svdd_oneclass", "deep_svdd_softboundary", "cae"]}
    config = load_and_validate(config)
    methods = {(r.dataset, r.setting): set() for r in runs(config)}
    for run in runs(config):
        methods[run.dataset, run.setting].add(run.method)
    assert methods == {
        ("mnist5k", "one_class"): {"deep_svdd_oneclass", "deep_svdd_softboundary", "isoforest"},
        ("mnist5k", "polluted"): set(base()["methods"]),
        ("wbc", "one_class"): {"isoforest"},  # both lists apply
        ("wbc", "polluted"): {"ocsvm", "isoforest"}}


def test_a_method_that_runs_nowhere_is_refused_naming_the_lists_that_leave_it_out():
    config = base()
    config["settings"] = {"one_class": {"exclude_methods": ["ocsvm"]}, "polluted": {"ratio_pollution": 0.1}}
    config["datasets"]["mnist5k"]["settings"] = ["one_class", "polluted"]
    config["datasets"]["mnist5k"]["exclude_methods"] = ["ocsvm"]
    fails(config, "config methods: method 'ocsvm' runs nowhere: datasets.mnist5k.exclude_methods and "
                  "settings.one_class.exclude_methods leave it out; remove it there or from methods")
    # an exclusion may name a method the global list leaves out (the global list may change), not an unknown one
    config = base()
    config["datasets"]["mnist5k"]["exclude_methods"] = ["kde"]
    load_and_validate(config)
    config["datasets"]["mnist5k"]["exclude_methods"] = ["kdee"]
    fails(config, "config datasets.mnist5k.exclude_methods: unknown method 'kdee'; allowed: ")


def test_a_methods_list_under_a_setting_or_a_dataset_says_what_replaced_it():
    config = base()
    config["settings"] = {"one_class": {"methods": ["ocsvm"]}}
    fails(config, "config settings.one_class.methods: a setting does not list the methods it runs; every method of "
                  "the top-level methods runs everywhere, except those named under settings.one_class.exclude_methods")
    config = base()
    config["datasets"]["mnist5k"]["methods"] = ["ocsvm"]
    fails(config, "config datasets.mnist5k.methods: a dataset does not list")


def test_load_and_validate_does_not_share_state_between_calls():
    config = base()
    first = load_and_validate(copy.deepcopy(config))
    first["training"]["network"]["lr"] = 5.0
    assert load_and_validate(copy.deepcopy(config))["training"]["network"]["lr"] == 1e-4


# --------------------------------------------------------------------------- shipped configs

@pytest.mark.parametrize("path", SHIPPED_CONFIGS)
def test_shipped_configs_are_valid(path):
    from ocbench.data.registry import DATASETS
    from ocbench.detectors import METHODS

    config = yaml.safe_load((ROOT / path).read_text())
    missing = sorted({m for m in config["methods"] if m not in METHODS} |
                     {d for d in config["datasets"] if d not in DATASETS})
    assert not missing, f"not registered: {missing}"
    load_and_validate(config)
    assert runs(config)


def test_default_config_grid():
    config = load_and_validate(yaml.safe_load((ROOT / "config.yaml").read_text()))
    grid = runs(config)
    every = config["methods"]
    one_class = [m for m in every if m not in config["settings"]["one_class"]["exclude_methods"]]
    semi = [m for m in every if m not in config["settings"]["semi_supervised"]["exclude_methods"]]
    on_images = [m for m in one_class if m not in config["datasets"]["mnist5k"]["exclude_methods"]]
    # mnist5k: 10 classes x 2 seeds, one-class only; wbc and wine: class 0 x 2 seeds, both settings
    assert len(grid) == 10 * 2 * len(on_images) + 2 * 2 * (len(one_class) + len(semi)) == 360
    assert {r.method for r in grid if r.dataset == "mnist5k"} == set(on_images)
    assert {r.method for r in grid if r.setting == "semi_supervised"} == set(semi)
    assert set(one_class) | set(semi) == set(every) == set(METHODS)  # the default shows every method
    assert "ss_dgm" not in one_class and "deep_sad" not in one_class
    assert len(pretrain_jobs(config)) == 10 * 2 + 2 * 2 * 2


# --------------------------------------------------------------------------- checks before any job

def default_config():
    return yaml.safe_load((ROOT / "config.yaml").read_text())


@pytest.mark.parametrize("edit, fragments", [
    # a method's parameter the method does not use is refused with the list it takes
    (lambda c: c["method_params"].update(deep_svdd_oneclass={"nu": 0.1}),
     ["method_params.deep_svdd_oneclass", "'deep_svdd_oneclass' does not use 'nu'", "allowed: lr, epochs"]),
    (lambda c: c["datasets"]["mnist5k"]["method_params"].update(deep_svdd_oneclass={"warm_up_epochs": 3}),
     ["datasets.mnist5k.method_params.deep_svdd_oneclass", "does not use 'warm_up_epochs'"]),
    (lambda c: c["method_params"].update(ocsvm={"seed": 3}), ["'seed'", "the workflow sets it", "allowed: nu, gammas"]),
    # ranges the schema does not know
    (lambda c: c["method_params"]["rcae"].update(lam=-0.5),
     ["method_params.rcae.lam: -0.5", "allowed: a number >= 0"]),
    (lambda c: c["method_params"].update(kde={"cv_folds": 1}), ["method_params.kde.cv_folds: 1", "an integer >= 2"]),
    (lambda c: c["method_params"].update(ocsvm={"gammas": [0.1, 0]}),
     ["method_params.ocsvm.gammas: [0.1, 0]", "a non-empty list of numbers > 0"]),
    (lambda c: c["method_params"].update(ssad={"C": 0}), ["method_params.ssad.C: 0", "a number > 0"]),
    (lambda c: c["method_params"].update(isoforest={"max_samples": 0}),
     ["method_params.isoforest.max_samples: 0", "an integer >= 1"]),
    (lambda c: c["method_params"].update(ocnn={"activation": "relu"}),
     ["method_params.ocnn.activation: 'relu'", "one of sigmoid, linear"]),
    (lambda c: c["method_params"].update(multi_radius_deep_svdd={"finch_metric": "l2"}),
     ["finch_metric: 'l2'", "one of euclidean, cosine, cityblock"]),
    # what does not fit the dataset
    (lambda c: c["datasets"]["mnist5k"].update(net="cifar10_lenet"),
     ["datasets.mnist5k.net", "(3, 32, 32)", "(1, 28, 28)", "nets that fit: mnist_lenet, fmnist_lenet"]),
    (lambda c: c["datasets"]["wine"].update(preprocessing="gcn_minmax"),
     ["datasets.wine.preprocessing", "'gcn_minmax' is for image data", "tabular", "allowed: standard_minmax"]),
    # wine: 119 normal rows, 71 of them in the 60 % training share (test_registry)
    (lambda c: c["datasets"]["wine"]["training"]["network"].update(batch_size=72),
     ["datasets.wine.training.network.batch_size", "batch size 72", "71 training samples", "'one_class'"]),
    (lambda c: c["method_params"].update(ss_dgm={"batch_size": 4000}),
     ["method_params.ss_dgm.batch_size", "batch size 4000"]),
    # drop_last with a batch larger than the training set: every epoch would be empty
    (lambda c: c["datasets"]["wine"]["training"]["network"].update(batch_size=72, drop_last=True),
     ["datasets.wine.training.network.batch_size", "batch size 72", "71 training samples",
      "with drop_last every epoch would be empty", "allowed: at most 71"]),
    (lambda c: c["training"]["network"].update(drop_last="yes"), ["training.network.drop_last", "'yes'"]),
    (lambda c: c["settings"]["semi_supervised"].update(ratio_known_normal=0.5, ratio_known_outlier=0.5),
     ["settings.semi_supervised", "ratio_known_normal + ratio_known_outlier is 1", "< 1"]),
    # wbc: 357 benign, 21 malignant rows; 40 % pollution needs more than the 13 training outliers
    (lambda c: c["settings"]["semi_supervised"].update(ratio_pollution=0.4),
     ["datasets.wbc (setting 'semi_supervised', normal classes 0)", "ratio_pollution=0.4 needs"]),
])
def test_bad_values_stop_before_any_job_with_one_line(edit, fragments):
    config = default_config()
    edit(config)
    fails(config, *fragments)


def test_the_default_config_passes_every_check():
    load_and_validate(default_config())


def test_batch_size_equal_to_the_training_set_is_allowed():
    config = default_config()
    config["datasets"]["wine"]["training"]["network"]["batch_size"] = 71
    load_and_validate(config)


def test_cuda_without_a_driver_is_refused_without_importing_torch(monkeypatch):
    import shutil
    import sys

    from ocbench.config import checks as config_module  # where the device checks live

    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(config_module.Path, "exists", lambda self: False)
    config = load_and_validate(default_config())
    config_module.check_local_devices(config)  # cpu only: nothing to check
    config["devices"] = ["cpu", "cuda"]
    monkeypatch.setitem(sys.modules, "torch", None)  # an `import torch` now raises ImportError
    with pytest.raises(OcbenchError, match=r"^config devices: 'cuda' is listed but this machine has no NVIDIA driver"):
        config_module.check_local_devices(config)
    config["devices"] = ["auto"]
    config_module.check_local_devices(config)


def test_auto_jobs_ask_for_a_gpu_only_where_they_will_train_on_one(monkeypatch):
    from ocbench.config import checks as config_module  # where the device checks live

    config = load_and_validate(default_config())
    config["devices"] = ["auto"]
    monkeypatch.setattr(config_module, "cuda_missing_reason", lambda: None)  # a machine with CUDA
    assert config_module.auto_uses_gpu(config, local_exec=True)
    assert not config_module.auto_uses_gpu(config, local_exec=False)  # a cluster: the CPU partition
    config["devices"] = ["cpu", "cuda"]
    assert not config_module.auto_uses_gpu(config, local_exec=True)  # no auto job at all
    config["devices"] = ["auto"]
    monkeypatch.setattr(config_module, "cuda_missing_reason", lambda: "no NVIDIA driver")
    assert not config_module.auto_uses_gpu(config, local_exec=True)


def test_check_config_command_catches_the_same_errors(tmp_path, capsys):
    from ocbench.cli import main

    path = tmp_path / "config.yaml"
    path.write_text((ROOT / "config.yaml").read_text())
    assert main(["check-config", str(path), "--snakefile", ""]) == 0
    out = capsys.readouterr().out
    assert f"{path}: valid; {len(runs(load_and_validate(default_config())))} runs in" in out
    config = default_config()
    config["datasets"]["wine"]["preprocessing"] = "gcn_minmax"
    path.write_text(yaml.safe_dump(config))
    assert main(["check-config", str(path), "--snakefile", ""]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"ocbench: error: {path}: config datasets.wine.preprocessing:") and "\n" not in err


# --------------------------------------------------------------------------- what only fails in a job otherwise

def _wine(**extra):
    return {"seeds": [1], "methods": ["deep_svdd_oneclass", "isoforest"],
            "training": {"autoencoder": {"batch_size": 32}, "network": {"batch_size": 32}},
            "datasets": {"wine": {"settings": ["one_class"]}}, **extra}


@pytest.mark.parametrize("normal", [[1], [0, 1]])
def test_a_tabular_set_takes_class_0_as_normal(normal):
    config = _wine()
    config["datasets"]["wbc"] = {"settings": ["one_class"], "normal_classes": normal}
    fails(config, f"config datasets.wbc.normal_classes: {normal} for tabular dataset 'wbc', whose class 0 is the "
                  "normal data", "allowed: [0]")


def test_a_batch_of_one_sample_is_refused_with_the_reason():
    config = _wine()
    config["training"]["network"]["batch_size"] = 1
    # declared once (hyperparameters.TRAINING: batch norm cannot normalise one sample), so the schema refuses it
    fails(config, "config training.network.batch_size: 1 is less than the minimum of 2")


def test_a_training_set_of_one_sample_is_refused(monkeypatch):
    from ocbench.data.registry import DATASETS

    # wine with 2 normal and 10 outlier rows: its stratified 60 % training share holds 1 normal row
    shrunk = dataclasses.replace(DATASETS["wine"], class_sizes=(2, 10))
    assert shrunk.train_class_sizes() == (1, 6)
    monkeypatch.setitem(DATASETS, "wine", shrunk)
    fails(_wine(), "the training set holds 1 sample(s); every method needs at least 2")


def test_a_plugin_with_a_syntax_error_names_its_file_and_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "broken.py").write_text("x = 1\ndef f(:\n    pass\n")
    message = fails(_wine(plugins=["broken.py"]), "plugins: plugin broken.py, line 2: SyntaxError: ")
    assert "Traceback" not in message


def test_a_plugin_that_raises_at_import_names_its_file_line_and_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "raising.py").write_text("import math\n\n\ndef ratio():\n    return 1 / 0\n\n\nVALUE = ratio()\n")
    fails(_wine(plugins=["raising.py"]), "plugins: plugin raising.py, line 5: ZeroDivisionError: division by zero")
