"""docs/extending.md as written: its plugin files and configs, taken from the page itself, add a
shallow method and a dataset, and a deep method and a network, that the config check, the
detector API and the workflow accept, and the runs reach runs.csv with an AUROC. Also what a
plugin may not do, and loading one again."""
import csv
import json
import math
import subprocess
import sys

import numpy as np
import pytest
import yaml

from ocbench import plugins
from ocbench.errors import OcbenchError

from helpers.paths import BIN, ROOT
from helpers.plugins import doc_files, knn_plugin, write_doc_files
from helpers.workflow import workflow_env


@pytest.fixture
def registries():
    """The registries as they were before the test: a plugin loaded here must not leak into other tests."""
    from ocbench.data.registry import DATASETS
    from ocbench.detectors import DETECTOR_CLASSES, METHODS
    from ocbench.nets import NETS

    saved = [(registry, dict(registry))
             for registry in (DATASETS, METHODS, DETECTOR_CLASSES, NETS, plugins._LOADED, plugins._REGISTERED)]
    modules = set(sys.modules)
    yield
    for registry, before in saved:
        registry.clear()
        registry.update(before)
    for name in set(sys.modules) - modules:
        if name.startswith("ocbench_plugin_"):
            del sys.modules[name]


def env():
    return workflow_env(OMP_NUM_THREADS="1")


# --------------------------------------------------------------------------- the worked example, in this process

def test_the_doc_plugin_adds_a_method_that_scores_by_hand(tmp_path, monkeypatch, registries):
    from ocbench.detectors import method_spec

    write_doc_files(tmp_path)
    monkeypatch.chdir(tmp_path)  # a .py path is read from the working directory
    plugins.load_plugins(["toy_plugin.py"])
    spec = method_spec("mean_distance")
    train = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0]])  # mean (1, 1)
    test = np.array([[1.0, 1.0], [4.0, 5.0]])  # 0 and a 3-4-5 triangle away from it
    euclidean = spec.factory({"metric": "euclidean"}, net=None, device="cpu", seed=1, autoencoder=None).fit(train)
    np.testing.assert_allclose(euclidean.decision_function(test), [0.0, 5.0])
    manhattan = spec.factory({"metric": "manhattan"}, net=None, device="cpu", seed=1, autoencoder=None).fit(train)
    np.testing.assert_allclose(manhattan.decision_function(test), [0.0, 7.0])
    # every training sample lies sqrt(2) from the mean, so the threshold is sqrt(2): only the far sample is flagged
    assert euclidean.predict(test).tolist() == [0, 1]


def test_the_doc_config_is_checked_with_the_plugin_names(tmp_path, monkeypatch, registries):
    from ocbench.config import load_config_file, runs

    write_doc_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    config = load_config_file("experiment.yaml")
    assert [(run.dataset, run.method, run.normal) for run in runs(config)] == [
        ("two_blobs", "mean_distance", "0"), ("two_blobs", "isoforest", "0")]
    assert config["datasets"]["two_blobs"]["net"] == "two_blobs_mlp"
    bad = yaml.safe_load(doc_files()["experiment.yaml"])
    bad["method_params"]["mean_distance"]["metric"] = "chebyshev"
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad))
    with pytest.raises(OcbenchError, match=r"config method_params.mean_distance.metric: 'chebyshev' is not allowed "
                                           r"for method 'mean_distance'; allowed: one of euclidean, manhattan$"):
        load_config_file("bad.yaml")


def test_a_plugin_changes_the_code_version(tmp_path, monkeypatch, registries):
    from ocbench.code_version import code_version

    before = code_version()
    write_doc_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    plugins.load_plugins(["toy_plugin.py"])
    assert code_version() != before


