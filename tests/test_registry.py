"""The registries as plain data: hyper-parameter declarations against the detectors, the
declared dataset sizes against the data, and config parsing without torch or scikit-learn."""
import inspect
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ocbench.config import FIXED_BY_METHOD, WORKFLOW_ARGUMENTS
from ocbench.data.preprocess import DATA_KINDS, PREPROCESSINGS
from ocbench.data.source import stratified_train_sizes
from ocbench.data.sources import DATASETS
from ocbench.detectors import METHODS
from ocbench.detectors.params import Param
from ocbench.nets import NETS

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- hyper-parameter declarations

@pytest.mark.parametrize("method", sorted(METHODS))
def test_declared_hyper_parameters_are_the_detector_signature(method):
    spec = METHODS[method]
    if not spec.fits:  # scores with the pretrained autoencoder, configured under training.autoencoder
        assert spec.hyper_parameters == {} and spec.ignores == ()
        return
    signature = [name for name, p in inspect.signature(spec.detector.__init__).parameters.items()
                 if name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    own = set(signature) - set(WORKFLOW_ARGUMENTS) - set(FIXED_BY_METHOD)
    assert not set(spec.hyper_parameters) & set(spec.ignores)
    assert set(spec.hyper_parameters) | set(spec.ignores) == own


def test_one_class_and_soft_boundary_deep_svdd_take_different_names():
    one_class, soft = METHODS["deep_svdd_oneclass"], METHODS["deep_svdd_softboundary"]
    assert one_class.detector is soft.detector
    assert set(soft.hyper_parameters) - set(one_class.hyper_parameters) == {"nu", "warm_up_epochs"}


def test_declared_choices_are_the_detectors_own():
    from ocbench.detectors.multi_radius import CLUSTERINGS, FINCH_METRICS
    from ocbench.detectors.ocnn import ACTIVATIONS, FORMULATIONS

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


SHIPPED_CONFIGS = ["config.yaml"] + sorted(str(p.relative_to(ROOT)) for p in (ROOT / "workflow" / "experiments").glob("*.yaml"))


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
