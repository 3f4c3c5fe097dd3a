"""The registries as plain data: hyper-parameter declarations against the detectors, the
schema and the config check, the declared dataset sizes against the data, and config
parsing without torch or scikit-learn."""
import copy
import inspect
import json
import math
import subprocess
import sys

import numpy as np
import pytest

from ocbench.config import FIXED_BY_METHOD, WORKFLOW_ARGUMENTS, load_and_validate
from ocbench.data.preprocess import DATA_KINDS, PREPROCESSINGS
from ocbench.data.dataset_source import stratified_train_sizes
from ocbench.data.registry import DATASETS
from ocbench.detectors import METHODS
from ocbench.errors import OcbenchError
from ocbench.hyperparameters import TRAINING, Param
from ocbench.nets import NETS

from helpers.paths import ROOT
from helpers.shipped_configs import SHIPPED_CONFIGS


# --------------------------------------------------------------------------- hyper-parameter declarations

def constructor_arguments(cls) -> dict:
    return {name: p for name, p in inspect.signature(cls.__init__).parameters.items()
            if name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


@pytest.mark.parametrize("method", sorted(METHODS))
def test_declared_hyper_parameters_are_the_detector_signature(method):
    spec = METHODS[method]
    if not spec.fits:  # scores with the pretrained autoencoder, configured under training.autoencoder
        assert spec.hyper_parameters == {} and spec.ignores == ()
        return
    # a method's fixed arguments (ocnn_authors_code's formulation) are its name's, not the config's
    own = (set(constructor_arguments(spec.detector)) - set(WORKFLOW_ARGUMENTS) - set(FIXED_BY_METHOD)
           - (set(spec.fixed) - set(spec.ignores)))
    assert not set(spec.hyper_parameters) & set(spec.ignores)
    assert set(spec.hyper_parameters) | set(spec.ignores) == own


def probes(param: Param) -> list:
    """Values at and beyond the edges of a declaration, and of the wrong type."""
    if param.kind == "bool":
        values = [True, False, 0, 1, "true"]
    elif param.kind == "choice":
        values = [*param.choices, "no-such-choice", 1]
    else:
        edges = [edge + step for edge in (param.low, param.high) if edge is not None for step in (-1, 0, 1)]
        edges += [0.5 * (param.low + param.high)] if None not in (param.low, param.high) else [1.5, 2]
        if param.kind in ("int", "ints"):
            edges = [int(v) for v in edges] + [2.5, 3.0]
        else:
            edges += [1e-9 + (param.low or 0), math.nan, math.inf]
        values = edges + ["3", True] if param.kind in ("int", "number") else \
            [[v] for v in edges] + [[], [edges[1], edges[1]], 3]
    return values + [None]


def probe_config(method: str, name: str, value) -> dict:
    """The smallest config that runs ``method``, with ``method_params.<method>.<name>`` set to ``value``."""
    labelled = METHODS[method].needs_labels
    setting = {"ratio_known_outlier": 0.05, "n_known_outlier_classes": 1} if labelled else {}
    small = {"batch_size": 32}  # wine has 71 training samples
    return {"methods": [method], "settings": {"s": setting}, "datasets": {"wine": {"settings": ["s"]}},
            "training": {"network": small, "autoencoder": small}, "method_params": {method: {name: value}}}


def config_accepts(config: dict) -> bool:
    try:
        load_and_validate(copy.deepcopy(config))
    except OcbenchError:
        return False
    return True


@pytest.mark.parametrize("method", sorted(m for m in METHODS if METHODS[m].fits))
def test_schema_registry_and_constructor_agree_on_every_parameter(method):
    """For every hyper-parameter of every method: the registry's declaration is the detector's own, its
    default is the constructor's, and the config check and the detector's own check accept exactly the
    values the declaration accepts (probed at and beyond its edges)."""
    spec = METHODS[method]
    cls = spec.detector
    arguments = constructor_arguments(cls)
    for name, param in spec.hyper_parameters.items():
        assert cls.hyper_parameters[name] == param, name
        assert arguments[name].default == param.default, name
        assert param.accepts(param.default), name
        for value in probes(param):
            expected = param.accepts(value)
            if name == "batch_size" and expected and value > 71:  # more than wine's 71 training samples
                continue
            assert config_accepts(probe_config(method, name, value)) == expected, (name, value)
            detector = cls(**{name: value})
            if expected:
                detector.check_hyper_parameters()
            else:
                with pytest.raises(OcbenchError, match=f"^{name} must be "):
                    detector.check_hyper_parameters()


@pytest.mark.parametrize("block", ["network", "autoencoder", "classifier"])
def test_schema_training_blocks_are_their_declarations(block):
    """The schema's training blocks: each declared name with the declared default filled in, and the
    config accepts exactly the values the declaration accepts; TrainConfig refuses the others."""
    from ocbench.config.schema import TRAINING_BLOCK_DECLARATIONS
    from ocbench.training import TrainConfig

    declarations = TRAINING_BLOCK_DECLARATIONS[block]
    filled = load_and_validate({"methods": ["ocsvm"], "datasets": {"wine": {}}})["training"][block]
    assert filled == {name: list(p.default) if isinstance(p.default, tuple) else p.default
                      for name, p in declarations.items()}
    for name, param in declarations.items():
        for value in probes(param):
            expected = param.accepts(value)
            config = {"methods": ["ocsvm"], "datasets": {"wine": {}}, "training": {block: {name: value}}}
            assert config_accepts(config) == expected, (name, value)
            if name in TRAINING:
                if expected:
                    TrainConfig(**{name: value})
                else:
                    with pytest.raises(OcbenchError, match=f"^{name} must be "):
                        TrainConfig(**{name: value})


def test_every_detector_class_takes_its_defaults_from_its_declarations():
    import ocbench.detectors as detectors

    for name in detectors.DETECTOR_MODULES:
        cls = getattr(detectors, name)
        arguments = constructor_arguments(cls)
        assert cls.hyper_parameters, name
        for argument, param in cls.hyper_parameters.items():
            assert arguments[argument].default == param.default, (name, argument)


def test_ssad_kappa_zero_is_refused_before_any_job_and_by_the_detector():
    from ocbench.detectors.ssad import SSAD

    config = probe_config("ssad", "kappa", 0)
    with pytest.raises(OcbenchError, match=r"^config method_params.ssad.kappa: 0 is not allowed for method 'ssad'; "
                                           r"allowed: a number > 0$"):
        load_and_validate(config)
    with pytest.raises(OcbenchError, match=r"^kappa must be a number > 0, got 0$"):
        SSAD(kappa=0).fit(np.zeros((4, 2)))


def test_one_class_and_soft_boundary_deep_svdd_take_different_names():
    one_class, soft = METHODS["deep_svdd_oneclass"], METHODS["deep_svdd_softboundary"]
    assert one_class.detector is soft.detector
    assert set(soft.hyper_parameters) - set(one_class.hyper_parameters) == {"nu", "warm_up_epochs"}


def test_declared_choices_are_the_detectors_own():
    from ocbench.detectors.multi_radius import CLUSTERINGS, FINCH_METRICS
    from ocbench.detectors.ocnn import FORMULATIONS
    from ocbench.nets.ocnn_head import ACTIVATIONS

    radius = METHODS["multi_radius_deep_svdd"].hyper_parameters
    assert radius["clusters"].choices == CLUSTERINGS
    assert radius["finch_metric"].choices == FINCH_METRICS
    assert METHODS["ocnn"].hyper_parameters["activation"].choices == tuple(ACTIVATIONS)
    assert METHODS["ocnn"].hyper_parameters["formulation"].choices == FORMULATIONS


@pytest.mark.parametrize("param, good, bad", [
    (Param("int", low=2), [2, 7], [1, 2.0, True, None, "3"]),
    (Param("number", low=0, high=1, low_open=True, high_open=True), [0.5, 1e-9], [0, 1, float("nan"), True]),
    (Param("number", low=0, high=0.5, low_open=True), [0.5], [0, 0.51]),
    (Param("numbers", low=0, low_open=True, nullable=True), [None, [0.1], (1, 2)], [[], [0.1, 0], [-1], 0.1]),
    (Param("ints", low=1, may_be_empty=True), [[], [50, 100]], [[0], [1.5], None]),
    (Param("ints", low=1, unique=True), [[50, 100]], [[50, 50]]),
    (Param("choice", choices=("sigmoid", "linear")), ["linear"], ["relu", None, 1]),
    (Param("bool"), [True, False], [0, 1, "true"]),
])
def test_param_accepts_exactly_its_range(param, good, bad):
    assert all(param.accepts(v) for v in good)
    assert not any(param.accepts(v) for v in bad)


def test_param_describes_what_is_allowed():
    assert Param("int", low=2).describe() == "an integer >= 2"
    assert Param("number", low=0, high=1, low_open=True, high_open=True).describe() == "a number in (0, 1)"
    assert Param("number", low=0, high=0.5, low_open=True).describe() == "a number in (0, 0.5]"
    assert Param("numbers", low=0, low_open=True, nullable=True).describe() == \
        "null (automatic) or a non-empty list of numbers > 0"
    assert Param("ints", low=1, may_be_empty=True, unique=True).describe() == "a list of distinct integers >= 1"
    assert Param("choice", choices=("a", "b")).describe() == "one of a, b"


# --------------------------------------------------------------------------- nets, preprocessings, datasets

def test_every_dataset_declares_its_sizes_and_its_defaults_fit_them():
    for name, source in DATASETS.items():
        assert source.sample_shape is not None and len(source.class_sizes) == len(source.classes), name
        assert tuple(NETS[source.default_net].input_shape) == source.sample_shape, name
        assert DATA_KINDS[source.default_preprocessing] == source.kind, name
    assert set(DATA_KINDS) == set(PREPROCESSINGS)


@pytest.mark.parametrize("name", ["mnist5k", "wbc", "wine"])
def test_declared_sizes_are_those_of_the_prepared_arrays(name, tmp_path):
    source = DATASETS[name]
    arrays = source.prepare(tmp_path)
    x, y = (arrays["x_train"], arrays["y_train"]) if source.kind == "image" else (arrays["x"], arrays["y"])
    assert x.shape[1:] == source.sample_shape
    assert tuple(np.bincount(y, minlength=len(source.classes))) == source.class_sizes


@pytest.mark.parametrize("name", ["wbc", "wine"])
def test_tabular_training_sizes_are_those_of_the_split(name, tmp_path):
    from ocbench.data.splits import make_split

    source = DATASETS[name]
    arrays = source.prepare(tmp_path)
    for seed in (1, 2):
        split = make_split(arrays, "tabular", [0], seed, ratio_pollution=0.02)
        info = json.loads(split["info"])
        test_counts = np.bincount(arrays["y"][split["test_idx"]], minlength=2)
        assert tuple(int(n) for n in np.array(source.class_sizes) - test_counts) == source.train_class_sizes()
        assert info["n_train_candidates"] == sum(source.train_class_sizes())


def test_stratified_train_sizes_hand_worked():
    # wine: 129 rows, floor(0.6 * 129) = 77 train; 77 * 119/129 = 71.03 and 77 * 10/129 = 5.97:
    # floors 71 + 5 = 76, the one left goes to the larger remainder (0.97, the outliers).
    assert stratified_train_sizes((119, 10), 0.6) == (71, 6)
    assert stratified_train_sizes((50, 50), 0.6) == (30, 30)


# --------------------------------------------------------------------------- light config parsing

HEAVY = ("torch", "sklearn", "torchvision", "matplotlib", "scipy", "pandas")


@pytest.mark.parametrize("path", SHIPPED_CONFIGS)
def test_config_parsing_imports_no_heavy_library(path):
    code = (
        "import sys, json\n"
        "from ocbench.config import load_config_file, runs\n"
        f"config = load_config_file({str(ROOT / path)!r})\n"
        "assert runs(config)\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert json.loads(out.stdout) == []


def test_every_detector_class_imports_from_the_package():
    """`from ocbench.detectors import OCNN` gives the class (no module-level name may shadow it)."""
    import inspect

    import ocbench.detectors as detectors
    from ocbench.detectors.base import Detector

    for name in detectors.DETECTOR_MODULES:
        cls = getattr(detectors, name)
        assert inspect.isclass(cls) and issubclass(cls, Detector), (name, cls)