def test_a_plugin_file_is_in_the_code_versions_of_its_runs_and_of_no_other(tmp_path, monkeypatch, registries):
    from ocbench.code_version import clear_cache, run_version
    from ocbench.data.registry import DATASETS
    from ocbench.detectors import METHODS

    def versions():
        clear_cache()  # computed once per process; the test edits the files in between
        return {(method, dataset): run_version(method, dataset, None)
                for method, dataset in [("isoforest", "wine"), ("mean_distance", "wine"), ("knn", "wine"),
                                        ("isoforest", "two_blobs")] if method in METHODS and dataset in DATASETS}

    built_in = versions()
    write_doc_files(tmp_path)
    knn_plugin(tmp_path)
    monkeypatch.chdir(tmp_path)
    plugins.load_plugins(["toy_plugin.py", "knn_plugin.py"])
    loaded = versions()
    assert loaded[("isoforest", "wine")] == built_in[("isoforest", "wine")]  # adding plugins changes no version
    # the plugins' runs have versions of their own (mean_distance on wine and isoforest on two_blobs may share
    # one: toy_plugin.py imports isoforest's module, so both hash the same files)
    assert len({loaded[("isoforest", "wine")], loaded[("knn", "wine")], loaded[("mean_distance", "wine")]}) == 3
    assert loaded[("isoforest", "two_blobs")] != built_in[("isoforest", "wine")]

    (tmp_path / "knn_plugin.py").write_text((tmp_path / "knn_plugin.py").read_text() + "# a comment\n")
    edited = versions()
    assert {key for key in loaded if loaded[key] != edited[key]} == {("knn", "wine")}

    # toy_plugin.py defines mean_distance and the two_blobs dataset: their runs, whatever the other half
    (tmp_path / "toy_plugin.py").write_text((tmp_path / "toy_plugin.py").read_text() + "# a comment\n")
    again = versions()
    assert {key for key in edited if edited[key] != again[key]} == {("mean_distance", "wine"),
                                                                    ("isoforest", "two_blobs")}

def test_the_doc_deep_plugin_trains_on_its_own_network_with_the_loss_worked_by_hand(tmp_path, monkeypatch,
                                                                                     registries):
    import torch
    from sklearn.base import clone

    from ocbench.detectors import method_spec
    from ocbench.nets import build_network

    write_doc_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    plugins.load_plugins(["toy_plugin.py", "deep_plugin.py"])
    spec = method_spec("robust_deep_svdd")
    # an encoder method: deep, pretrained, and the training block's settings and init are its own
    assert (spec.deep, spec.pretrained, spec.training) == (True, True, "network")
    assert list(spec.hyper_parameters) == ["lr", "epochs", "milestones", "batch_size", "weight_decay", "amsgrad",
                                           "drop_last", "init", "scale"]
    assert type(build_network("two_blobs_tiny")).__name__ == "TinyEncoder"
    detector = spec.factory({"scale": 2.0}, net="two_blobs_tiny", device="cpu", seed=1, autoencoder=None)
    # squared distances to (1, 1): 0, 1 + 1 = 2 and 4 + 0 = 4; at scale 2: log 1, log 2, log 3, averaged
    codes = torch.tensor([[1.0, 1.0], [2.0, 0.0], [3.0, 1.0]])
    loss = detector.batch_loss(lambda x: x, codes, torch.tensor([1.0, 1.0]))
    assert loss.item() == pytest.approx((0.0 + math.log(2.0) + math.log(3.0)) / 3)
    x = np.random.default_rng(0).random((48, 4)).astype(np.float32)
    fitted = clone(detector).set_params(epochs=2, batch_size=16).fit(x)
    np.testing.assert_array_equal(fitted.decision_scores_, fitted.decision_function(x))
    np.testing.assert_array_equal(fitted.labels_, fitted.predict(x))
    assert fitted.threshold_ == np.quantile(fitted.decision_scores_, 0.9)


def test_the_deep_method_takes_the_training_block_without_declaring_it(tmp_path, monkeypatch, registries):
    from ocbench.config import load_config_file, method_params

    write_doc_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    config = load_config_file("deep_experiment.yaml")
    assert method_params(config, "two_blobs", "robust_deep_svdd") == {
        "lr": 1e-3, "epochs": 10, "milestones": [], "batch_size": 32, "weight_decay": 0.5e-6, "amsgrad": False,
        "drop_last": False, "init": "default", "scale": 0.5}


def test_loading_a_plugin_again_replaces_what_it_registered(tmp_path, monkeypatch, registries):
    from ocbench.detectors import METHODS, method_spec

    write_doc_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    plugins.load_plugins(["toy_plugin.py"])
    first = method_spec("mean_distance").detector
    plugins.load_plugins(["./toy_plugin.py"])  # the same file, named another way: loaded again, not refused
    assert method_spec("mean_distance").detector is not first
    edited = doc_files()["toy_plugin.py"].replace('short_name="MeanDist"', 'short_name="MD"')
    (tmp_path / "toy_plugin.py").write_text(edited)
    plugins.load_plugins(["toy_plugin.py"])  # a notebook after an edit: the edit takes effect
    assert METHODS["mean_distance"].short_name == "MD"
    # another file that registers the same name is still refused
    (tmp_path / "copy.py").write_text(edited)
    with pytest.raises(OcbenchError, match="^plugins: copy.py: a plugin registers method 'mean_distance', which "
                                           "is already registered"):
        plugins.load_plugins(["copy.py"])


