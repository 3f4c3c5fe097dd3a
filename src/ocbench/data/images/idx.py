"""The IDX files of MNIST, Fashion-MNIST and KMNIST (and the letters inside EMNIST's archive,
``emnist.py``): their verification by content, the lookup in a mirror folder, the fetch.

Raw files are verified by their *content*: a mirror's files may be recompressed (Debian's
``dataset-fashion-mnist`` package does so), which changes the gzip bytes that
torchvision's md5 sums cover but not the data. A gzip file is accepted when its md5
matches torchvision's list, or when its decompressed content has the expected IDX
header and shape and the sha256 pinned here. Verified files are placed where the
torchvision class looks (``{raw_dir}/MNIST/raw/``), so that ``prepare`` loads them with
``download=False``.

Where no content sum is pinned (KMNIST, EMNIST), only the publisher's archives are
accepted, by torchvision's md5 sums; the sha256 of the content they hold is then recorded
beside the files (``.ocbench-sha256.json``), so a later fetch knows them intact.
"""
from __future__ import annotations

import gzip
import json
import math
import os
import zlib
from pathlib import Path

from ...errors import OcbenchError
from ...files import md5_bytes, one_line, sha256_bytes, write_bytes
from .fetching import check_mirror_folder, download_with_torchvision

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
            return check_idx_shape(name, path, file, gzip.decompress(raw))  # the publisher's archive, byte for byte
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
    check_idx_shape(name, path, file, content)
    if sha256_bytes(content) != sha256:
        raise OcbenchError(f"dataset {name!r}: {path} has the right shape but not the original content of {file} "
                           f"(sha256 {sha256_bytes(content)[:16]}…, expected {sha256[:16]}…)")
    return content


def check_idx_shape(name: str, path, file: str, content: bytes) -> bytes:
    """``content`` if it is an unsigned-byte IDX array of the shape ``file`` must hold; else raise naming
    ``path`` (a file, or an archive's member)."""
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


def idx_folder(raw_dir: Path, class_name: str) -> Path:
    return raw_dir / class_name / "raw"  # where torchvision's MNIST-like classes look


def _recorded(folder: Path) -> dict:
    try:
        return json.loads((folder / RECORD).read_text())
    except (OSError, ValueError):
        return {}


def idx_files_ok(name: str, folder: Path) -> bool:
    """Whether ``folder`` holds every file of ``name``, verified already (a fetch then does nothing)."""
    recorded = _recorded(folder)
    return all((folder / file).is_file() and sha256_bytes((folder / file).read_bytes()) == (sha256 or recorded.get(file))
               for file, (_, sha256) in IDX_CONTENT[name].items())


def write_idx_files(name: str, folder: Path, verified: dict[str, bytes]) -> None:
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


def idx_mirror_check(name: str, class_name: str):
    """A mirror of an IDX set must hold its four files (names only: checked before any job)."""
    def check(mirror: Path) -> None:
        for file in IDX_CONTENT[name]:
            _find_idx_in_mirror(name, Path(mirror), class_name, file)

    return check


def idx_fetcher(name: str, class_name: str):
    """``fetch`` of an IDX set through torchvision's class ``class_name``: downloaded, or from a mirror."""
    def fetch(raw_dir: Path, mirror: Path | None) -> None:
        import torchvision.datasets  # here: the registry is read without torchvision

        dataset_class = getattr(torchvision.datasets, class_name)
        folder = idx_folder(Path(raw_dir), class_name)
        if idx_files_ok(name, folder):
            return
        gz_md5 = {os.path.splitext(file)[0]: md5 for file, md5 in dataset_class.resources}
        if mirror is None:
            download_with_torchvision(name, dataset_class, Path(raw_dir), list(dataset_class.mirrors),
                                      [f + ".gz" for f in IDX_CONTENT[name]])
            # torchvision keeps the .gz beside what it decompressed: check that one by its md5
            verified = {file: verify_idx_file(name, folder / f"{file}.gz" if (folder / f"{file}.gz").is_file()
                                              else folder / file, file, gz_md5.get(file))
                        for file in IDX_CONTENT[name]}
            write_idx_files(name, folder, verified)
            return
        mirror = Path(mirror)
        check_mirror_folder(name, mirror)
        verified = {file: verify_idx_file(name, _find_idx_in_mirror(name, mirror, class_name, file), file,
                                          gz_md5.get(file))
                    for file in IDX_CONTENT[name]}
        write_idx_files(name, folder, verified)

    return fetch
