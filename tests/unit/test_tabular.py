"""Tabular datasets: the ODDS loader on small .mat files written here, and wbc/wine counts."""
import hashlib
import urllib.error
import urllib.request

import numpy as np
import pytest
import scipy.io

from ocbench.data import tabular
from ocbench.data.registry import DATASETS
from ocbench.errors import OcbenchError
from ocbench.nets import NETS

ODDS_NAMES = ["arrhythmia", "cardio", "satellite", "satimage-2", "shuttle", "thyroid"]


def _write_mat(path, **arrays):
    scipy.io.savemat(path, arrays)
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def cardio_mirror(tmp_path, monkeypatch):
    """A mirror folder holding a 6×3 cardio.mat (2 outliers), pinned in the table."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    x = np.arange(18, dtype=np.float64).reshape(6, 3)
    y = np.array([[0], [0], [1], [0], [1], [0]], dtype=np.float64)  # ODDS stores y as an N×1 double
    digest = _write_mat(mirror / "cardio.mat", X=x, y=y)
    monkeypatch.setitem(tabular.ODDS_FILES, "cardio", tabular.OddsFile("https://example.invalid/cardio.mat", digest))
    return mirror, x


def test_registry_lists_every_tabular_set_with_its_mlp():
    for name in ODDS_NAMES + ["wbc", "wine"]:
        source = DATASETS[name]
        assert (source.kind, source.classes) == ("tabular", ("normal", "outlier"))
        assert source.default_preprocessing == "standard_minmax"
        assert source.default_net == f"{name}_mlp" and source.default_net in NETS
    for name in ODDS_NAMES:
        assert len(tabular.ODDS_FILES[name].sha256) == 64


def _no_network(*args, **kwargs):
    raise AssertionError("no download expected")


def test_odds_file_from_mirror_is_verified_copied_and_read(tmp_path, cardio_mirror, monkeypatch):
    mirror, x = cardio_mirror
    monkeypatch.setattr(urllib.request, "urlopen", _no_network)
    raw_dir = tmp_path / "raw"
    source = DATASETS["cardio"]
    source.fetch(raw_dir, mirror)
    assert sorted(p.name for p in raw_dir.iterdir()) == ["cardio.mat"]  # no leftover .part file
    arrays = source.prepare(raw_dir)
    assert arrays["x"].dtype == np.float64 and arrays["y"].dtype == np.int64
    np.testing.assert_array_equal(arrays["x"], x)
    np.testing.assert_array_equal(arrays["y"], [0, 0, 1, 0, 1, 0])
    source.fetch(raw_dir, None)  # already there and verified: no download is attempted


def test_wrong_checksum_is_rejected_naming_file_and_both_hashes(tmp_path, cardio_mirror, monkeypatch):
    mirror, _ = cardio_mirror
    seen = tabular.ODDS_FILES["cardio"].sha256
    monkeypatch.setitem(tabular.ODDS_FILES, "cardio", tabular.OddsFile("https://example.invalid/cardio.mat", "0" * 64))
    raw_dir = tmp_path / "raw"
    with pytest.raises(OcbenchError) as error:
        tabular.fetch_odds("cardio", raw_dir, mirror)
    message = str(error.value)
    assert str(mirror / "cardio.mat") in message and "0" * 64 in message and seen in message
    assert list(raw_dir.iterdir()) == []  # the unverified copy is removed


def test_mirror_without_the_file_is_rejected(tmp_path):
    with pytest.raises(OcbenchError, match=r"holds no cardio\.mat.*datasets\.cardio\.mirror"):
        tabular.fetch_odds("cardio", tmp_path / "raw", tmp_path)


def test_offline_download_fails_fast_with_url_and_mirror_hint(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(OcbenchError) as error:
        DATASETS["thyroid"].fetch(tmp_path / "raw", None)
    message = str(error.value)
    assert "'thyroid'" in message and tabular.ODDS_FILES["thyroid"].url in message
    assert "datasets.thyroid.mirror" in message and "thyroid.mat" in message
    assert not (tmp_path / "raw" / "thyroid.mat.part").exists()


def test_mat_without_x_and_y_is_rejected_naming_the_keys(tmp_path):
    path = tmp_path / "cardio.mat"
    _write_mat(path, data=np.ones((3, 2)), labels=np.zeros(3))
    with pytest.raises(OcbenchError, match=r"'X' and 'y'; found: data, labels"):
        tabular.read_odds_mat(path)


def test_matlab_v73_file_needs_h5py_or_valid_hdf5(tmp_path):
    path = tmp_path / "cardio.mat"
    # The 128-byte MAT header of a v7.3 file (version 0x0200) followed by no valid HDF5.
    path.write_bytes(b"MATLAB 7.3 MAT-file".ljust(116, b" ") + bytes(8) + b"\x00\x02IM" + bytes(400))
    with pytest.raises(OcbenchError, match=r"cardio\.mat.*v7\.3"):
        tabular.read_odds_mat(path)


def test_labels_other_than_0_and_1_are_rejected(tmp_path):
    path = tmp_path / "cardio.mat"
    _write_mat(path, X=np.ones((3, 2)), y=np.array([0, 1, 2]))
    with pytest.raises(OcbenchError, match=r"found \[0, 1, 2\]"):
        tabular.read_odds_mat(path)


@pytest.mark.parametrize("name, n, n_outliers, n_features", [("wbc", 378, 21, 30), ("wine", 129, 10, 13)])
def test_sklearn_sets_counts_dtypes_and_determinism(tmp_path, name, n, n_outliers, n_features):
    source = DATASETS[name]
    source.fetch(tmp_path, None)  # offline: nothing to do
    arrays = source.prepare(tmp_path)
    assert arrays["x"].shape == (n, n_features) and arrays["x"].dtype == np.float64
    assert arrays["y"].dtype == np.int64 and set(np.unique(arrays["y"])) == {0, 1}
    assert int(arrays["y"].sum()) == n_outliers
    again = source.prepare(tmp_path)
    np.testing.assert_array_equal(arrays["x"], again["x"])
    np.testing.assert_array_equal(arrays["y"], again["y"])


def test_wbc_and_wine_outliers_come_from_the_right_classes():
    from sklearn.datasets import load_breast_cancer, load_wine

    cancer, wine = load_breast_cancer(), load_wine()
    wbc = tabular.prepare_wbc()
    benign = cancer.data[cancer.target == 1]
    np.testing.assert_array_equal(wbc["x"][wbc["y"] == 0], benign)  # every benign row, in order
    malignant = {row.tobytes() for row in cancer.data[cancer.target == 0]}
    assert all(row.tobytes() in malignant for row in wbc["x"][wbc["y"] == 1])

    wine_arrays = tabular.prepare_wine()
    np.testing.assert_array_equal(wine_arrays["x"][wine_arrays["y"] == 0], wine.data[wine.target != 0])
    class_1 = {row.tobytes() for row in wine.data[wine.target == 0]}
    assert all(row.tobytes() in class_1 for row in wine_arrays["x"][wine_arrays["y"] == 1])