# --------------------------------------------------------------------------- what a plugin may not do

def test_a_plugin_may_not_reuse_a_name(tmp_path, monkeypatch, registries):
    (tmp_path / "clash.py").write_text(
        "from ocbench.detectors import MethodSpec\n"
        "from ocbench.detectors.base import Detector\n"
        "from ocbench.plugins import register_method\n"
        "class Mine(Detector):\n    pass\n"
        "register_method('ocsvm', MethodSpec('Mine', 'shallow'), Mine)\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OcbenchError, match=r"^plugins: clash.py: a plugin registers method 'ocsvm', which is already registered; "
                                           r"choose another name \(taken: .*isoforest"):
        plugins.load_plugins(["clash.py"])


def test_a_method_spec_must_name_its_class(registries):
    from ocbench.detectors import MethodSpec
    from ocbench.detectors.base import Detector

    class Mine(Detector):
        pass

    with pytest.raises(OcbenchError, match="names detector 'Other' but the class given is 'Mine'"):
        plugins.register_method("mine", MethodSpec("Other", "shallow"), Mine)


def test_a_method_may_not_take_another_methods_short_name(registries):
    from ocbench.detectors import MethodSpec
    from ocbench.detectors.base import Detector

    class Mine(Detector):
        pass

    with pytest.raises(OcbenchError, match="short name 'OC-SVM' is that of method 'ocsvm' in the tables"):
        plugins.register_method("mine", MethodSpec("Mine", "shallow", short_name="OC-SVM"), Mine)


def test_a_declared_parameter_the_constructor_does_not_take_is_refused_before_any_job(
        tmp_path, monkeypatch, registries):
    from ocbench.config import load_and_validate

    knn_plugin(tmp_path, arguments="n_neighbors=5, seed=0", declared="k")
    monkeypatch.chdir(tmp_path)
    config = {"plugins": ["knn_plugin.py"], "methods": ["knn"], "datasets": {"wine": {}}}
    with pytest.raises(OcbenchError, match=r"^config methods: method 'knn' gives its detector 'k' but "
                                           r"KNNDistance.__init__ does not take it; it takes: n_neighbors, seed "
                                           r"\(its runs pass seed, the MethodSpec's fixed arguments and its declared "
                                           r"hyper_parameters\)$"):
        load_and_validate(config)


def test_a_constructor_without_the_seed_the_workflow_passes_is_refused(tmp_path, monkeypatch, registries):
    from ocbench.config import load_and_validate

    knn_plugin(tmp_path, arguments="n_neighbors=5")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OcbenchError, match=r"^config methods: method 'knn' gives its detector 'seed' but "
                                           r"KNNDistance.__init__ does not take it; it takes: n_neighbors "):
        load_and_validate({"plugins": ["knn_plugin.py"], "methods": ["knn"], "datasets": {"wine": {}}})


@pytest.mark.parametrize("builds", ["encoder", "scratch", "shallow"])
def test_the_checked_arguments_are_those_the_factory_passes(builds, registries):
    from ocbench.config.checks import FACTORY_ARGUMENTS
    from ocbench.detectors import MethodSpec

    class Recorder:
        def __init__(self, **kwargs):
            self.kwargs = kwargs

    spec = MethodSpec("Recorder", builds, fixed={"objective": "x"})
    plugins.register_method("recorder", spec, Recorder)
    built = spec.factory({"lr": 0.1}, net="n", device="cpu", seed=3, autoencoder="ae.pt")
    assert sorted(built.kwargs) == sorted([*FACTORY_ARGUMENTS[builds], "objective", "lr"])


def test_a_plugin_datasets_missing_mirror_is_named_after_that_dataset(tmp_path, monkeypatch, registries):
    from ocbench.config import load_and_validate

    write_doc_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    config = {"plugins": ["toy_plugin.py"], "methods": ["mean_distance"],
              "datasets": {"two_blobs": {"mirror": str(tmp_path / "nowhere")}}}
    with pytest.raises(OcbenchError, match=f"^config datasets.two_blobs.mirror: folder {tmp_path}/nowhere does not "
                                           f"exist; put the raw files of dataset 'two_blobs' there, or remove mirror$"):
        load_and_validate(config)
    # Fashion-MNIST's message says which package holds its files
    config = {"methods": ["isoforest"], "datasets": {"fmnist": {"mirror": str(tmp_path / "nowhere")}}}
    with pytest.raises(OcbenchError, match=r"dataset 'fmnist' there \(apt-get install dataset-fashion-mnist puts them "
                                           r"in /usr/share/datasets/fashion-mnist\), or remove mirror$"):
        load_and_validate(config)

