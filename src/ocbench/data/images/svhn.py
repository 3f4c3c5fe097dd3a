"""SVHN: torchvision's train and test ``.mat`` files, checked by torchvision's md5 sums (which cover
their content); the extra set is not used."""
from __future__ import annotations

from pathlib import Path

from ...errors import OcbenchError
from ...files import md5_file, write_bytes
from .fetching import check_mirror_folder, download_with_torchvision


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


def fetch_svhn(raw_dir: Path, mirror: Path | None) -> None:
    from torchvision.datasets import SVHN  # here: the registry is read without torchvision

    name, raw_dir, files = "svhn", Path(raw_dir), _svhn_files(SVHN)
    if all((raw_dir / f).is_file() and md5_file(raw_dir / f) == md5 for f, md5 in files.items()):
        return
    if mirror is None:
        for part in ("train", "test"):
            download_with_torchvision(name, SVHN, raw_dir, [SVHN.split_list[part][0]], list(files), split=part)
        return
    mirror = Path(mirror)
    check_mirror_folder(name, mirror)
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
