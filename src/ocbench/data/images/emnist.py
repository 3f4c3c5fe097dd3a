"""EMNIST letters: torchvision's one zip archive (``gzip.zip``, checked by its md5), from which only
the letters' IDX files are read, by name, and verified as ``idx.py`` verifies any IDX file."""
from __future__ import annotations

import gzip
import os
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ...errors import OcbenchError
from ...files import md5_file, one_line
from .fetching import check_mirror_folder, download_with_torchvision
from .idx import IDX_CONTENT, check_idx_shape, idx_files_ok, idx_folder, write_idx_files

EMNIST_SPLIT = "letters"
#: torchvision's EMNIST archive (the file name of ``EMNIST.url``; tests/unit/test_images.py checks they agree)
EMNIST_ARCHIVE = "gzip.zip"


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
                verified[file] = check_idx_shape(name, f"{archive} (member {member})", file, gzip.decompress(raw))
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        raise OcbenchError(f"dataset {name!r}: {archive} is not a readable zip archive ({one_line(exc)})") \
            from None
    write_idx_files(name, folder, verified)


def check_emnist_mirror(mirror: Path) -> None:
    """An EMNIST mirror must hold torchvision's archive, in the folder or as a torchvision root."""
    places = (Path(mirror), idx_folder(Path(mirror), "EMNIST"))
    if not any((place / EMNIST_ARCHIVE).is_file() for place in places):
        raise OcbenchError(f"dataset 'emnist_letters': mirror folder {mirror} has no {EMNIST_ARCHIVE} (looked in "
                           f"{' and '.join(map(str, places))}); it needs torchvision's EMNIST archive")


def fetch_emnist_letters(raw_dir: Path, mirror: Path | None) -> None:
    from torchvision.datasets import EMNIST  # here: the registry is read without torchvision

    name, folder = "emnist_letters", idx_folder(Path(raw_dir), "EMNIST")
    if idx_files_ok(name, folder):
        return
    archive_name = os.path.basename(EMNIST.url)
    if mirror is None:
        download_with_torchvision(name, EMNIST, Path(raw_dir), [EMNIST.url], [archive_name], split=EMNIST_SPLIT)
        _emnist_from_archive(name, folder / archive_name, EMNIST.md5, folder)  # torchvision keeps the archive
        return
    mirror = Path(mirror)
    check_mirror_folder(name, mirror)
    places = (mirror, idx_folder(mirror, "EMNIST"))  # a folder of its own, or a torchvision root
    archive = next((place / archive_name for place in places if (place / archive_name).is_file()), None)
    if archive is None:
        raise OcbenchError(f"dataset {name!r}: mirror folder {mirror} has no {archive_name} (looked in "
                           f"{' and '.join(map(str, places))}); it needs torchvision's EMNIST archive {EMNIST.url}")
    _emnist_from_archive(name, archive, EMNIST.md5, folder)


def letters_as_mnist(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What ``prepare`` changes: the images upright as MNIST's, the classes from 0."""
    # EMNIST's files hold each image transposed against MNIST's; its letters are labelled 1-26.
    return images.transpose(0, 1, 3, 2), labels - 1