@pytest.mark.parametrize("flags, fragment", [
    ('"shallow", deep=True', "builds='shallow' fits on the inputs, or a hybrid on the pretrained encoder's codes, "
                             "and trains no network, so deep=True contradicts it; leave deep out"),
    ('"load", fits=True', "builds='load' scores with the pretrained autoencoder and fits nothing, so fits=True "
                          "contradicts it"),
    ('"encoder", hybrid=True', "so hybrid=True contradicts it; a hybrid is shallow"),
    ('"scratch", pretrained=True', "so pretrained=True contradicts it"),
    ('"shallow", training="network"', "training='network' has nothing to configure"),
    ('"encoder", training_opt_out=("loss",)', "training_opt_out names loss, which the 'network' block does not have"),
])
def test_contradictory_method_spec_flags_are_one_line_when_the_plugin_loads(tmp_path, monkeypatch, registries,
                                                                          flags, fragment):
    (tmp_path / "bad.py").write_text(
        "from ocbench.detectors import MethodSpec\n"
        f"MethodSpec('Mine', {flags})\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OcbenchError) as err:
        plugins.load_plugins(["bad.py"])
    message = str(err.value)
    assert message.startswith("plugins: bad.py: MethodSpec of detector 'Mine': ") and "\n" not in message
    assert fragment in message, message


def test_a_net_of_class_names_must_name_a_module_of_the_package(registries):
    from ocbench.nets import NetSpec

    with pytest.raises(OcbenchError, match=r"^unknown net module \(a module of ocbench.nets; a plugin's classes go "
                                           r"through NetSpec.from_classes\) 'my_nets'; allowed: .*lenet.*mlp"):
        NetSpec("my_nets", "Encoder", "Decoder", input_shape=(4,))


def test_a_missing_plugin_is_one_line_naming_it(tmp_path, monkeypatch, registries):
    from ocbench.config import load_and_validate

    monkeypatch.chdir(tmp_path)
    config = {"plugins": ["nowhere.py"], "methods": ["ocsvm"], "datasets": {"wine": {}}}
    with pytest.raises(OcbenchError, match=f"^plugins: plugin file nowhere.py does not exist "
                                           f"\\(a path is read from the working directory, {tmp_path}\\)$"):
        load_and_validate(config)
    config = {"plugins": ["no_such_ocbench_plugin"], "methods": ["ocsvm"], "datasets": {"wine": {}}}
    with pytest.raises(OcbenchError, match="^plugins: plugin module 'no_such_ocbench_plugin' is not importable"):
        load_and_validate(config)


# --------------------------------------------------------------------------- the worked example, through the workflow

@pytest.mark.workflow
def test_the_worked_example_runs_through_the_workflow(tmp_path):
    write_doc_files(tmp_path)
    check = subprocess.run([str(BIN / "ocbench"), "check-config", "experiment.yaml", "--snakefile", ""],
                           cwd=tmp_path, capture_output=True, text=True, env=env(), timeout=300)
    assert check.returncode == 0, check.stderr
    assert check.stdout.startswith("experiment.yaml: valid; 2 runs in 1 batch jobs")
    # the page's command: snakemake --snakefile /path/to/ocbench/Snakefile --cores 2 --configfile experiment.yaml
    result = subprocess.run([str(BIN / "snakemake"), "--snakefile", str(ROOT / "Snakefile"), "--cores", "2",
                             "--configfile", "experiment.yaml"],
                            cwd=tmp_path, capture_output=True, text=True, env=env(), timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    with open(tmp_path / "results" / "tables" / "runs.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["dataset"], row["method"], row["status"]) for row in rows] == [
        ("two_blobs", "mean_distance", "ok"), ("two_blobs", "isoforest", "ok")]
    aurocs = {row["method"]: float(row["auroc"]) for row in rows}
    assert all(0.0 <= value <= 1.0 and not math.isnan(value) for value in aurocs.values())
    # outliers 4 standard deviations away in every feature: the mean's distance ranks them all first
    assert aurocs["mean_distance"] > 0.95


@pytest.mark.workflow
def test_a_plugin_method_added_to_a_copy_of_config_yaml_runs_everywhere(tmp_path):
    """docs/extending.md's one change to the shipped default: the plugin and its method's name."""
    write_doc_files(tmp_path)
    default = (ROOT / "config.yaml").read_text()
    methods = yaml.safe_load(default)["methods"]
    config = yaml.safe_load(default)
    config.update(plugins=["toy_plugin.py"], methods=methods + ["mean_distance"])
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    check = subprocess.run([str(BIN / "ocbench"), "check-config", "config.yaml", "--snakefile", ""],
                           cwd=tmp_path, capture_output=True, text=True, env=env(), timeout=300)
    assert check.returncode == 0, check.stderr
    # the default's 360 runs, and mean_distance beside them: 10 mnist5k classes, wbc and wine in both settings, 2 seeds
    assert check.stdout.startswith("config.yaml: valid; 388 runs in 10 batch jobs")
    # one of its batch jobs, run: wine in the semi-supervised setting, seed 1
    manifest = "results/batches/wine/semi_supervised/seed1/cpu.json"
    result = subprocess.run([str(BIN / "snakemake"), manifest, "--snakefile", str(ROOT / "Snakefile"), "--cores", "2",
                             "--configfile", "config.yaml"],
                            cwd=tmp_path, capture_output=True, text=True, env=env(), timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    runs = json.loads((tmp_path / manifest).read_text())["runs"]
    assert ("mean_distance", "ok") in [(run["method"], run["status"]) for run in runs]


FAILING_PLUGIN = """\
from ocbench.detectors import MethodSpec
from ocbench.detectors.base import Detector
from ocbench.plugins import register_method


class AlwaysFails(Detector):
    def __init__(self, seed=0):
        self.seed = seed

    def fit(self, X, y=None):
        raise ValueError("this method always fails")


register_method("always_fails", MethodSpec("AlwaysFails", "shallow", short_name="Fails"), AlwaysFails)
"""


@pytest.mark.workflow
def test_a_panel_whose_every_run_failed_still_gets_its_figure_and_the_summary_lists_the_failures(tmp_path):
    (tmp_path / "failing_plugin.py").write_text(FAILING_PLUGIN)
    config = {"plugins": ["failing_plugin.py"], "seeds": [1], "methods": ["isoforest", "always_fails"],
              "settings": {"one_class": {}, "polluted": {"ratio_pollution": 0.05, "exclude_methods": ["isoforest"]}},
              "datasets": {"wine": {}}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    result = subprocess.run([str(BIN / "snakemake"), "--snakefile", str(ROOT / "Snakefile"), "--cores", "2",
                             "--configfile", "config.yaml"],
                            cwd=tmp_path, capture_output=True, text=True, env=env(), timeout=900)
    # the workflow finishes, then names the failed runs and exits 3 (outcome.FAILED_RUNS_EXIT)
    assert result.returncode == 3, result.stdout[-3000:] + result.stderr[-5000:]
    assert result.stderr.strip().splitlines()[-1].startswith("2 runs failed: ")
    results = tmp_path / "results"
    assert (results / "figures" / "roc" / "wine" / "polluted.png").is_file()  # every run of it failed
    with open(results / "tables" / "runs.csv") as handle:
        status = {(row["setting"], row["method"]): row["status"] for row in csv.DictReader(handle)}
    assert status == {("one_class", "isoforest"): "ok", ("one_class", "always_fails"): "failed",
                      ("polluted", "always_fails"): "failed"}
    summary = (results / "summary.md").read_text()
    failures = summary[summary.index("## Failed runs"):]
    assert failures.count("this method always fails") == 2 and "polluted" in failures


@pytest.mark.workflow
def test_the_deep_worked_example_runs_through_the_workflow(tmp_path):
    write_doc_files(tmp_path)
    # the page's command: snakemake --snakefile /path/to/ocbench/Snakefile --cores 2 --configfile deep_experiment.yaml
    result = subprocess.run([str(BIN / "snakemake"), "--snakefile", str(ROOT / "Snakefile"), "--cores", "2",
                             "--configfile", "deep_experiment.yaml"],
                            cwd=tmp_path, capture_output=True, text=True, env=env(), timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    with open(tmp_path / "results" / "tables" / "runs.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["dataset"], row["method"], row["status"]) for row in rows] == [
        ("two_blobs", "robust_deep_svdd", "ok"), ("two_blobs", "deep_svdd_oneclass", "ok")]
    assert all(0.0 <= float(row["auroc"]) <= 1.0 for row in rows)
    # both started from the one pretrained autoencoder of the plugin's net
    assert len(list((tmp_path / "results").rglob("two_blobs_tiny/cpu/autoencoder.pt"))) == 1
